//! The rule catalogue. Each rule has a stable code, the object it checks, a severity, a category,
//! a title, and a check that returns what is wrong (a member id for member rules) with a Chinese
//! message naming the fact. Codes never change meaning; a changed rule gets a new code.

use chrono::{Datelike, Duration, NaiveDate};

use super::{AuditParams, Category, Finding, HouseholdFacts, MemberFacts, Object, Severity};
use crate::help::MeasureCategory;
use crate::id_number::IdNumber;

// Finding messages are read in lists, where ID numbers are masked to their first six and last
// four characters: a message names a member's birth year, never the day nor an exact age (which,
// beside the year, would tell on which side of the check date the birthday falls). With the
// masked number, a full birth date would give the whole ID number back.

/// "2003 年出生".
fn born(m: &MemberFacts) -> String {
    format!("{} 年出生", m.birth_date.year())
}

/// A registered birth date that is not the one in the ID number, said by years.
fn birth_mismatch(registered: NaiveDate, in_id: NaiveDate) -> String {
    if registered.year() == in_id.year() {
        format!("登记的出生日期与身份证号中的月、日不符（均为 {} 年）", registered.year())
    } else {
        format!("出生日期登记为 {} 年，身份证号表明为 {} 年", registered.year(), in_id.year())
    }
}
use crate::money::Money;
use crate::registry::{HouseholdStatus, HouseholdType, LabourAbility, PovertyCause, Relation, SchoolStage, age_on};

pub type Check = fn(&HouseholdFacts, &AuditParams) -> Vec<(Option<i64>, String)>;

pub struct Rule {
    pub code: &'static str,
    pub object: Object,
    pub severity: Severity,
    pub category: Category,
    pub title: &'static str,
    /// The parameters the rule reads (a change to one re-runs the rules that read it).
    pub params: &'static [&'static str],
    pub check: Check,
}

/// One finding per member for whom `f` says what is wrong.
fn each_member(h: &HouseholdFacts, f: impl Fn(&super::MemberFacts) -> Option<String>) -> Vec<(Option<i64>, String)> {
    h.members.iter().filter_map(|m| f(m).map(|msg| (Some(m.id), format!("{}：{msg}", m.name)))).collect()
}

/// The household itself, when `cond` holds.
fn household(cond: bool, msg: impl FnOnce() -> String) -> Vec<(Option<i64>, String)> {
    if cond { vec![(None, msg())] } else { vec![] }
}

fn active(h: &HouseholdFacts) -> bool {
    h.status.is_active()
}

fn per_capita(h: &HouseholdFacts) -> Option<Money> {
    h.finance.as_ref().and_then(|f| f.per_capita_net(h.members.len().max(1) as i64))
}

fn is_development(c: MeasureCategory) -> bool {
    c.is_development()
}

macro_rules! rule {
    ($code:literal, $object:ident, $sev:ident, $cat:ident, $title:literal, [$($p:literal),*], $check:expr) => {
        Rule {
            code: $code,
            object: Object::$object,
            severity: Severity::$sev,
            category: Category::$cat,
            title: $title,
            params: &[$($p),*],
            check: $check,
        }
    };
}

