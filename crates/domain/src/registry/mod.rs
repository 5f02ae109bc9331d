//! The register of poor households (建档立卡): households, their members, their yearly income and
//! expenditure, and their status with its history.

mod change;
mod finance;
mod status;
mod vocab;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

pub use change::{ChangeKind, ChangePayload, ChangeRequest, ChangeStatus, ExitRefusal, MemberChangeReason, check_exit};
pub use finance::{FinanceForm, YearFinance, YearStandard};
pub use status::{HouseholdStatus, StatusChangeError};
pub use vocab::{Education, Health, HouseholdType, LabourAbility, PovertyCause, Relation, SchoolStage, Sex};

use crate::id_number::IdNumber;
use crate::labelled::Labelled;
use crate::validation::FieldErrors;

/// 两不愁三保障: whether each basic guarantee is secured for the household.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, Default)]
pub struct Guarantees {
    /// 不愁吃、不愁穿
    pub food_clothing: bool,
    /// 义务教育有保障
    pub compulsory_education: bool,
    /// 基本医疗有保障
    pub basic_medical: bool,
    /// 住房安全有保障
    pub safe_housing: bool,
    /// 饮水安全有保障
    pub safe_water: bool,
}

/// A registered household (贫困户).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Household {
    /// 户编号
    pub number: String,
    pub village_code: String,
    pub household_type: HouseholdType,
    pub main_cause: PovertyCause,
    /// At most two further causes.
    pub other_causes: Vec<PovertyCause>,
    pub guarantees: Guarantees,
    pub status: HouseholdStatus,
    pub identified_on: NaiveDate,
    pub address: String,
    pub phone: Option<String>,
    pub bank_account: Option<String>,
}

/// A member of a household (家庭成员). `id_number` is kept as written: the register inherits
/// numbers from older systems, and a wrong one is a finding to correct, not a reason to lose
/// the person. New entries go through [`MemberForm::validate`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Member {
    pub name: String,
    pub id_number: String,
    pub relation: Relation,
    pub sex: Sex,
    pub birth_date: NaiveDate,
    pub education: Education,
    pub school_stage: SchoolStage,
    /// Why a school-age child is not in school (illness, disability, …), if that is the case.
    pub out_of_school_reason: Option<String>,
    pub health: Health,
    pub labour_ability: LabourAbility,
    /// 参加城乡居民基本医疗保险
    pub medical_insurance: bool,
    pub phone: Option<String>,
}

/// A member as an import file gives it: its row, its sequence number if the file has one, and
/// what is wrong with it. A member with problems is read as written; if the registry holds
/// exactly that already, the problems are old ones (warnings), else they refuse the import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingMember {
    pub row: usize,
    pub seq: Option<i32>,
    pub member: Member,
    /// (field, message) pairs.
    pub problems: Vec<(String, String)>,
}

/// A household as an import file gives it, checked: the row it starts on, its facts, the status
/// the file gives (a new household takes it; for one already registered it must not differ), and
/// its members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingHousehold {
    pub row: usize,
    pub household: Household,
    pub status: Option<HouseholdStatus>,
    pub members: Vec<IncomingMember>,
}

/// Completed years of age on `on`.
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> u32 {
    let mut age = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age.max(0) as u32
}

/// A member as typed into a form or a spreadsheet row: text, to be checked as a whole.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct MemberForm {
    pub name: String,
    pub id_number: String,
    pub relation: String,
    pub sex: String,
    pub birth_date: String,
    pub education: String,
    pub school_stage: String,
    pub out_of_school_reason: String,
    pub health: String,
    pub labour_ability: String,
    pub medical_insurance: String,
    pub phone: String,
}

fn parse_vocab<T: Labelled>(errors: &mut FieldErrors, field: &str, text: &str) -> Option<T> {
    errors.take(field, T::parse(text))
}

/// "是/否", "1/0", "true/false", "on" (an HTML checkbox).
pub fn parse_yes_no(text: &str) -> Result<bool, String> {
    match text.trim() {
        "是" | "1" | "true" | "on" | "Y" | "y" => Ok(true),
        "否" | "0" | "false" | "" | "N" | "n" => Ok(false),
        other => Err(format!("“{other}”应填“是”或“否”")),
    }
}

