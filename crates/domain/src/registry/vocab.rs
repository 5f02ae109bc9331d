//! The registry's closed vocabularies, with the labels of the national 建档立卡 forms.

use crate::labelled_enum;

labelled_enum! {
    pub enum Sex: "性别" { Male => ("male", "男"), Female => ("female", "女") }
}

labelled_enum! {
    /// 贫困属性
    pub enum HouseholdType: "贫困户属性" {
        General => ("general", "一般贫困户"),
        Dibao => ("dibao", "低保贫困户"),
        Wubao => ("wubao", "五保贫困户"),
    }
}

impl HouseholdType {
    /// On the welfare roll (低保 or 五保): welfare measures (兜底保障) are for these households.
    pub fn on_welfare_roll(self) -> bool {
        matches!(self, Self::Dibao | Self::Wubao)
    }
}

labelled_enum! {
    /// 致贫原因
    pub enum PovertyCause: "致贫原因" {
        Illness => ("illness", "因病"),
        Disability => ("disability", "因残"),
        Schooling => ("schooling", "因学"),
        Disaster => ("disaster", "因灾"),
        LackOfLand => ("lack_land", "缺土地"),
        LackOfWater => ("lack_water", "缺水"),
        LackOfSkills => ("lack_skills", "缺技术"),
        LackOfLabour => ("lack_labour", "缺劳力"),
        LackOfCapital => ("lack_capital", "缺资金"),
        PoorTransport => ("transport", "交通条件落后"),
        LackOfMotivation => ("motivation", "自身发展动力不足"),
        Other => ("other", "其他"),
    }
}

labelled_enum! {
    /// 与户主关系
    pub enum Relation: "与户主关系" {
        Head => ("head", "户主"),
        Spouse => ("spouse", "配偶"),
        Son => ("son", "之子"),
        Daughter => ("daughter", "之女"),
        DaughterInLaw => ("daughter_in_law", "之儿媳"),
        SonInLaw => ("son_in_law", "之女婿"),
        Grandson => ("grandson", "之孙子"),
        Granddaughter => ("granddaughter", "之孙女"),
        Father => ("father", "之父"),
        Mother => ("mother", "之母"),
        Grandfather => ("grandfather", "之祖父"),
        Grandmother => ("grandmother", "之祖母"),
        Sibling => ("sibling", "之兄弟姐妹"),
        Other => ("other", "其他"),
    }
}

impl Relation {
    /// The sex the relation itself implies (之子 is male, 之女 female); None where it does not.
    pub fn implied_sex(self) -> Option<Sex> {
        match self {
            Self::Son | Self::SonInLaw | Self::Grandson | Self::Father | Self::Grandfather => Some(Sex::Male),
            Self::Daughter | Self::DaughterInLaw | Self::Granddaughter | Self::Mother | Self::Grandmother => {
                Some(Sex::Female)
            }
            _ => None,
        }
    }
}

labelled_enum! {
    /// 文化程度
    pub enum Education: "文化程度" {
        Preschool => ("preschool", "学龄前儿童"),
        Illiterate => ("illiterate", "文盲或半文盲"),
        Primary => ("primary", "小学"),
        Junior => ("junior", "初中"),
        Senior => ("senior", "高中"),
        College => ("college", "大专及以上"),
    }
}

labelled_enum! {
    /// 在校生状况
    pub enum SchoolStage: "在校生状况" {
        NotInSchool => ("none", "非在校生"),
        Preschool => ("preschool", "学前教育"),
        Primary => ("primary", "小学"),
        Junior => ("junior", "初中"),
        Senior => ("senior", "普通高中"),
        SecondaryVocational => ("sec_vocational", "中职"),
        HigherVocational => ("higher_vocational", "高职高专"),
        University => ("university", "本科及以上"),
    }
}

impl SchoolStage {
    /// Compulsory education (义务教育): primary and junior middle school.
    pub fn is_compulsory(self) -> bool {
        matches!(self, Self::Primary | Self::Junior)
    }

    /// The ages at which a pupil is ordinarily at this stage (inclusive, a year of slack).
    pub fn usual_ages(self) -> Option<(u32, u32)> {
        match self {
            Self::NotInSchool => None,
            Self::Preschool => Some((3, 7)),
            Self::Primary => Some((5, 14)),
            Self::Junior => Some((11, 17)),
            Self::Senior | Self::SecondaryVocational => Some((14, 21)),
            Self::HigherVocational | Self::University => Some((16, 30)),
        }
    }
}

labelled_enum! {
    /// 健康状况
    pub enum Health: "健康状况" {
        Healthy => ("healthy", "健康"),
        Chronic => ("chronic", "长期慢性病"),
        SeriousIllness => ("serious", "患有大病"),
        Disabled => ("disabled", "残疾"),
    }
}

labelled_enum! {
    /// 劳动能力
    pub enum LabourAbility: "劳动能力" {
        Able => ("able", "有劳动能力"),
        Lost => ("lost", "丧失劳动能力"),
        Unable => ("unable", "无劳动能力"),
    }
}
