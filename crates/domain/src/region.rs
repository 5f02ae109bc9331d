//! Administrative divisions (行政区划): city → district (市(区)) → town or street (镇/街道)
//! → village or community (村/居委会), identified by the statistical division codes, whose
//! digits nest (a town's code begins with its district's). Also the tolerant resolution of
//! names as they are written in documents ("海晏镇", "环市街道办") to codes.

use std::collections::HashMap;
use std::fmt;

use serde::Serialize;

/// The level of a division, known from the length of its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RegionLevel {
    City,
    District,
    Town,
    Village,
}

impl RegionLevel {
    pub const ALL: [RegionLevel; 4] = [Self::City, Self::District, Self::Town, Self::Village];

    pub fn code_len(self) -> usize {
        match self {
            Self::City => 4,
            Self::District => 6,
            Self::Town => 9,
            Self::Village => 12,
        }
    }

    pub fn from_code_len(len: usize) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.code_len() == len)
    }

    /// The word used in the region files and the API (`level=town`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::City => "city",
            Self::District => "district",
            Self::Town => "town",
            Self::Village => "village",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::City => "市",
            Self::District => "市(区)",
            Self::Town => "镇(街)",
            Self::Village => "村(居)",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == s.trim())
    }
}

/// A division code: digits only, 4, 6, 9 or 12 of them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct RegionCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegionCodeError {
    #[error("区划代码“{0}”只能由数字组成")]
    NotDigits(String),
    #[error("区划代码“{0}”的位数不对：市 4 位、市(区) 6 位、镇(街) 9 位、村(居) 12 位")]
    BadLength(String),
}