impl MemberForm {
    /// The member as written, without the checks a new entry must pass (a wrong check digit, a sex
    /// that disagrees with the ID): how an export of legacy data reads back, so that a row the
    /// registry already holds can be recognised as unchanged. None if a field cannot be read at all.
    pub fn as_recorded(&self) -> Option<Member> {
        let id = crate::id_number::normalise(&self.id_number);
        let parsed = IdNumber::parse(&id).ok();
        let sex = match self.sex.trim() {
            "" => parsed.as_ref()?.sex(),
            s => Sex::parse(s).ok()?,
        };
        let birth_date = match self.birth_date.trim() {
            "" => parsed.as_ref()?.birth_date(),
            d => parse_date(d).ok()?,
        };
        let name = self.name.trim().to_string();
        let reason = self.out_of_school_reason.trim();
        let phone = self.phone.trim();
        (!name.is_empty() && !id.is_empty()).then_some(())?;
        Some(Member {
            name,
            id_number: id,
            relation: Relation::parse(&self.relation).ok()?,
            sex,
            birth_date,
            education: Education::parse(&self.education).ok()?,
            school_stage: SchoolStage::parse(&self.school_stage).ok()?,
            out_of_school_reason: (!reason.is_empty()).then(|| reason.to_string()),
            health: Health::parse(&self.health).ok()?,
            labour_ability: LabourAbility::parse(&self.labour_ability).ok()?,
            medical_insurance: parse_yes_no(&self.medical_insurance).ok()?,
            phone: (!phone.is_empty()).then(|| phone.to_string()),
        })
    }

    /// Check every field; sex and birth date may be left empty and are then read from the ID
    /// number, and when filled they must agree with it.
    pub fn validate(&self, today: NaiveDate) -> Result<Member, FieldErrors> {
        let mut e = FieldErrors::default();
        let name = self.name.trim().to_string();
        if name.is_empty() {
            e.add("name", "姓名不能为空");
        } else if name.chars().count() > 50 {
            e.add("name", "姓名过长（最多 50 个字）");
        }
        let id = e.take("id_number", IdNumber::parse(&self.id_number));
        let relation = parse_vocab::<Relation>(&mut e, "relation", &self.relation);
        let sex_in = (!self.sex.trim().is_empty()).then(|| parse_vocab::<Sex>(&mut e, "sex", &self.sex)).flatten();
        let birth_in = (!self.birth_date.trim().is_empty())
            .then(|| {
                e.take(
                    "birth_date",
                    NaiveDate::parse_from_str(self.birth_date.trim(), "%Y-%m-%d")
                        .map_err(|_| format!("出生日期“{}”应写成 1980-01-31 的样子", self.birth_date.trim())),
                )
            })
            .flatten();
        if let Some(id) = &id {
            for (field, msg) in id.mismatches(sex_in, birth_in) {
                e.add(field, msg);
            }
            if id.birth_date() > today {
                e.add("id_number", format!("身份证号中的出生日期 {} 晚于今天", id.birth_date()));
            }
        }
        if let (Some(rel), Some(id)) = (relation, &id)
            && let Some(implied) = rel.implied_sex()
            && implied != id.sex()
        {
            e.add("relation", format!("与户主关系“{rel}”与性别“{}”不符", id.sex()));
        }
        let education = parse_vocab::<Education>(&mut e, "education", &self.education);
        let school_stage = parse_vocab::<SchoolStage>(&mut e, "school_stage", &self.school_stage);
        let health = parse_vocab::<Health>(&mut e, "health", &self.health);
        let labour_ability = parse_vocab::<LabourAbility>(&mut e, "labour_ability", &self.labour_ability);
        let medical_insurance = e.take("medical_insurance", parse_yes_no(&self.medical_insurance));
        let phone = check_phone(&mut e, "phone", self.phone.trim());
        let reason = self.out_of_school_reason.trim();
        e.into_result(|| {
            let id = id?;
            Some(Member {
                name,
                sex: id.sex(),
                birth_date: id.birth_date(),
                id_number: id.as_str().to_string(),
                relation: relation?,
                education: education?,
                school_stage: school_stage?,
                out_of_school_reason: (!reason.is_empty()).then(|| reason.to_string()),
                health: health?,
                labour_ability: labour_ability?,
                medical_insurance: medical_insurance?,
                phone,
            })
        })
    }
}

