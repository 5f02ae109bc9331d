//! The circular's own words: document number, title, addressees, basis, next steps, sign-off and
//! the rectification deadline it sets. Kept per campaign; until the city office writes them, the
//! defaults below stand (the figures of the body always come from the campaign).

use chrono::{Datelike, Days, NaiveDate, Utc};
use ducha_domain::validation::FieldErrors;
use sea_orm::{ConnectionTrait, FromQueryResult};
use serde::{Deserialize, Serialize};

use super::{Campaign, Opened};
use crate::{Db, Scoped, StorageError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, FromQueryResult)]
pub struct CircularSettings {
    /// 发文字号, e.g. 江扶字〔2017〕14号.
    pub number: String,
    pub title: String,
    pub addressees: String,
    /// The document the campaign answers to (《…通知》（…号）); may be empty.
    pub basis: String,
    /// 三、下一步工作: one paragraph a line; "（一）标题。正文" gives a lead and its text.
    pub next_steps: String,
    /// The issuing authority, which also signs.
    pub signer: String,
    pub issued_on: NaiveDate,
    pub disclosure: String,
    pub copied_to: String,
    /// Problems are to be rectified within this many days of issue.
    pub deadline_days: i32,
}

/// What the circular says under 三、下一步工作 unless the city office writes otherwise.
pub const DEFAULT_NEXT_STEPS: &str = "（一）提高认识，压实责任，健全机构。各市（区）、各镇（街）要落实脱贫攻坚主体责任，按“六有”标准健全镇（街）扶贫工作机构，严格执行派驻干部驻点考勤。
（二）不断完善扶贫档案资料等基础性工作。认真核对建档立卡资料，补充完善相关信息，做好动态管理对象和资金项目资料的归档。
（三）整合资源，抓住关键。以镇（街）为单位，重点发展能给贫困户带来稳定收益的“造血”型扶贫项目。
（四）问题导向，落实整改。对本次督查发现的问题逐项整改，在整改时限前报送整改情况，并举一反三开展问题排查。";

impl CircularSettings {
    pub fn defaults(c: &Campaign, city: &str) -> CircularSettings {
        let issued_on = c.ends_on.checked_add_days(Days::new(7)).unwrap_or(c.ends_on);
        CircularSettings {
            number: format!("〔{}〕号", issued_on.year()),
            title: format!("{city}{}工作情况通报", c.name.trim_start_matches(city)),
            addressees: "各市（区）人民政府".into(),
            basis: String::new(),
            next_steps: DEFAULT_NEXT_STEPS.into(),
            signer: format!("{city}扶贫开发领导小组"),
            issued_on,
            disclosure: "依申请公开".into(),
            copied_to: format!("{city}扶贫开发领导小组成员单位"),
            deadline_days: 30,
        }
    }

    /// The rectification deadline the circular sets.
    pub fn deadline(&self) -> NaiveDate {
        self.issued_on.checked_add_days(Days::new(self.deadline_days.max(0) as u64)).unwrap_or(self.issued_on)
    }

    fn check(&self) -> Result<(), StorageError> {
        let mut e = FieldErrors::default();
        let len = |s: &str| s.trim().chars().count();
        for (field, v, max, required) in [
            ("number", &self.number, 40, true),
            ("title", &self.title, 100, true),
            ("addressees", &self.addressees, 100, true),
            ("signer", &self.signer, 60, true),
            ("disclosure", &self.disclosure, 20, false),
            ("copied_to", &self.copied_to, 200, false),
            ("basis", &self.basis, 500, false),
            ("next_steps", &self.next_steps, 5000, false),
        ] {
            if required && len(v) == 0 {
                e.add(field, "请填写");
            } else if len(v) > max {
                e.add(field, format!("请在 {max} 字以内"));
            }
        }
        if !(0..=365).contains(&self.deadline_days) {
            e.add("deadline_days", "整改时限应在 0 至 365 天之间");
        }
        if e.is_empty() { Ok(()) } else { Err(StorageError::Invalid(e)) }
    }
}

