//! The machine's fonts, found once per process: for typst (the PDF) a font book whose fonts are
//! read from disk only when a document uses them, and for resvg (charts rasterised into the
//! docx) a fontdb over the same folders. Debian's fonts-noto-cjk gives Noto Serif/Sans CJK SC;
//! nothing is downloaded and no font is built into the binary.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use resvg::usvg::fontdb;
use typst::foundations::Bytes;
use typst::text::{Font, FontBook, FontInfo};
use typst::utils::LazyHash;

/// Where fonts are looked for: the folders in `DUCHA_FONT_DIRS` (separated by `:`), then the
/// system's.
pub(crate) fn font_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> =
        std::env::var_os("DUCHA_FONT_DIRS").map(|v| std::env::split_paths(&v).collect()).unwrap_or_default();
    dirs.extend(["/usr/share/fonts", "/usr/local/share/fonts"].map(PathBuf::from));
    dirs
}

fn is_font_file(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "ttf" | "otf" | "ttc" | "otc"))
}

/// Every font file under `dir`, sorted so that the book's order does not depend on the disk.
fn font_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            font_files(&p, out);
        } else if is_font_file(&p) {
            out.push(p);
        }
    }
}

/// A font file, read when one of its faces is first used.
struct FontFile {
    path: PathBuf,
    data: OnceLock<Option<Bytes>>,
}

/// One face: which file, which index in the collection, and the loaded font.
struct Slot {
    file: usize,
    index: u32,
    font: OnceLock<Option<Font>>,
}

/// The fonts typst may use.
pub(crate) struct TypstFonts {
    pub(crate) book: LazyHash<FontBook>,
    files: Vec<FontFile>,
    slots: Vec<Slot>,
    /// The folders looked in, for the error when no CJK font was found.
    pub(crate) searched: String,
}

impl TypstFonts {
    fn scan() -> TypstFonts {
        let dirs = font_dirs();
        let mut paths = Vec::new();
        for d in &dirs {
            font_files(d, &mut paths);
        }
        let mut book = FontBook::new();
        let mut files = Vec::new();
        let mut slots = Vec::new();
        for path in paths {
            // Read once to learn the faces; the data is dropped and read again on use.
            let Ok(data) = std::fs::read(&path) else { continue };
            let file = files.len();
            for (index, info) in FontInfo::iter(&data).enumerate() {
                book.push(info);
                slots.push(Slot { file, index: index as u32, font: OnceLock::new() });
            }
            files.push(FontFile { path, data: OnceLock::new() });
        }
        let searched = dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join("、");
        TypstFonts { book: LazyHash::new(book), files, slots, searched }
    }

    /// The face at `index` of the book, loaded on first use.
    pub(crate) fn font(&self, index: usize) -> Option<Font> {
        let slot = self.slots.get(index)?;
        slot.font
            .get_or_init(|| {
                let file = self.files.get(slot.file)?;
                let data = file.data.get_or_init(|| std::fs::read(&file.path).ok().map(Bytes::new)).clone()?;
                Font::new(data, slot.index)
            })
            .clone()
    }

    /// Whether a CJK family the template names is there.
    pub(crate) fn has_cjk(&self) -> bool {
        ["noto serif cjk sc", "noto sans cjk sc", "source han serif sc", "fangsong", "simsun", "simhei"]
            .iter()
            .any(|f| self.book.contains_family(f))
    }
}

pub(crate) fn typst_fonts() -> &'static TypstFonts {
    static FONTS: OnceLock<TypstFonts> = OnceLock::new();
    FONTS.get_or_init(TypstFonts::scan)
}

/// The font database for rasterising SVG charts.
pub(crate) fn svg_fontdb() -> Arc<fontdb::Database> {
    static DB: OnceLock<Arc<fontdb::Database>> = OnceLock::new();
    DB.get_or_init(|| {
        let mut db = fontdb::Database::new();
        for d in font_dirs() {
            db.load_fonts_dir(d);
        }
        db.set_sans_serif_family("Noto Sans CJK SC");
        db.set_serif_family("Noto Serif CJK SC");
        Arc::new(db)
    })
    .clone()
}