/// A household as typed into a form or a spreadsheet row. Its status is not here: a new
/// household starts as 识别 and moves only through dynamic management.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct HouseholdForm {
    pub number: String,
    pub village_code: String,
    pub household_type: String,
    pub main_cause: String,
    pub other_cause_1: String,
    pub other_cause_2: String,
    pub food_clothing: String,
    pub compulsory_education: String,
    pub basic_medical: String,
    pub safe_housing: String,
    pub safe_water: String,
    pub identified_on: String,
    pub address: String,
    pub phone: String,
    pub bank_account: String,
}

/// "2017-03-01", also "2017/3/1" and "2017年3月1日" as people write them.
pub fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let t = text.trim();
    // The common case, without a format parser: imports check a date per member.
    let b = t.as_bytes();
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        let num = |r: std::ops::Range<usize>| t.get(r).and_then(|x| x.parse::<u32>().ok());
        if let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) {
            return NaiveDate::from_ymd_opt(y as i32, m, d).ok_or_else(|| format!("日期“{t}”应写成 2017-03-01 的样子"));
        }
    }
    let normalised: String = t.replace(['年', '月', '/', '.'], "-").trim_end_matches('日').to_string();
    NaiveDate::parse_from_str(&normalised, "%Y-%m-%d").map_err(|_| format!("日期“{t}”应写成 2017-03-01 的样子"))
}

pub(crate) fn check_phone(errors: &mut FieldErrors, field: &str, phone: &str) -> Option<String> {
    let ok =
        phone.is_empty() || ((7..=20).contains(&phone.len()) && phone.bytes().all(|b| b.is_ascii_digit() || b == b'-'));
    if !ok {
        errors.add(field, format!("电话“{phone}”格式不对：应为 7 至 20 位数字"));
    }
    (!phone.is_empty()).then(|| phone.to_string())
}

