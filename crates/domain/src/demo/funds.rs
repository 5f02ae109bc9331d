//! The demo city's funds: each district receives provincial, city and district funds for the
//! year, carries them out through projects in its first towns, and by the demo's day (1 November)
//! has paid out only part of them. The seed found spending slow everywhere ("各市（区）普遍存在扶贫
//! 资金使用进展缓慢"), so every district is planted below the year's target curve, each at its own
//! rate; and one project per district sits in planning with no plan ("欠缺项目方案").

use chrono::{Duration, NaiveDate};

use crate::funds::{FundSource, ProjectType};
use crate::money::Money;

/// Per mille of its allocation each district has paid out by the demo's day.
pub const PAID_PER_MILLE: [(&str, i64); 7] = [
    ("蓬江区", 400),
    ("江海区", 450),
    ("新会区", 550),
    ("台山市", 600),
    ("开平市", 500),
    ("鹤山市", 650),
    ("恩平市", 580),
];

/// The share of a district's allocation paid by the demo's day (None for a district not planted).
pub fn paid_per_mille(district_name: &str) -> Option<i64> {
    PAID_PER_MILLE.iter().find(|(n, _)| *n == district_name).map(|(_, r)| *r)
}

/// A district's allocations: (source, amount), arriving a month after they are allocated.
pub fn allocations(district_index: usize) -> Vec<(FundSource, Money)> {
    let scale = 1 + district_index as i64 % 3;
    vec![
        (FundSource::Provincial, Money::from_yuan(1_200_000 * scale)),
        (FundSource::City, Money::from_yuan(600_000 * scale)),
        (FundSource::District, Money::from_yuan(300_000 * scale)),
    ]
}

/// The kinds of the projects carried out in a district's first three towns.
pub const PROJECT_KINDS: [(ProjectType, &str); 3] = [
    (ProjectType::Photovoltaic, "光伏扶贫电站"),
    (ProjectType::Workshop, "扶贫车间"),
    (ProjectType::Tourism, "乡村旅游扶贫"),
];

/// Dates of the demo year's project steps: allocated, plan, approval notice, implementation,
/// first and second payments.
pub struct Calendar {
    pub allocated_on: NaiveDate,
    pub arrived_on: NaiveDate,
    pub entered_on: NaiveDate,
    pub approval_notice_on: NaiveDate,
    pub implementation_on: NaiveDate,
    pub payments_on: [NaiveDate; 2],
}

pub fn calendar(year: i32) -> Option<Calendar> {
    let jan = NaiveDate::from_ymd_opt(year, 1, 1)?;
    Some(Calendar {
        allocated_on: jan + Duration::days(20),
        arrived_on: jan + Duration::days(50),
        entered_on: jan + Duration::days(40),
        approval_notice_on: jan + Duration::days(85),
        implementation_on: jan + Duration::days(100),
        payments_on: [jan + Duration::days(150), jan + Duration::days(260)],
    })
}