impl RegionCode {
    pub fn parse(text: &str) -> Result<Self, RegionCodeError> {
        let t = text.trim();
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(RegionCodeError::NotDigits(t.to_string()));
        }
        if RegionLevel::from_code_len(t.len()).is_none() {
            return Err(RegionCodeError::BadLength(t.to_string()));
        }
        Ok(Self(t.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A well-formed city code that no division has ("0000"), for a scope that holds nothing.
    pub(crate) fn no_division() -> Self {
        Self("0000".to_string())
    }

    pub fn level(&self) -> RegionLevel {
        // Parsing guarantees one of the four lengths.
        RegionLevel::from_code_len(self.0.len()).unwrap_or(RegionLevel::Village)
    }

    /// The code of the enclosing division at `level`, if this code is at or below it.
    pub fn truncate(&self, level: RegionLevel) -> Option<RegionCode> {
        (self.0.len() >= level.code_len()).then(|| Self(self.0[..level.code_len()].to_string()))
    }

    /// Whether `other` lies inside this division (or is it).
    pub fn contains(&self, other: &RegionCode) -> bool {
        other.0.starts_with(&self.0)
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What sort of division it is, read from the statistical code's digits (GB/T 10114 ranges):
/// towns 001–099 are streets, 100–199 towns, 200–399 townships, 400 and up special areas
/// (development zones, a prison, a forest farm); villages 001–199 and 400–499 are urban
/// communities, 200–399 and 500–599 rural villages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionKind {
    City,
    /// 市辖区
    UrbanDistrict,
    /// 县级市
    CountyCity,
    /// 街道
    Street,
    /// 镇
    Town,
    /// 乡
    Township,
    /// 开发区、园区、监狱、林场 …: neither street nor town; no poor households, never sampled.
    SpecialArea,
    /// 居委会 / 社区
    Community,
    /// 村委会
    Village,
}

impl RegionKind {
    pub fn of(code: &RegionCode, name: &str) -> Self {
        // Every code has at least 4 digits, so the last three exist.
        let tail: u32 = code.0[code.0.len() - 3..].parse().unwrap_or(0);
        match code.level() {
            RegionLevel::City => Self::City,
            RegionLevel::District if name.ends_with('市') => Self::CountyCity,
            RegionLevel::District => Self::UrbanDistrict,
            RegionLevel::Town => match tail {
                1..=99 => Self::Street,
                100..=199 => Self::Town,
                200..=399 => Self::Township,
                _ => Self::SpecialArea,
            },
            RegionLevel::Village => match tail {
                200..=399 | 500..=599 => Self::Village,
                _ => Self::Community,
            },
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::City => "city",
            Self::UrbanDistrict => "urban_district",
            Self::CountyCity => "county_city",
            Self::Street => "street",
            Self::Town => "town",
            Self::Township => "township",
            Self::SpecialArea => "special_area",
            Self::Community => "community",
            Self::Village => "village",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::City,
            Self::UrbanDistrict,
            Self::CountyCity,
            Self::Street,
            Self::Town,
            Self::Township,
            Self::SpecialArea,
            Self::Community,
            Self::Village,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::City => "地级市",
            Self::UrbanDistrict => "市辖区",
            Self::CountyCity => "县级市",
            Self::Street => "街道",
            Self::Town => "镇",
            Self::Township => "乡",
            Self::SpecialArea => "特殊区域",
            Self::Community => "居委会",
            Self::Village => "村委会",
        }
    }

    /// Towns where registered rural poor households can live (and that sampling may draw).
    pub fn is_rural_town(self) -> bool {
        matches!(self, Self::Town | Self::Township)
    }
}

/// One division.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Region {
    pub code: RegionCode,
    pub name: String,
    pub level: RegionLevel,
    /// The enclosing division; for a city, the province prefix (e.g. "44"), which is not itself a row.
    pub parent_code: String,
    pub kind: RegionKind,
}

impl Region {
    pub fn new(code: RegionCode, name: &str, parent_code: &str) -> Self {
        let kind = RegionKind::of(&code, name);
        Self {
            level: code.level(),
            code,
            name: name.trim().to_string(),
            parent_code: parent_code.trim().to_string(),
            kind,
        }
    }
}

/// A problem at one place of a region file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("第 {line} 行“{field}”：{message}")]
pub struct RegionFileError {
    pub line: u64,
    pub field: &'static str,
    pub message: String,
}

const HEADER: [&str; 4] = ["code", "name", "level", "parent_code"];

/// Divisions one file may list.
pub const MAX_REGIONS: usize = 1_000_000;

/// Read a division list in the format `code,name,level,parent_code` (the shipped Jiangmen file's
/// format). Every row is checked; all problems are returned, each with its line and field, and
/// nothing is returned unless the whole file is right.
pub fn parse_region_file<R: std::io::Read>(reader: R) -> Result<Vec<Region>, Vec<RegionFileError>> {
    let mut rdr = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(reader);
    let mut errors = Vec::new();
    let err = |line: u64, field: &'static str, message: String| RegionFileError { line, field, message };
    match rdr.headers() {
        Ok(h) => {
            let got: Vec<&str> = h.iter().map(|s| s.trim().trim_start_matches('\u{feff}')).collect();
            if got != HEADER {
                return Err(vec![err(1, "表头", format!("应为“{}”，实为“{}”", HEADER.join(","), got.join(",")))]);
            }
        }
        Err(e) => return Err(vec![err(1, "表头", format!("无法读取：{e}"))]),
    }
    let mut regions: Vec<Region> = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for (i, rec) in rdr.records().enumerate() {
        let line = i as u64 + 2;
        // All of China's divisions, villages included, are fewer than a million.
        if i >= MAX_REGIONS {
            errors.push(err(line, "整行", format!("区划超过 {MAX_REGIONS} 个的上限，这不是一个城市的区划表")));
            break;
        }
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                errors.push(err(line, "整行", format!("无法读取：{e}")));
                continue;
            }
        };
        if rec.len() != 4 {
            errors.push(err(line, "整行", format!("应有 4 列，实有 {} 列", rec.len())));
            continue;
        }
        let (code, name, level, parent) = (&rec[0], rec[1].trim(), rec[2].trim(), rec[3].trim());
        let code = match RegionCode::parse(code) {
            Ok(c) => c,
            Err(e) => {
                errors.push(err(line, "code", e.to_string()));
                continue;
            }
        };
        if name.is_empty() {
            errors.push(err(line, "name", "名称不能为空".into()));
        } else if name.chars().count() > 50 {
            errors.push(err(line, "name", "名称过长（最多 50 个字）".into()));
        }
        match RegionLevel::parse(level) {
            Some(l) if l == code.level() => {}
            Some(l) => errors.push(err(
                line,
                "level",
                format!("级别“{level}”要求 {} 位代码，而代码 {code} 是 {} 位", l.code_len(), code.as_str().len()),
            )),
            None => {
                errors.push(err(line, "level", format!("级别“{level}”无法识别，可填 city、district、town、village")))
            }
        }
        if !code.as_str().starts_with(parent) || parent.is_empty() || parent.len() >= code.as_str().len() {
            errors.push(err(line, "parent_code", format!("上级代码“{parent}”不是代码 {code} 的前缀")));
        }
        if let Some(first) = seen.insert(code.as_str().to_string(), line) {
            errors.push(err(line, "code", format!("代码 {code} 与第 {first} 行重复")));
        }
        regions.push(Region::new(code, name, parent));
    }
    // Parents must be in the file (a city's parent is its province, which is not listed).
    for (i, r) in regions.iter().enumerate() {
        if r.level != RegionLevel::City && !seen.contains_key(&r.parent_code) {
            let line = seen.get(r.code.as_str()).copied().unwrap_or(i as u64 + 2);
            errors.push(err(line, "parent_code", format!("上级代码 {} 在文件中不存在", r.parent_code)));
        }
    }
    if regions.is_empty() && errors.is_empty() {
        errors.push(err(2, "整行", "文件中没有区划".into()));
    }
    if errors.is_empty() {
        Ok(regions)
    } else {
        errors.sort_by_key(|e| e.line);
        Err(errors)
    }
}