/// The FangSong faces the body may be set in (GB/T 9704 asks for 仿宋), in order: what Windows and
/// WPS machines have, then Debian's fonts-cwtex-fs.
pub const FANGSONG: [&str; 3] = ["FangSong", "FangSong_GB2312", "cwTeXFangSong"];

/// What the body of the PDF is set in when no FangSong face holds all of its characters.
pub const BODY_FALLBACK: &str = "Noto Serif CJK SC";

/// The face the body is set in, and why when it is not a FangSong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyFace {
    pub family: String,
    /// Whether it is a FangSong (仿宋) face.
    pub fangsong: bool,
    /// Said to whoever asked for the PDF when the body is not in FangSong.
    pub note: Option<String>,
}

impl TypstFonts {
    /// The characters of `text` (other than spaces and ASCII) that no face of `family` holds.
    fn missing(&self, family: &str, text: &str) -> Option<Vec<char>> {
        let faces: Vec<usize> = self.book.select_family(&family.to_lowercase()).collect();
        if faces.is_empty() {
            return None;
        }
        let mut missing: Vec<char> = text
            .chars()
            .filter(|c| !c.is_whitespace() && !c.is_ascii())
            .filter(|c| !faces.iter().any(|&i| self.book.info(i).is_some_and(|f| f.coverage.contains(*c as u32))))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        Some(missing)
    }

    /// The first FangSong face that is installed and holds every character of `text`; else the
    /// fallback, with a note naming what was found and what it lacks (a face missing some
    /// characters is not used: one word in two faces is worse than one plain face).
    pub(crate) fn body_face(&self, text: &str) -> BodyFace {
        let mut lacking = Vec::new();
        for family in FANGSONG {
            match self.missing(family, text) {
                Some(m) if m.is_empty() => return BodyFace { family: family.into(), fangsong: true, note: None },
                Some(m) => lacking.push(format!(
                    "{family} 缺少“{}”等 {} 个字",
                    m.iter().take(5).map(char::to_string).collect::<Vec<_>>().join("”“"),
                    m.len()
                )),
                None => {}
            }
        }
        let why = if lacking.is_empty() {
            format!("本机没有仿宋字体（{}）", FANGSONG.join("、"))
        } else {
            format!("本机的仿宋字体不全（{}）", lacking.join("；"))
        };
        BodyFace {
            family: BODY_FALLBACK.into(),
            fangsong: false,
            note: Some(format!(
                "{why}，PDF 正文改用 {BODY_FALLBACK}（宋体）；安装 FangSong_GB2312 等完整的仿宋字体后重新生成即为仿宋"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Debian's fonts-cwtex-fs (scripts/test.sh installs it) is a traditional-character FangSong:
    /// taken for a text it holds whole, passed over, with the reason, for simplified text.
    #[test]
    fn the_body_is_fangsong_only_where_a_fangsong_face_holds_every_character() {
        let fonts = typst_fonts();
        assert!(
            fonts.book.contains_family("cwtexfangsong"),
            "这个测试需要仿宋字体 cwTeXFangSong（apt-get install fonts-cwtex-fs；scripts/test.sh 会自动安装）"
        );
        let held = fonts.body_face("扶貧開發領導小組 2017年12月3日");
        assert_eq!((held.family.as_str(), held.fangsong, held.note), ("cwTeXFangSong", true, None));
        let simplified = fonts.body_face("江门市扶贫开发领导小组");
        assert_eq!((simplified.family.as_str(), simplified.fangsong), (BODY_FALLBACK, false));
        let note = simplified.note.unwrap_or_default();
        assert!(note.contains("cwTeXFangSong 缺少“") && note.contains("贫") && note.contains(BODY_FALLBACK), "{note}");
    }
}