/// The catalogue, in display order.
pub static CATALOGUE: &[Rule] = &[
    // —— 身份信息 ——
    rule!("M-ID-01", Member, Error, DataQuality, "身份证号格式或校验位错误", [], |h, _| {
        each_member(h, |m| {
            IdNumber::parse(&m.id_number)
                .err()
                .map(|e| format!("{}（{}）", e.masked(), crate::privacy::mask_id(&m.id_number)))
        })
    }),
    rule!("M-ID-02", Member, Error, DataQuality, "同一身份证号登记在两条记录", [], |h, _| {
        each_member(h, |m| m.duplicate_of.as_ref().map(|n| format!("身份证号已先登记在户 {n}")))
    }),
    rule!("M-ID-03", Member, Error, DataQuality, "性别与身份证号不符", [], |h, _| {
        each_member(h, |m| {
            IdNumber::parse(&m.id_number)
                .ok()
                .filter(|id| id.sex() != m.sex)
                .map(|id| format!("性别登记为“{}”，身份证号表明为“{}”", m.sex, id.sex()))
        })
    }),
    rule!("M-ID-04", Member, Error, DataQuality, "出生日期与身份证号不符", [], |h, _| {
        each_member(h, |m| {
            IdNumber::parse(&m.id_number)
                .ok()
                .filter(|id| id.birth_date() != m.birth_date)
                .map(|id| birth_mismatch(m.birth_date, id.birth_date()))
        })
    }),
    rule!("H-HD-01", Household, Error, DataQuality, "户内没有户主", [], |h, _| {
        household(!h.members.is_empty() && !h.members.iter().any(|m| m.relation == Relation::Head), || {
            "家庭成员中没有“户主”".into()
        })
    }),
    rule!("H-HD-02", Household, Error, DataQuality, "户内有两个以上户主", [], |h, _| {
        let n = h.members.iter().filter(|m| m.relation == Relation::Head).count();
        household(n > 1, || format!("家庭成员中有 {n} 个“户主”"))
    }),
    rule!("M-REL-01", Member, Warning, DataQuality, "配偶与户主性别相同", [], |h, _| {
        let head = h.members.iter().find(|m| m.relation == Relation::Head).map(|m| m.sex);
        each_member(h, |m| {
            (m.relation == Relation::Spouse && Some(m.sex) == head).then(|| format!("配偶与户主同为“{}”", m.sex))
        })
    }),
    rule!("M-REL-02", Member, Error, DataQuality, "与户主关系与性别不符", [], |h, _| {
        each_member(h, |m| {
            m.relation.implied_sex().filter(|s| *s != m.sex).map(|_| format!("“{}”登记为“{}”", m.relation, m.sex))
        })
    }),
    rule!("H-HH-01", Household, Error, DataQuality, "户内没有家庭成员", [], |h, _| {
        household(h.members.is_empty(), || "没有登记任何家庭成员".into())
    }),
    // —— 年龄与劳动能力、就学 ——
    rule!("M-AGE-01", Member, Error, DataQuality, "未满16周岁登记为有劳动能力", [], |h, p| {
        each_member(h, |m| {
            let age = age_on(m.birth_date, p.as_of);
            (age < 16 && m.labour_ability == LabourAbility::Able).then(|| format!("{}，登记为有劳动能力", born(m)))
        })
    }),
    rule!(
        "M-AGE-02",
        Member,
        Warning,
        DataQuality,
        "16至60周岁健康且不在校却登记为无劳动能力",
        [],
        |h, p| {
            each_member(h, |m| {
                let age = age_on(m.birth_date, p.as_of);
                ((16..=60).contains(&age)
                    && m.health == crate::registry::Health::Healthy
                    && m.school_stage == SchoolStage::NotInSchool
                    && m.labour_ability != LabourAbility::Able)
                    .then(|| format!("{}、健康、非在校生，登记为“{}”", born(m), m.labour_ability))
            })
        }
    ),
    rule!("M-AGE-03", Member, Warning, DataQuality, "年龄不合常理", [], |h, p| {
        each_member(h, |m| {
            let age = age_on(m.birth_date, p.as_of);
            (m.birth_date > p.as_of || age > 110).then(|| format!("出生日期不合常理（{}）", born(m)))
        })
    }),
    rule!("M-SCH-01", Member, Error, DataAccuracy, "义务教育阶段儿童不在校且无原因", [], |h, p| {
        each_member(h, |m| {
            let age = age_on(m.birth_date, p.as_of);
            ((6..=15).contains(&age) && m.school_stage == SchoolStage::NotInSchool && !m.has_out_of_school_reason)
                .then(|| format!("{}，非在校生，未登记失学辍学原因", born(m)))
        })
    }),
    rule!("M-SCH-02", Member, Warning, DataQuality, "在校阶段与年龄不符", [], |h, p| {
        each_member(h, |m| {
            let age = age_on(m.birth_date, p.as_of);
            m.school_stage
                .usual_ages()
                .filter(|(lo, hi)| age < *lo || age > *hi)
                .map(|_| format!("{}，登记为“{}”", born(m), m.school_stage))
        })
    }),
    // —— 两不愁三保障 ——
    rule!("M-MED-01", Member, Error, DataAccuracy, "成员未参加基本医疗保险", [], |h, _| {
        each_member(h, |m| (!m.medical_insurance).then(|| "未参加城乡居民基本医疗保险".into()))
    }),
    rule!("H-GUA-01", Household, Error, Measures, "住房不安全且无住房保障措施", [], |h, _| {
        household(
            h.status != HouseholdStatus::Removed
                && !h.guarantees.safe_housing
                && !h.has_measure(|c| c == MeasureCategory::Housing),
            || "住房安全未保障，没有住房保障（危房改造）措施".into(),
        )
    }),
    rule!("H-GUA-02", Household, Error, Measures, "饮水不安全且无饮水安全措施", [], |h, _| {
        household(
            h.status != HouseholdStatus::Removed
                && !h.guarantees.safe_water
                && !h.has_measure(|c| c == MeasureCategory::Water),
            || "饮水安全未保障，没有饮水安全措施".into(),
        )
    }),
    rule!("H-GUA-03", Household, Error, Measures, "有辍学儿童但无教育帮扶", [], |h, p| {
        let dropout = h.members.iter().any(|m| {
            let age = age_on(m.birth_date, p.as_of);
            (6..=15).contains(&age) && m.school_stage == SchoolStage::NotInSchool && !m.has_out_of_school_reason
        });
        household(
            h.status != HouseholdStatus::Removed && dropout && !h.has_measure(|c| c == MeasureCategory::Education),
            || "有义务教育阶段儿童失学，没有教育帮扶措施".into(),
        )
    }),
    rule!("H-GUA-04", Household, Warning, DataQuality, "义务教育保障标记与成员情况矛盾", [], |h, p| {
        let dropout = h.members.iter().any(|m| {
            let age = age_on(m.birth_date, p.as_of);
            (6..=15).contains(&age) && m.school_stage == SchoolStage::NotInSchool && !m.has_out_of_school_reason
        });
        household(dropout && h.guarantees.compulsory_education, || "标记“义务教育有保障”，但有成员失学".into())
    }),
    rule!("H-GUA-05", Household, Warning, DataQuality, "基本医疗保障标记与成员参保矛盾", [], |h, _| {
        household(h.guarantees.basic_medical && h.members.iter().any(|m| !m.medical_insurance), || {
            "标记“基本医疗有保障”，但有成员未参加基本医疗保险".into()
        })
    }),
    // —— 收入 ——
    rule!(
        "H-INC-01",
        Household,
        Error,
        Measures,
        "已脱贫或预脱贫但收入低于标准",
        ["exit_standard"],
        |h, p| {
            let below = per_capita(h).filter(|pc| *pc < Money::from_yuan(p.exit_standard));
            household(matches!(h.status, HouseholdStatus::PreExit | HouseholdStatus::Exited) && below.is_some(), || {
                let pc = below.unwrap_or_default();
                format!(
                    "状态为“{}”，{} 年人均纯收入 {pc} 元，低于脱贫标准 {} 元",
                    h.status,
                    p.year,
                    Money::from_yuan(p.exit_standard)
                )
            })
        }
    ),
    rule!(
        "H-INC-02",
        Household,
        Warning,
        Measures,
        "收入刚过标准，增收能力脆弱",
        ["exit_standard", "fragile_band"],
        |h, p| {
            let std = Money::from_yuan(p.exit_standard);
            let fragile = per_capita(h).filter(|pc| *pc >= std && *pc < std + Money::from_yuan(p.fragile_band));
            household(
                matches!(h.status, HouseholdStatus::PreExit | HouseholdStatus::Exited) && fragile.is_some(),
                || {
                    format!(
                        "人均纯收入 {} 元，仅高出脱贫标准 {} 元",
                        fragile.unwrap_or_default(),
                        fragile.unwrap_or_default() - std
                    )
                },
            )
        }
    ),
    rule!("H-INC-03", Household, Error, DataAccuracy, "收入合计与分项不符", [], |h, _| {
        let f = h.finance.as_ref();
        let off =
            f.and_then(|f| f.declared_total_income.filter(|d| *d != f.total_income()).map(|d| (d, f.total_income())));
        household(off.is_some(), || {
            let (d, t) = off.unwrap_or_default();
            format!("收入合计填 {d} 元，各项收入相加为 {t} 元")
        })
    }),
    rule!(
        "H-INC-04",
        Household,
        Warning,
        DataAccuracy,
        "收入与支出不对等",
        ["expenditure_ratio_percent"],
        |h, p| {
            let f = h.finance.as_ref();
            let bad = f.and_then(|f| {
                let spent = f.living_expenditure?;
                let income = f.total_income();
                (spent.fen() * 100 > income.fen().max(0) * p.expenditure_ratio_percent
                    && spent > Money::from_yuan(5_000))
                .then_some((spent, income))
            });
            household(bad.is_some(), || {
                let (s, i) = bad.unwrap_or_default();
                format!(
                    "生活消费支出 {s} 元，为总收入 {i} 元的 {} 倍",
                    if i.fen() > 0 { s.fen() / i.fen().max(1) } else { 0 }
                )
            })
        }
    ),
    rule!("H-INC-05", Household, Warning, DataQuality, "收入数额不合理", ["implausible_per_capita"], |h, p| {
        let f = h.finance.as_ref();
        let negative = f.is_some_and(|f| {
            [f.wage_income, f.business_income, f.property_income, f.transfer_income, f.production_costs]
                .iter()
                .any(|m| *m < Money::ZERO)
        });
        let huge = per_capita(h).filter(|pc| *pc > Money::from_yuan(p.implausible_per_capita));
        household(negative || huge.is_some(), || match huge {
            Some(pc) => format!("人均纯收入 {pc} 元，超过 {} 元", p.implausible_per_capita),
            None => "收入或支出中有负数".into(),
        })
    }),
    rule!("H-INC-06", Household, Warning, DataAccuracy, "没有当年的收支记录", [], |h, p| {
        household(active(h) && h.finance.is_none(), || format!("没有 {} 年的收入和支出记录", p.year))
    }),
    rule!(
        "H-INC-07",
        Household,
        Notice,
        Measures,
        "帮扶中的户收入已超过标准",
        ["exit_standard", "fragile_band"],
        |h, p| {
            let high = per_capita(h).filter(|pc| *pc >= Money::from_yuan(p.exit_standard + p.fragile_band));
            household(h.status == HouseholdStatus::Helping && high.is_some(), || {
                format!("人均纯收入 {} 元，已超过脱贫标准，可申请预脱贫", high.unwrap_or_default())
            })
        }
    ),
    // —— 帮扶 ——
    rule!("H-PLN-01", Household, Error, DataAccuracy, "当年没有帮扶计划", [], |h, p| {
        household(active(h) && h.plan.is_none(), || format!("没有 {} 年帮扶计划", p.year))
    }),
    rule!(
        "H-PLN-02",
        Household,
        Warning,
        DataAccuracy,
        "帮扶计划未录入任何措施",
        ["plan_measure_grace_days"],
        |h, p| {
            let late =
                h.plan.as_ref().is_some_and(|(made, _)| p.as_of - *made > Duration::days(p.plan_measure_grace_days));
            household(active(h) && late && h.measures.is_empty(), || {
                format!("帮扶计划制定已超过 {} 天，没有录入落实的帮扶措施", p.plan_measure_grace_days)
            })
        }
    ),
    rule!("H-LOG-01", Household, Warning, DataAccuracy, "帮扶日志没有更新", ["log_stale_days"], |h, p| {
        let stale = match h.last_log {
            None => true,
            Some(d) => p.as_of - d > Duration::days(p.log_stale_days),
        };
        household(active(h) && stale, || match h.last_log {
            Some(d) => format!("最近一次帮扶日志是 {d}，已 {} 天未更新", (p.as_of - d).num_days()),
            None => "没有帮扶日志".into(),
        })
    }),
    rule!("H-CAD-01", Household, Error, Responsibility, "没有帮扶责任人", [], |h, _| {
        household(active(h) && !h.has_cadre, || "没有指定帮扶责任人".into())
    }),
    rule!(
        "H-DEV-01",
        Household,
        Warning,
        Measures,
        "有劳动能力但没有发展类帮扶措施",
        ["development_grace_days"],
        |h, p| {
            let late =
                h.plan.as_ref().is_none_or(|(made, _)| p.as_of - *made > Duration::days(p.development_grace_days));
            household(active(h) && h.able() && late && !h.has_measure(is_development), || {
                "有劳动能力，没有产业、就业、金融或公益性岗位等发展类措施".into()
            })
        }
    ),
    rule!("H-DEV-02", Household, Warning, Measures, "有劳动能力却只有兜底措施", [], |h, _| {
        let only_welfare = !h.measures.is_empty() && h.measures.iter().all(|m| m.category == MeasureCategory::Welfare);
        household(active(h) && h.able() && only_welfare, || "有劳动能力，帮扶措施只有兜底保障".into())
    }),
    rule!("H-GEN-01", Household, Warning, Measures, "有劳动能力但未参与造血型项目", [], |h, _| {
        household(active(h) && h.able() && !h.measures.iter().any(|m| m.income_generating), || {
            "有劳动能力，没有参与一项长效增收的“造血”型帮扶项目".into()
        })
    }),
    rule!("H-CAU-01", Household, Warning, Measures, "因病致贫但无健康帮扶", [], |h, _| {
        household(
            active(h)
                && h.causes().any(|c| c == PovertyCause::Illness)
                && !h.has_measure(|c| c == MeasureCategory::Health),
            || "致贫原因为因病，没有健康帮扶措施".into(),
        )
    }),
    rule!("H-CAU-02", Household, Warning, Measures, "因学致贫但无教育帮扶", [], |h, _| {
        household(
            active(h)
                && h.causes().any(|c| c == PovertyCause::Schooling)
                && !h.has_measure(|c| c == MeasureCategory::Education),
            || "致贫原因为因学，没有教育帮扶措施".into(),
        )
    }),
    rule!("H-CAU-03", Household, Warning, Measures, "因残致贫但无兜底或社会帮扶", [], |h, _| {
        let helped = h.has_measure(|c| matches!(c, MeasureCategory::Welfare | MeasureCategory::Social));
        household(active(h) && h.causes().any(|c| c == PovertyCause::Disability) && !helped, || {
            "致贫原因为因残，没有兜底保障或社会帮扶措施".into()
        })
    }),
    rule!("H-WEL-01", Household, Warning, Measures, "兜底措施落在非低保、五保户", [], |h, _| {
        household(
            h.household_type == HouseholdType::General && h.has_measure(|c| c == MeasureCategory::Welfare),
            || "一般贫困户有兜底保障措施（兜底对象应为低保、五保户）".into(),
        )
    }),
    rule!("H-EVD-01", Household, Warning, DataAccuracy, "帮扶措施缺少佐证材料", [], |h, _| {
        let missing: Vec<String> = h
            .measures
            .iter()
            .filter(|m| !m.has_evidence)
            .map(|m| format!("{} {}", m.delivered_on, m.category))
            .collect();
        household(!missing.is_empty(), || format!("{} 项措施没有佐证材料：{}", missing.len(), missing.join("、")))
    }),
    rule!("H-BOK-01", Household, Warning, DataAccuracy, "帮扶记录本未按省格式设置", [], |h, _| {
        household(active(h) && (!h.record_book.issued || !h.record_book.provincial_format), || {
            if h.record_book.issued {
                "帮扶记录本未按省格式设置".into()
            } else {
                "没有发放帮扶记录本".into()
            }
        })
    }),
    rule!(
        "H-BOK-02",
        Household,
        Notice,
        DataAccuracy,
        "帮扶记录本长期未检查",
        ["record_book_check_days"],
        |h, p| {
            let old = h.record_book.last_checked.is_none_or(|d| p.as_of - d > Duration::days(p.record_book_check_days));
            household(active(h) && h.record_book.issued && h.record_book.provincial_format && old, || {
                format!("帮扶记录本超过 {} 天未检查", p.record_book_check_days)
            })
        }
    ),
    rule!("H-STA-01", Household, Warning, DataQuality, "识别日期晚于核查日期", [], |h, p| {
        household(h.identified_on > p.as_of, || format!("识别日期 {} 晚于核查日期 {}", h.identified_on, p.as_of))
    }),
    rule!(
        "V-PLN-01",
        Village,
        Warning,
        DataAccuracy,
        "村内较多贫困户没有当年帮扶计划",
        ["village_gap_min", "village_gap_percent"],
        |_, _| vec![]
    ),
    // —— 镇（街）扶贫工作平台、一站式结算：由 platform 模块按派驻、镇、机构判断，不针对家庭 ——
    rule!("T-PST-01", Posting, Warning, Platform, "派驻干部没有全职驻点", [], |_, _| vec![]),
    rule!(
        "T-PST-02",
        Posting,
        Error,
        Platform,
        "派驻干部只停留在文件上（无考勤）",
        ["attendance_grace_days"],
        |_, _| vec![]
    ),
    rule!(
        "T-PST-03",
        Posting,
        Warning,
        Platform,
        "派驻干部到岗率偏低",
        ["attendance_min_percent", "attendance_grace_days"],
        |_, _| vec![]
    ),
    rule!("T-PST-04", Town, Warning, Responsibility, "镇（街）没有派驻扶贫干部在岗", [], |_, _| vec![]),
    rule!("T-OFF-01", Town, Warning, Platform, "镇（街）扶贫工作平台“六有”未达标", [], |_, _| vec![]),
    rule!(
        "T-OFF-02",
        Town,
        Warning,
        Responsibility,
        "镇（街）扶贫办人员轮换频繁",
        ["office_turnover_max"],
        |_, _| vec![]
    ),
    rule!("D-MED-01", Institution, Warning, Measures, "定点医疗机构未上线一站式结算", [], |_, _| vec![]),
    // —— 扶贫项目与资金：由 funds 模块按项目、市(区)判断 ——
    rule!("P-PRJ-01", Project, Warning, Funds, "项目在立项前阶段停留过久", ["project_stage_days"], |_, _| vec![]),
    rule!("P-PRJ-02", Project, Warning, Funds, "项目没有受益贫困户也未说明公共受益", [], |_, _| vec![]),
    rule!("P-PRJ-03", Project, Error, Funds, "已立项的项目缺少项目方案", [], |_, _| vec![]),
    rule!("P-PAY-01", Project, Error, Funds, "资金拨付缺少凭证", [], |_, _| vec![]),
    rule!("P-PAY-02", Project, Error, Funds, "项目拨付超出预算", [], |_, _| vec![]),
    rule!(
        "F-SPD-01",
        District,
        Warning,
        Funds,
        "资金使用进度低于目标线",
        ["spend_full_by_month", "spend_gap_points"],
        |_, _| vec![]
    ),
];

/// Village rules, from counts over every household of a village (households of a village may be
/// checked in several batches, so the counts are gathered first).
pub fn village_findings(village_code: &str, active: i64, without_plan: i64, p: &AuditParams) -> Vec<Finding> {
    if without_plan >= p.village_gap_min && active > 0 && without_plan * 100 > active * p.village_gap_percent {
        vec![Finding {
            rule: "V-PLN-01",
            household_id: 0,
            member_id: None,
            village_code: village_code.to_string(),
            message: format!("{active} 户在帮扶的贫困户中有 {without_plan} 户没有 {} 年帮扶计划", p.year),
        }]
    } else {
        vec![]
    }
}