/// The outcome of resolving a name written in a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Resolution {
    /// The name is exactly one division's name.
    Exact {
        region: Region,
    },
    /// The name was taken to mean this division; `note` says what was corrected.
    Corrected {
        region: Region,
        note: String,
    },
    /// Several divisions fit equally well; nothing is guessed.
    Ambiguous {
        candidates: Vec<Region>,
    },
    NotFound,
}

/// All divisions of one list, indexed for hierarchy queries and name resolution.
#[derive(Debug, Clone, Default)]
pub struct RegionTree {
    regions: Vec<Region>,
    by_code: HashMap<String, usize>,
    children: HashMap<String, Vec<usize>>,
}

impl RegionTree {
    pub fn new(mut regions: Vec<Region>) -> Self {
        regions.sort_by(|a, b| a.code.cmp(&b.code));
        let mut by_code = HashMap::new();
        let mut children: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, r) in regions.iter().enumerate() {
            by_code.insert(r.code.as_str().to_string(), i);
            children.entry(r.parent_code.clone()).or_default().push(i);
        }
        Self { regions, by_code, children }
    }

    pub fn all(&self) -> &[Region] {
        &self.regions
    }

    pub fn get(&self, code: &str) -> Option<&Region> {
        self.by_code.get(code).map(|&i| &self.regions[i])
    }

    pub fn at_level(&self, level: RegionLevel) -> impl Iterator<Item = &Region> {
        self.regions.iter().filter(move |r| r.level == level)
    }

    pub fn children(&self, code: &str) -> impl Iterator<Item = &Region> {
        self.children.get(code).into_iter().flatten().map(|&i| &self.regions[i])
    }

    /// The chain from the top division down to `code`'s parent.
    pub fn ancestors(&self, code: &str) -> Vec<&Region> {
        let mut out = Vec::new();
        let mut cur = self.get(code).map(|r| r.parent_code.as_str());
        while let Some(p) = cur.and_then(|c| self.get(c)) {
            out.push(p);
            cur = Some(p.parent_code.as_str());
        }
        out.reverse();
        out
    }

    /// Everything below `code`, optionally only at one level, in code order.
    pub fn descendants(&self, code: &str, level: Option<RegionLevel>) -> Vec<&Region> {
        self.regions
            .iter()
            .filter(|r| r.code.as_str() != code && r.code.as_str().starts_with(code))
            .filter(|r| level.is_none_or(|l| r.level == l))
            .collect()
    }

    /// "江门市/台山市/海宴镇".
    pub fn path(&self, code: &str) -> Option<String> {
        let me = self.get(code)?;
        let mut names: Vec<&str> = self.ancestors(code).iter().map(|r| r.name.as_str()).collect();
        names.push(&me.name);
        Some(names.join("/"))
    }

    /// Resolve a name as written in a document to one division, tolerating what documents do:
    /// a trailing 办/办事处/人民政府, a missing or extra 镇/街道 suffix, a path like "台山市/海晏镇"
    /// or "台山市海晏镇", and one wrong character (海晏镇 for 海宴镇). Anything that fits more than
    /// one division comes back as candidates.
    pub fn resolve(&self, name: &str, level: Option<RegionLevel>) -> Resolution {
        self.resolve_among(name, level, |_| true)
    }

    /// `resolve`, among the divisions `keep` lets through (a user's scope): a name elsewhere
    /// is not found, and a name shared with a division outside is not ambiguous.
    pub fn resolve_among(&self, name: &str, level: Option<RegionLevel>, keep: impl Fn(&Region) -> bool) -> Resolution {
        let input: String = name.chars().filter(|c| !c.is_whitespace()).collect();
        if input.is_empty() {
            return Resolution::NotFound;
        }
        // A written path narrows the search to the enclosing division.
        let (within, last) = self.split_path(&input);
        let pool: Vec<&Region> = self
            .regions
            .iter()
            .filter(|r| level.is_none_or(|l| r.level == l))
            .filter(|r| within.as_ref().is_none_or(|w| w.contains(&r.code) && *w != r.code))
            .filter(|r| keep(r))
            .collect();
        let exact: Vec<&Region> = pool.iter().copied().filter(|r| r.name == last).collect();
        if let Some(res) = Self::decide(exact, |_| None) {
            return res;
        }
        let stripped = strip_office_suffix(&last);
        let core = core_name(stripped);
        // A written suffix (镇, 街道, 村委会 …) says what kind of division is meant.
        let family = suffix_family(stripped);
        let pool: Vec<&Region> =
            pool.into_iter().filter(|r| family.is_none() || suffix_family(&r.name) == family).collect();
        let same_core: Vec<&Region> = pool.iter().copied().filter(|r| core_name(&r.name) == core).collect();
        if let Some(res) = Self::decide(same_core, |r| Some(format!("“{last}”按区划名“{}”（{}）处理", r.name, r.code)))
        {
            return res;
        }
        let core_len = core.chars().count();
        if core_len >= 2 {
            let near: Vec<&Region> = pool
                .iter()
                .copied()
                .filter(|r| {
                    let rc = core_name(&r.name);
                    rc.chars().count() == core_len && rc.chars().zip(core.chars()).filter(|(a, b)| a != b).count() == 1
                })
                .collect();
            if let Some(res) = Self::decide(near, |r| {
                Some(format!("“{last}”与区划名“{}”相差一字，按 {} {} 处理", r.name, r.code, r.name))
            }) {
                return res;
            }
        }
        Resolution::NotFound
    }

    /// The town (镇/街道) a sheet names, by its code or its name as documents write it, among
    /// the towns of `scope`: its code, and a note when the name was read as another. The error
    /// says what to write instead.
    pub fn town_in_scope(&self, text: &str, scope: &crate::access::Scope) -> Result<(String, Option<String>), String> {
        self.in_scope(text, &[RegionLevel::Town], scope)
    }

    /// The same, for a division at one of `levels` (a district, or a district or town).
    pub fn in_scope(
        &self,
        text: &str,
        levels: &[RegionLevel],
        scope: &crate::access::Scope,
    ) -> Result<(String, Option<String>), String> {
        let what = levels
            .iter()
            .map(|l| match l {
                RegionLevel::City => "市",
                RegionLevel::District => "市（区）",
                RegionLevel::Town => "镇（街）",
                RegionLevel::Village => "村（居）",
            })
            .collect::<Vec<_>>()
            .join("或");
        let text = text.trim();
        if text.is_empty() {
            return Err(format!("请填写{what}"));
        }
        let path = |code: &str| self.path(code).unwrap_or_else(|| code.to_string());
        if text.bytes().all(|b| b.is_ascii_digit()) {
            return match self.get(text) {
                Some(r) if levels.contains(&r.level) && scope.contains(text) => Ok((text.to_string(), None)),
                Some(r) if levels.contains(&r.level) => Err(format!("{text}（{}）不在您的辖区内", path(text))),
                Some(r) => Err(format!("{text} 是{}（{}）的代码，这里应填写{what}", r.level.label(), path(text))),
                None => Err(format!("{what}代码 {text} 不存在")),
            };
        }
        // The name is read against the whole list first, so that another district's town
        // written exactly is refused as such, not read as a look-alike of the user's own.
        let found = match levels {
            [one] => self.resolve(text, Some(*one)),
            _ => self.resolve_among(text, None, |r| levels.contains(&r.level)),
        };
        let outside = |r: &Region| Err(format!("“{text}”是{}，不在您的辖区内", path(r.code.as_str())));
        match found {
            Resolution::Exact { region } if scope.contains(region.code.as_str()) => {
                Ok((region.code.as_str().to_string(), None))
            }
            Resolution::Corrected { region, note } if scope.contains(region.code.as_str()) => {
                Ok((region.code.as_str().to_string(), Some(note)))
            }
            Resolution::Exact { region } | Resolution::Corrected { region, .. } => outside(&region),
            Resolution::Ambiguous { candidates } => {
                let mine: Vec<&Region> = candidates.iter().filter(|c| scope.contains(c.code.as_str())).collect();
                match mine.as_slice() {
                    [one] => Ok((one.code.as_str().to_string(), None)),
                    [] => Err(format!("“{text}”不是您辖区内的{what}")),
                    many => Err(format!(
                        "“{text}”可指多个{what}：{}，请写明所属市(区)或填写代码",
                        many.iter()
                            .map(|c| format!("{}（{}）", path(c.code.as_str()), c.code))
                            .collect::<Vec<_>>()
                            .join("、")
                    )),
                }
            }
            Resolution::NotFound => Err(format!("“{text}”不是您辖区内的{what}")),
        }
    }

    fn decide(found: Vec<&Region>, note: impl Fn(&Region) -> Option<String>) -> Option<Resolution> {
        match found.as_slice() {
            [] => None,
            [one] => Some(match note(one) {
                None => Resolution::Exact { region: (*one).clone() },
                Some(note) => Resolution::Corrected { region: (*one).clone(), note },
            }),
            many => Some(Resolution::Ambiguous { candidates: many.iter().map(|r| (*r).clone()).collect() }),
        }
    }

    /// Split "台山市/海晏镇" or "台山市海晏镇" into the enclosing division and the last name.
    fn split_path(&self, input: &str) -> (Option<RegionCode>, String) {
        let parts: Vec<&str> = input.split(['/', '／']).filter(|p| !p.is_empty()).collect();
        let mut within: Option<RegionCode> = None;
        let mut last = parts.last().copied().unwrap_or(input).to_string();
        for part in &parts[..parts.len().saturating_sub(1)] {
            if let Some(r) =
                self.regions.iter().find(|r| r.name == *part && within.as_ref().is_none_or(|w| w.contains(&r.code)))
            {
                within = Some(r.code.clone());
            }
        }
        // A name glued to its district's ("台山市海晏镇"): only district and city names are long
        // and distinctive enough to peel off safely.
        loop {
            let prefix = self.regions.iter().filter(|r| r.level <= RegionLevel::District).find(|r| {
                last.starts_with(&r.name)
                    && last.len() > r.name.len()
                    && within.as_ref().is_none_or(|w| w.contains(&r.code))
            });
            match prefix {
                Some(r) => {
                    last = last[r.name.len()..].to_string();
                    within = Some(r.code.clone());
                }
                None => break,
            }
        }
        (within, last)
    }
}