impl HouseholdForm {
    /// Check every field against the division list; the village must be a village or
    /// community that exists.
    pub fn validate(&self, tree: &crate::region::RegionTree, today: NaiveDate) -> Result<Household, FieldErrors> {
        let mut e = FieldErrors::default();
        let number = self.number.trim().to_string();
        if number.chars().count() > 32 || !number.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            e.add("number", "户编号只能由字母、数字和“-”组成，最多 32 位");
        }
        let code = self.village_code.trim();
        match tree.get(code) {
            Some(r) if r.level == crate::region::RegionLevel::Village => {}
            Some(r) => e.add("village_code", format!("“{}”是{}，请选择村（居）", r.name, r.level.label())),
            None if code.is_empty() => e.add("village_code", "请选择所在村（居）"),
            None => e.add("village_code", format!("村（居）代码“{code}”不存在")),
        }
        let household_type = parse_vocab::<HouseholdType>(&mut e, "household_type", &self.household_type);
        let main_cause = parse_vocab::<PovertyCause>(&mut e, "main_cause", &self.main_cause);
        let mut other_causes = Vec::new();
        for (field, text) in [("other_cause_1", &self.other_cause_1), ("other_cause_2", &self.other_cause_2)] {
            if text.trim().is_empty() {
                continue;
            }
            if let Some(c) = parse_vocab::<PovertyCause>(&mut e, field, text) {
                if Some(c) == main_cause || other_causes.contains(&c) {
                    e.add(field, format!("致贫原因“{c}”重复"));
                } else {
                    other_causes.push(c);
                }
            }
        }
        let mut flag = |field: &str, text: &str| e.take(field, parse_yes_no(text));
        let guarantees = (
            flag("food_clothing", &self.food_clothing),
            flag("compulsory_education", &self.compulsory_education),
            flag("basic_medical", &self.basic_medical),
            flag("safe_housing", &self.safe_housing),
            flag("safe_water", &self.safe_water),
        );
        let identified_on = e.take("identified_on", parse_date(&self.identified_on));
        if identified_on.is_some_and(|d| d > today) {
            e.add("identified_on", "识别日期不能晚于今天");
        }
        let address = self.address.trim().to_string();
        if address.chars().count() > 200 {
            e.add("address", "地址过长（最多 200 个字）");
        }
        let phone = check_phone(&mut e, "phone", self.phone.trim());
        let account: String = self.bank_account.chars().filter(|c| !c.is_whitespace()).collect();
        let account_ok =
            account.is_empty() || ((12..=30).contains(&account.len()) && account.bytes().all(|b| b.is_ascii_digit()));
        if !account_ok {
            e.add("bank_account", "银行账号应为 12 至 30 位数字");
        }
        e.into_result(|| {
            let (Some(fc), Some(ce), Some(bm), Some(sh), Some(sw)) = guarantees else { return None };
            Some(Household {
                number,
                village_code: code.to_string(),
                household_type: household_type?,
                main_cause: main_cause?,
                other_causes,
                guarantees: Guarantees {
                    food_clothing: fc,
                    compulsory_education: ce,
                    basic_medical: bm,
                    safe_housing: sh,
                    safe_water: sw,
                },
                status: HouseholdStatus::Identified,
                identified_on: identified_on?,
                address,
                phone,
                bank_account: (!account.is_empty()).then_some(account),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(id: &str, sex: &str, birth: &str, relation: &str) -> MemberForm {
        MemberForm {
            name: "陈大文".into(),
            id_number: id.into(),
            relation: relation.into(),
            sex: sex.into(),
            birth_date: birth.into(),
            education: "初中".into(),
            school_stage: "非在校生".into(),
            health: "健康".into(),
            labour_ability: "有劳动能力".into(),
            medical_insurance: "是".into(),
            ..Default::default()
        }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2017, 11, 6).unwrap()
    }

    #[test]
    fn a_good_member_takes_sex_and_birth_date_from_the_id() {
        let id = IdNumber::compose("440781", NaiveDate::from_ymd_opt(1970, 5, 1).unwrap(), 123).unwrap();
        let m = form(id.as_str(), "", "", "户主").validate(today()).unwrap();
        assert_eq!(m.sex, Sex::Male);
        assert_eq!(m.birth_date, NaiveDate::from_ymd_opt(1970, 5, 1).unwrap());
        assert_eq!(age_on(m.birth_date, today()), 47);
    }

    #[test]
    fn a_household_form_names_an_unknown_village_and_every_other_wrong_field() {
        let tree = crate::region::RegionTree::new(
            crate::region::parse_region_file(crate::region::JIANGMEN_CSV.as_bytes()).unwrap(),
        );
        let mut f = HouseholdForm {
            village_code: "440781111210".into(),
            household_type: "一般贫困户".into(),
            main_cause: "因病".into(),
            other_cause_1: "缺技术".into(),
            food_clothing: "是".into(),
            compulsory_education: "是".into(),
            basic_medical: "是".into(),
            safe_housing: "否".into(),
            safe_water: "是".into(),
            identified_on: "2016年5月3日".into(),
            ..Default::default()
        };
        let h = f.validate(&tree, today()).unwrap();
        assert_eq!(h.other_causes, [PovertyCause::LackOfSkills]);
        assert!(!h.guarantees.safe_housing);
        assert_eq!(h.identified_on, NaiveDate::from_ymd_opt(2016, 5, 3).unwrap());
        f.village_code = "440781111999".into();
        f.other_cause_2 = "因病".into();
        f.identified_on = "2018-01-01".into();
        let e = f.validate(&tree, today()).unwrap_err();
        assert_eq!(e.get("village_code"), Some("村（居）代码“440781111999”不存在"));
        assert!(e.get("other_cause_2").is_some_and(|m| m.contains("重复")));
        assert!(e.get("identified_on").is_some());
        f.village_code = "440781111".into();
        assert!(
            f.validate(&tree, today()).unwrap_err().get("village_code").is_some_and(|m| m.contains("请选择村（居）"))
        );
    }

    #[test]
    fn every_wrong_field_is_named_at_once() {
        let id = IdNumber::compose("440781", NaiveDate::from_ymd_opt(1970, 5, 1).unwrap(), 123).unwrap();
        let mut f = form(id.as_str(), "女", "1970-05-02", "之女");
        f.health = "很好".into();
        let e = f.validate(today()).unwrap_err();
        assert!(e.get("sex").is_some_and(|m| m.contains("身份证号表明为“男”")), "{e:?}");
        assert!(e.get("birth_date").is_some(), "{e:?}");
        assert!(e.get("relation").is_some(), "{e:?}");
        assert!(e.get("health").is_some_and(|m| m.contains("健康状况“很好”")), "{e:?}");
        let bad = form("440781197005011230", "", "", "户主").validate(today()).unwrap_err();
        assert!(bad.get("id_number").is_some(), "{bad:?}");
    }
}
