//! The register of poor households (建档立卡): households, their members, their yearly income and
//! expenditure, and their status with its history.

mod finance;
mod status;
mod vocab;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

pub use finance::{YearFinance, YearStandard};
pub use status::{HouseholdStatus, StatusChangeError};
pub use vocab::{
    Education, Health, HouseholdType, LabourAbility, PovertyCause, Relation, SchoolStage, Sex,
};

use crate::id_number::IdNumber;
use crate::labelled::Labelled;
use crate::validation::FieldErrors;

/// 两不愁三保障: whether each basic guarantee is secured for the household.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
pub struct MemberForm {
    pub name: String,
    pub id_number: String,
    pub relation: String,
    pub sex: String,
    pub birth_date: String,
    pub education: String,
    pub school_stage: String,
    #[serde(default)]
    pub out_of_school_reason: String,
    pub health: String,
    pub labour_ability: String,
    #[serde(default)]
    pub medical_insurance: String,
    #[serde(default)]
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
        let sex_in = (!self.sex.trim().is_empty())
            .then(|| parse_vocab::<Sex>(&mut e, "sex", &self.sex))
            .flatten();
        let birth_in = (!self.birth_date.trim().is_empty())
            .then(|| {
                e.take(
                    "birth_date",
                    NaiveDate::parse_from_str(self.birth_date.trim(), "%Y-%m-%d").map_err(|_| {
                        format!(
                            "出生日期“{}”应写成 1980-01-31 的样子",
                            self.birth_date.trim()
                        )
                    }),
                )
            })
            .flatten();
        if let Some(id) = &id {
            for (field, msg) in id.mismatches(sex_in, birth_in) {
                e.add(field, msg);
            }
            if id.birth_date() > today {
                e.add(
                    "id_number",
                    format!("身份证号中的出生日期 {} 晚于今天", id.birth_date()),
                );
            }
        }
        if let (Some(rel), Some(id)) = (relation, &id)
            && let Some(implied) = rel.implied_sex()
            && implied != id.sex()
        {
            e.add(
                "relation",
                format!("与户主关系“{rel}”与性别“{}”不符", id.sex()),
            );
        }
        let education = parse_vocab::<Education>(&mut e, "education", &self.education);
        let school_stage = parse_vocab::<SchoolStage>(&mut e, "school_stage", &self.school_stage);
        let health = parse_vocab::<Health>(&mut e, "health", &self.health);
        let labour_ability =
            parse_vocab::<LabourAbility>(&mut e, "labour_ability", &self.labour_ability);
        let medical_insurance = e.take("medical_insurance", parse_yes_no(&self.medical_insurance));
        let phone = self.phone.trim();
        let phone_ok = phone.is_empty()
            || ((7..=20).contains(&phone.len())
                && phone.bytes().all(|b| b.is_ascii_digit() || b == b'-'));
        if !phone_ok {
            e.add("phone", format!("电话“{phone}”格式不对"));
        }
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
                phone: (!phone.is_empty()).then(|| phone.to_string()),
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
        let id =
            IdNumber::compose("440781", NaiveDate::from_ymd_opt(1970, 5, 1).unwrap(), 123).unwrap();
        let m = form(id.as_str(), "", "", "户主").validate(today()).unwrap();
        assert_eq!(m.sex, Sex::Male);
        assert_eq!(m.birth_date, NaiveDate::from_ymd_opt(1970, 5, 1).unwrap());
        assert_eq!(age_on(m.birth_date, today()), 47);
    }

    #[test]
    fn every_wrong_field_is_named_at_once() {
        let id =
            IdNumber::compose("440781", NaiveDate::from_ymd_opt(1970, 5, 1).unwrap(), 123).unwrap();
        let mut f = form(id.as_str(), "女", "1970-05-02", "之女");
        f.health = "很好".into();
        let e = f.validate(today()).unwrap_err();
        assert!(
            e.get("sex")
                .is_some_and(|m| m.contains("身份证号表明为“男”")),
            "{e:?}"
        );
        assert!(e.get("birth_date").is_some(), "{e:?}");
        assert!(e.get("relation").is_some(), "{e:?}");
        assert!(
            e.get("health")
                .is_some_and(|m| m.contains("健康状况“很好”")),
            "{e:?}"
        );
        let bad = form("440781197005011230", "", "", "户主")
            .validate(today())
            .unwrap_err();
        assert!(bad.get("id_number").is_some(), "{bad:?}");
    }
}