fn strip_office_suffix(name: &str) -> &str {
    ["人民政府", "政府", "办事处", "办"].iter().find_map(|s| name.strip_suffix(s)).unwrap_or(name)
}

/// Which kind of division a name's suffix names, with its variants folded together.
fn suffix_family(name: &str) -> Option<&'static str> {
    const FAMILIES: [(&str, &str); 12] = [
        ("村民委员会", "村"),
        ("居民委员会", "居"),
        ("村委会", "村"),
        ("居委会", "居"),
        ("社区", "居"),
        ("街道", "街"),
        ("街", "街"),
        ("镇", "镇"),
        ("乡", "乡"),
        ("村", "村"),
        ("区", "区"),
        ("市", "市"),
    ];
    FAMILIES.iter().find(|(s, _)| name.ends_with(s)).map(|(_, f)| *f)
}

/// A name without its kind suffix, so that 海宴、海宴镇 and 环市街、环市街道 compare equal.
fn core_name(name: &str) -> &str {
    const SUFFIXES: [&str; 12] =
        ["村民委员会", "居民委员会", "村委会", "居委会", "社区", "街道", "街", "镇", "乡", "区", "市", "村"];
    SUFFIXES.iter().find_map(|s| name.strip_suffix(s).filter(|c| !c.is_empty())).unwrap_or(name)
}