/// The name of the city the database holds (for titles and the issuer).
pub(crate) async fn city_name<C: ConnectionTrait>(c: &C) -> Result<String, StorageError> {
    let tree = crate::regions::tree_in(c).await?;
    Ok(tree.at_level(ducha_domain::RegionLevel::City).next().map_or_else(|| "本市".to_string(), |r| r.name.clone()))
}

pub(crate) async fn settings_of<C: ConnectionTrait>(
    db: &Db,
    c: &C,
    campaign: &Campaign,
) -> Result<CircularSettings, StorageError> {
    let row = CircularSettings::find_by_statement(db.stmt(
        "SELECT number, title, addressees, basis, next_steps, signer, issued_on, disclosure, copied_to, deadline_days \
         FROM circulars WHERE campaign_id = $1",
        vec![campaign.id.into()],
    ))
    .one(c)
    .await?;
    match row {
        Some(r) => Ok(r),
        None => Ok(CircularSettings::defaults(campaign, &city_name(c).await?)),
    }
}

/// Write a campaign's circular settings (city office), audited with what they were.
pub(crate) async fn save_settings(scoped: &Scoped, campaign: i64, s: &CircularSettings) -> Result<(), StorageError> {
    let (db, actor) = (scoped.db(), scoped.actor());
    let mut tx = scoped.write().await?;
    let (c, access) = super::open_in(scoped, tx.conn(), campaign).await?.into_parts();
    if !access.plans {
        return Err(StorageError::Forbidden("通报由市扶贫办起草".into()));
    }
    s.check()?;
    let before = settings_of(db, tx.conn(), &c).await?;
    tx.conn()
        .execute_raw(db.stmt(
            "INSERT INTO circulars (campaign_id, number, title, addressees, basis, next_steps, signer, issued_on, disclosure, copied_to, \
             deadline_days, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
             ON CONFLICT (campaign_id) DO UPDATE SET number = excluded.number, title = excluded.title, addressees = excluded.addressees, \
             basis = excluded.basis, next_steps = excluded.next_steps, signer = excluded.signer, issued_on = excluded.issued_on, \
             disclosure = excluded.disclosure, copied_to = excluded.copied_to, deadline_days = excluded.deadline_days, \
             updated_by = excluded.updated_by, updated_at = excluded.updated_at",
            vec![
                campaign.into(),
                s.number.trim().into(),
                s.title.trim().into(),
                s.addressees.trim().into(),
                s.basis.trim().into(),
                s.next_steps.trim().into(),
                s.signer.trim().into(),
                s.issued_on.into(),
                s.disclosure.trim().into(),
                s.copied_to.trim().into(),
                s.deadline_days.into(),
                actor.username.clone().into(),
                Utc::now().into(),
            ],
        ))
        .await?;
    tx.record("circular", campaign, None, "update", Some(&before), Some(s)).await?;
    crate::scoped::commit(tx).await?;
    Ok(())
}

/// The circular of an opened campaign: its own words (the figures come from
/// [`Opened::summary`]).
pub struct Circular<'a>(&'a Opened);

impl Opened {
    pub fn circular(&self) -> Circular<'_> {
        Circular(self)
    }
}

impl Circular<'_> {
    /// The campaign's circular settings, stored or default.
    pub async fn settings(&self) -> Result<CircularSettings, StorageError> {
        let db = self.0.scoped().db();
        settings_of(db, db.conn(), self.0.campaign()).await
    }

    /// The name of the campaign this one revisits, for its circular.
    pub async fn revisited_name(&self) -> Result<Option<String>, StorageError> {
        let db = self.0.scoped().db();
        match self.0.campaign().sample_plan.as_ref().and_then(|p| p.revisit_from) {
            Some(from) => Ok(Some(super::get(db, db.conn(), from).await?.name)),
            None => Ok(None),
        }
    }
}
