//! The demo city's planted problems against what the checks found: per kind, how many were
//! planted and how many found, and any finding on a record where nothing was planted. This is how
//! the catalogue is measured (a test asserts it; `ducha audit --against-demo` prints it).

use std::collections::{HashMap, HashSet};

use ducha_domain::demo::DefectKind;
use ducha_domain::labelled::Labelled;
use sea_orm::FromQueryResult;
use serde::Serialize;

use crate::{Db, StorageError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KindResult {
    pub kind: String,
    pub label: String,
    pub rate_per_mille: u32,
    pub population: String,
    pub planted: u64,
    /// Planted problems that a rule of `found_by` found on the same record.
    pub found: u64,
}

/// A finding no planted problem explains.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unexplained {
    pub rule: String,
    pub household_id: i64,
    pub member_seq: Option<i32>,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DemoComparison {
    pub kinds: Vec<KindResult>,
    pub unexplained: Vec<Unexplained>,
}

/// Compare the open findings of the current year with the planted problems.
pub(crate) async fn compare(db: &Db) -> Result<DemoComparison, StorageError> {
    let (year, _) = super::current(db).await?;
    let c = db.conn();
    // Household → the problems planted there, with the member (by seq) they are on.
    let mut planted: HashMap<i64, Vec<(DefectKind, Option<i32>)>> = HashMap::new();
    let mut per_village: HashMap<String, Vec<DefectKind>> = HashMap::new();
    #[derive(FromQueryResult)]
    struct DefectRow {
        kind: String,
        household_id: i64,
        member_seq: Option<i32>,
        village_code: String,
    }
    let rows = DefectRow::find_by_statement(db.stmt(
        "SELECT d.kind AS kind, d.household_id AS household_id, d.member_seq AS member_seq, h.village_code AS village_code \
         FROM demo_defects d JOIN households h ON h.id = d.household_id",
        vec![],
    ))
    .all(c)
    .await?;
    let mut all = Vec::new();
    for r in rows {
        let kind: DefectKind = crate::stored::code(&r.kind)?;
        let (hid, seq) = (r.household_id, r.member_seq);
        planted.entry(hid).or_default().push((kind, seq));
        per_village.entry(r.village_code).or_default().push(kind);
        all.push((kind, hid, seq));
    }
    #[derive(FromQueryResult)]
    struct FindingRow {
        rule: String,
        household_id: i64,
        seq: Option<i32>,
        village_code: String,
        message: String,
    }
    let rows = FindingRow::find_by_statement(db.stmt(
        // The platform rules have their own planted districts (demo::platform), not defects.
        &format!("SELECT f.rule AS rule, f.household_id AS household_id, m.seq AS seq, f.village_code AS village_code, f.message AS message \
         FROM check_findings f LEFT JOIN members m ON m.id = f.member_id WHERE f.year = $1 AND f.status = 'open' \
         AND f.rule NOT IN ({})", super::platform_rules()),
        vec![year.into()],
    ))
    .all(c)
    .await?;
    let mut found: HashSet<(String, i64, Option<i32>)> = HashSet::new();
    let mut unexplained = Vec::new();
    for r in rows {
        let FindingRow { rule, household_id: hid, seq, village_code: village, message } = r;
        let explains =
            |k: &DefectKind| k.found_by().contains(&rule.as_str()) || k.also_sets_off().contains(&rule.as_str());
        let explained = if hid == 0 {
            per_village.get(&village).is_some_and(|ks| ks.iter().any(explains))
        } else {
            // A finding on a member is explained only by a problem on that same member.
            planted
                .get(&hid)
                .is_some_and(|ks| ks.iter().any(|(k, on)| explains(k) && (seq.is_none() || on.is_none() || *on == seq)))
        };
        if !explained {
            unexplained.push(Unexplained { rule: rule.clone(), household_id: hid, member_seq: seq, message });
        }
        found.insert((rule, hid, seq));
    }
    let mut kinds: Vec<KindResult> = <DefectKind as Labelled>::ALL
        .iter()
        .map(|k| KindResult {
            kind: k.code().into(),
            label: k.label().into(),
            rate_per_mille: k.rate_per_mille(),
            population: k.population().into(),
            planted: 0,
            found: 0,
        })
        .collect();
    for (kind, hid, seq) in all {
        let Some(k) = kinds.iter_mut().find(|r| r.kind == kind.code()) else { continue };
        k.planted += 1;
        let hit = kind.found_by().iter().any(|rule| {
            found.contains(&(rule.to_string(), hid, seq)) || found.contains(&(rule.to_string(), hid, None))
        });
        k.found += u64::from(hit);
    }
    Ok(DemoComparison { kinds, unexplained })
}

/// The demo's findings against the defects it planted.
pub struct DemoFindings<'a>(pub(crate) &'a crate::Scoped);

impl crate::Scoped {
    pub fn demo_findings(&self) -> DemoFindings<'_> {
        DemoFindings(self)
    }
}

impl DemoFindings<'_> {
    /// Compare the open findings of the current year with the planted problems.
    pub async fn compare(&self) -> Result<DemoComparison, StorageError> {
        compare(self.0.db()).await
    }
}