/// The Jiangmen division list shipped with ducha (public statistical division codes).
pub const JIANGMEN_CSV: &str = include_str!("../../../data/regions-jiangmen.csv");

#[cfg(test)]
mod tests {
    use super::*;

    fn jiangmen() -> RegionTree {
        RegionTree::new(parse_region_file(JIANGMEN_CSV.as_bytes()).expect("shipped file parses"))
    }

    #[test]
    fn jiangmen_has_7_districts_82_towns_and_their_kinds() {
        let t = jiangmen();
        assert_eq!(t.at_level(RegionLevel::District).count(), 7);
        assert_eq!(t.at_level(RegionLevel::Town).count(), 82);
        assert_eq!(t.at_level(RegionLevel::Village).count(), 1348);
        let count = |k| t.at_level(RegionLevel::Town).filter(|r| r.kind == k).count();
        assert_eq!(count(RegionKind::Street), 12);
        assert_eq!(count(RegionKind::Town), 61);
        assert_eq!(count(RegionKind::SpecialArea), 9);
        assert_eq!(t.get("440784401").map(|r| r.kind), Some(RegionKind::SpecialArea)); // the prison
        assert_eq!(t.get("440781").map(|r| r.kind), Some(RegionKind::CountyCity));
        assert_eq!(t.get("440703").map(|r| r.kind), Some(RegionKind::UrbanDistrict));
    }

    #[test]
    fn hierarchy_queries() {
        let t = jiangmen();
        assert_eq!(t.path("440781111").as_deref(), Some("江门市/台山市/海宴镇"));
        let anc: Vec<&str> = t.ancestors("440781111").iter().map(|r| r.code.as_str()).collect();
        assert_eq!(anc, ["4407", "440781"]);
        assert_eq!(t.descendants("440703", Some(RegionLevel::Town)).len(), 6);
        assert!(t.descendants("440781111", None).iter().all(|r| r.level == RegionLevel::Village));
        assert_eq!(t.children("4407").count(), 7);
    }

    #[test]
    fn resolves_names_as_documents_write_them() {
        let t = jiangmen();
        match t.resolve("海晏镇", None) {
            Resolution::Corrected { region, note } => {
                assert_eq!(region.code.as_str(), "440781111");
                assert_eq!(region.name, "海宴镇");
                assert!(note.contains("海宴镇"), "{note}");
            }
            other => panic!("expected a correction, got {other:?}"),
        }
        assert!(
            matches!(t.resolve("海宴镇", None), Resolution::Exact { region } if region.code.as_str() == "440781111")
        );
        assert!(
            matches!(t.resolve("环市街道办", None), Resolution::Corrected { region, .. } if region.code.as_str() == "440703006")
        );
        assert!(
            matches!(t.resolve("台山市海晏镇", None), Resolution::Corrected { region, .. } if region.code.as_str() == "440781111")
        );
        assert!(
            matches!(t.resolve("江门市/台山市/海宴", None), Resolution::Corrected { region, .. } if region.code.as_str() == "440781111")
        );
        assert_eq!(t.resolve("北京市", None), Resolution::NotFound);
    }

    #[test]
    fn a_town_is_looked_up_only_within_the_users_scope() {
        use crate::access::Scope;
        let t = jiangmen();
        let taishan = Scope::Region(RegionCode::parse("440781").expect("code"));
        let pengjiang = Scope::Region(RegionCode::parse("440703").expect("code"));
        assert_eq!(t.town_in_scope("海宴镇", &taishan), Ok(("440781111".to_string(), None)));
        let (code, note) = t.town_in_scope("台山市海晏镇", &taishan).expect("read with a note");
        assert_eq!(code, "440781111");
        assert!(note.is_some_and(|n| n.contains("海宴镇")));
        assert_eq!(t.town_in_scope("440781111", &Scope::All), Ok(("440781111".to_string(), None)));
        // Another district's town, by name or by code, is not the user's to name.
        assert_eq!(
            t.town_in_scope("海宴镇", &pengjiang),
            Err("“海宴镇”是江门市/台山市/海宴镇，不在您的辖区内".to_string())
        );
        assert_eq!(
            t.town_in_scope("440781111", &pengjiang),
            Err("440781111（江门市/台山市/海宴镇）不在您的辖区内".to_string())
        );
        let district = t.town_in_scope("440781", &Scope::All).unwrap_err();
        assert!(district.contains("是市(区)") && district.contains("应填写镇（街）"), "{district}");
        // Another district's town written exactly is refused, never read as a look-alike of
        // the user's own (大泽镇 of 新会 is one character from 台山's 大江镇).
        assert!(t.get("440781100").is_some_and(|r| r.name == "大江镇"));
        assert_eq!(t.town_in_scope("大泽镇", &taishan).unwrap_err(), "“大泽镇”是江门市/新会区/大泽镇，不在您的辖区内");
        assert!(t.town_in_scope("无此镇", &taishan).unwrap_err().contains("不是您辖区内"));
        assert!(t.town_in_scope("环市街道", &pengjiang).is_ok());
        // Funds go to a district or a town: either is found, within scope.
        let both = [RegionLevel::District, RegionLevel::Town];
        assert_eq!(t.in_scope("台山市", &both, &Scope::All), Ok(("440781".to_string(), None)));
        assert_eq!(t.in_scope("海宴镇", &both, &taishan), Ok(("440781111".to_string(), None)));
        assert_eq!(t.in_scope("台山市", &both, &pengjiang), Err("“台山市”是江门市/台山市，不在您的辖区内".to_string()));
        assert!(t.in_scope("440781111200", &both, &Scope::All).is_err(), "a village is neither");
    }

    #[test]
    fn an_ambiguous_name_returns_candidates_not_a_guess() {
        let t = jiangmen();
        // Village names repeat across towns.
        let dup = t
            .at_level(RegionLevel::Village)
            .find(|r| t.at_level(RegionLevel::Village).filter(|o| o.name == r.name).count() > 1)
            .expect("Jiangmen repeats some village names");
        match t.resolve(&dup.name, Some(RegionLevel::Village)) {
            Resolution::Ambiguous { candidates } => {
                assert!(candidates.len() >= 2);
                assert!(candidates.iter().all(|c| c.name == dup.name));
            }
            other => panic!("expected candidates, got {other:?}"),
        }
    }

    #[test]
    fn bad_rows_are_reported_by_line_and_field_and_nothing_is_returned() {
        let file = "code,name,level,parent_code\n4407,江门市,city,44\n440703,蓬江区,district,4407\n44070X,坏区,district,4407\n440703002,白沙街道,village,440703\n440799001,孤儿街道,town,440799\n";
        let errs = parse_region_file(file.as_bytes()).unwrap_err();
        let shown: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
        assert!(shown.iter().any(|s| s.starts_with("第 4 行“code”")), "{shown:?}");
        assert!(shown.iter().any(|s| s.starts_with("第 5 行“level”")), "{shown:?}");
        assert!(shown.iter().any(|s| s.starts_with("第 6 行“parent_code”")), "{shown:?}");
        let bad_header = parse_region_file("id,name\n".as_bytes()).unwrap_err();
        assert_eq!(bad_header[0].line, 1);
    }
}
