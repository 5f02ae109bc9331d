//! Loading the demo city into an empty registry, in one transaction (all or nothing), in
//! batches that fit both databases' limits on statement parameters.

pub mod defect;

use chrono::{NaiveDate, Utc};
use ducha_domain::access::Actor;
use ducha_domain::demo::{DemoConfig, DemoHousehold, DemoPlan, UniqueIds};
use ducha_domain::labelled::Labelled;
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, FromQueryResult, Value};
use sha2::Digest;

use crate::audit::AuditTxn;

use crate::help::{cadre, log, measure, plan, plan_item};
use crate::registry::{self, finance, status_history};
use crate::{Db, StorageError, regions, settings};

/// Households generated and written per batch.
const BATCH: u64 = 500;
/// Rows per INSERT: SQLite allows 32,766 parameters in a statement, and a member row has 17.
const ROWS_PER_INSERT: usize = 1_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DemoSummary {
    pub households: u64,
    pub members: u64,
    pub cadres: u64,
    pub defects: u64,
    pub measures: u64,
    /// Cadres posted to towns (with their check-ins).
    pub postings: u64,
    /// Projects in the library (with allocations and payments).
    pub projects: u64,
}

/// The one file every demo measure's evidence points to: a small PDF saying it stands in for the
/// photo or receipt a real register would hold. Built here so that its cross-reference offsets
/// are right.
fn demo_evidence_pdf() -> Vec<u8> {
    let text = "ducha demo: stands in for the photo or receipt of a help measure";
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_string(),
        {
            let stream = format!("BT /F1 14 Tf 60 780 Td ({text}) Tj ET");
            format!("<< /Length {} >>\nstream\n{stream}\nendstream", stream.len())
        },
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for off in offsets {
        out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes(),
    );
    out
}

async fn insert_chunks<A>(txn: &DatabaseTransaction, rows: Vec<A>) -> Result<(), StorageError>
where
    A: ActiveModelTrait + Send,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(ROWS_PER_INSERT).collect();
        A::Entity::insert_many(chunk).exec_without_returning(txn).await?;
    }
    Ok(())
}

/// Generate the demo city from `config` over the regions in the database and write it.
/// Refuses a registry that already has households. `progress` hears households written so far.
pub(crate) async fn load(
    db: &Db,
    actor: &Actor,
    config: DemoConfig,
    progress: impl Fn(u64, u64),
) -> Result<DemoSummary, StorageError> {
    regions::ensure_default(db).await?;
    let tree = regions::tree(db).await?;
    let plan = DemoPlan::new(config, &tree).map_err(|e| StorageError::Rejected(e.to_string()))?;
    let mut tx = AuditTxn::begin(db, actor).await?;
    let txn = tx.conn();
    if !crate::registry::is_empty(txn).await? {
        return Err(StorageError::Rejected(
            "登记库中已有贫困户：演示数据只能装入空库（可另指定一个新的数据库文件）".into(),
        ));
    }
    let now = Utc::now();
    let keys = db.keys()?;
    let keys = &*keys;
    let cadres: Vec<cadre::ActiveModel> = plan
        .cadres()
        .iter()
        .enumerate()
        .map(|(i, c)| {
            Ok(cadre::ActiveModel {
                id: Set(i as i64 + 1),
                name: Set(c.name.clone()),
                unit: Set(c.unit.clone()),
                phone: Set(Some(crate::personal::Personal::seal(keys, &c.phone)?)),
                town_code: Set(c.town_code.clone()),
                active: Set(true),
            })
        })
        .collect::<Result<_, StorageError>>()?;
    let mut summary = DemoSummary { cadres: cadres.len() as u64, ..Default::default() };
    insert_chunks(txn, cadres).await?;

    let pdf = demo_evidence_pdf();
    let sha: String = sha2::Sha256::digest(&pdf).iter().map(|b| format!("{b:02x}")).collect();
    txn.execute_raw(db.stmt(
        "INSERT INTO evidence_blobs (sha256, size, data) VALUES ($1, $2, $3)",
        vec![
            sha.clone().into(),
            (pdf.len() as i64).into(),
            crate::personal::seal_file(keys, "evidence_blobs", &pdf)?.into(),
        ],
    ))
    .await?;
    let evidence = EvidenceFile { sha256: sha, size: pdf.len() as i64 };
    let mut start = 0;
    let mut unique = UniqueIds::default();
    while start < plan.len() {
        let end = (start + BATCH).min(plan.len());
        let mut batch: Vec<DemoHousehold> = (start..end).map(|i| plan.household(i)).collect();
        for h in batch.iter_mut() {
            unique.apply(h);
        }
        write_batch(db, txn, &batch, now, &evidence, &mut summary).await?;
        progress(end, plan.len());
        start = end;
    }
    db.reset_sequences(txn, &["cadres", "households", "help_plans", "help_measures", "evidence"]).await?;
    let platform = ducha_domain::demo::platform::generate(&config, &tree);
    summary.postings = write_platform(db, txn, &platform, now).await?;
    summary.projects = write_funds(db, txn, &config, &tree, &evidence, now).await?;
    write_offices(db, txn, &config, &tree).await?;
    // Checks stand on the demo's own day, so that its clean records stay clean whenever it is run.
    settings::set(db, txn, "check_year", &config.year.to_string()).await?;
    settings::set(db, txn, "check_as_of", &config.as_of().to_string()).await?;
    settings::set(
        db,
        txn,
        "demo",
        &format!("seed={} households={} year={}", config.seed, config.households, config.year),
    )
    .await?;
    let after = serde_json::json!({
        "seed": config.seed, "year": config.year, "households": summary.households,
        "members": summary.members, "cadres": summary.cadres, "defects": summary.defects,
        "postings": summary.postings, "projects": summary.projects,
    });
    tx.record::<(), _>("registry", "demo", None, "demo_load", None, Some(&after)).await?;
    crate::scoped::commit(tx).await?;
    db.analyze().await?;
    Ok(summary)
}

/// The demo's postings with their check-ins, and its designated institutions; returns how many
/// postings.
async fn write_platform<C: ConnectionTrait>(
    db: &Db,
    c: &C,
    platform: &ducha_domain::demo::platform::DemoPlatform,
    now: chrono::DateTime<Utc>,
) -> Result<u64, StorageError> {
    for d in &platform.postings {
        let id = crate::platform::insert_posting(db, c, &d.posting).await?;
        // 4 parameters a row: 1,000 rows a statement stays well under SQLite's limit.
        for chunk in d.check_ins.chunks(1_000) {
            let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 4);
            let mut tuples = Vec::with_capacity(chunk.len());
            for day in chunk {
                let n = values.len();
                tuples.push(format!("(${}, ${}, ${}, '镇扶贫办', 'demo', ${})", n + 1, n + 2, n + 3, n + 4));
                values.extend([id.into(), (*day).into(), ducha_domain::platform::is_workday(*day).into(), now.into()]);
            }
            let sql = format!(
                "INSERT INTO attendance (posting_id, on_date, workday, place, recorded_by, recorded_at) VALUES {}",
                tuples.join(", ")
            );
            c.execute_raw(db.stmt(&sql, values)).await?;
        }
    }
    for i in &platform.institutions {
        c.execute_raw(db.stmt(
            "INSERT INTO medical_institutions (name, district_code, level, one_stop_online, online_since) VALUES ($1, $2, $3, $4, $5)",
            vec![
                i.name.clone().into(),
                i.district_code.clone().into(),
                i.level.code().into(),
                i.one_stop_online.into(),
                i.online_since.into(),
            ],
        ))
        .await?;
    }
    Ok(platform.postings.len() as u64)
}

/// A row's id: what a `RETURNING id` gives back, or an id selected.
#[derive(FromQueryResult)]
struct Id {
    id: i64,
}

/// Every town office: three staff since 2016 and every checklist item judged met by the district
/// in October, except where the seed found gaps (`demo::platform::RULES_MISSING`, `STAFF_CHURN`).
async fn write_offices<C: ConnectionTrait>(
    db: &Db,
    c: &C,
    config: &DemoConfig,
    tree: &ducha_domain::RegionTree,
) -> Result<(), StorageError> {
    use ducha_domain::demo::platform::{RULES_MISSING, STAFF_CHURN};
    use ducha_domain::region::{RegionKind, RegionLevel};
    #[derive(FromQueryResult)]
    struct Item {
        id: i64,
        name: String,
    }
    let items: Vec<(i64, String)> =
        Item::find_by_statement(db.stmt("SELECT id, name FROM office_items WHERE active ORDER BY id", vec![]))
            .all(c)
            .await?
            .into_iter()
            .map(|r| (r.id, r.name))
            .collect();
    let (Some(judged_on), Some(since)) =
        (NaiveDate::from_ymd_opt(config.year, 10, 20), NaiveDate::from_ymd_opt(config.year - 1, 3, 1))
    else {
        return Ok(());
    };
    for district in tree.at_level(RegionLevel::District) {
        let towns: Vec<_> = tree
            .descendants(district.code.as_str(), Some(RegionLevel::Town))
            .into_iter()
            .filter(|t| t.kind != RegionKind::SpecialArea)
            .collect();
        for (k, town) in towns.iter().enumerate() {
            let t = town.code.as_str();
            for (id, name) in &items {
                let gap = name == "有制度" && RULES_MISSING.contains(&district.name.as_str());
                let note = if gap { "工作制度、考勤制度未建立" } else { "" };
                c.execute_raw(db.stmt(
                    "INSERT INTO office_checks (town_code, item_id, year, met, note, judged_by, judged_on) VALUES ($1, $2, $3, $4, $5, 'demo', $6)",
                    vec![t.into(), (*id).into(), config.year.into(), (!gap).into(), note.into(), judged_on.into()],
                ))
                .await?;
            }
            let churn = k == 0 && STAFF_CHURN.contains(&district.name.as_str());
            let mut staff: Vec<(String, &str, NaiveDate, Option<NaiveDate>)> = (1..=3)
                .map(|i| {
                    (format!("{}扶贫办工作人员{i}", town.name), if i == 1 { "主任" } else { "专职人员" }, since, None)
                })
                .collect();
            if churn {
                // Three left during the year, each replaced the next day.
                for (i, m) in [3, 6, 9].iter().enumerate() {
                    let left = NaiveDate::from_ymd_opt(config.year, *m, 15).unwrap_or(judged_on);
                    staff[i].3 = Some(left);
                    staff.push((
                        format!("{}扶贫办接任人员{}", town.name, i + 1),
                        "专职人员",
                        left + chrono::Duration::days(1),
                        None,
                    ));
                }
            }
            for (name, position, started, ended) in staff {
                c.execute_raw(db.stmt(
                    "INSERT INTO office_staff (town_code, name, position, started_on, ended_on) VALUES ($1, $2, $3, $4, $5)",
                    vec![t.into(), name.into(), position.into(), started.into(), ended.into()],
                ))
                .await?;
            }
        }
    }
    Ok(())
}

/// The demo's funds (see `ducha_domain::demo::funds`): each district's allocations (most of it
/// passed down to its project towns), three projects in implementation in its first towns with their plan, approval, notice and two payments each
/// (vouchers attached), paid to the district's planted share; and one project stuck in planning
/// without a plan. Returns how many projects.
async fn write_funds<C: ConnectionTrait>(
    db: &Db,
    c: &C,
    config: &DemoConfig,
    tree: &ducha_domain::RegionTree,
    evidence: &EvidenceFile,
    now: chrono::DateTime<Utc>,
) -> Result<u64, StorageError> {
    use ducha_domain::demo::funds as plan;
    use ducha_domain::funds::{FundSource, ProjectType, Stage};
    use ducha_domain::money::Money;
    use ducha_domain::region::{RegionKind, RegionLevel};
    let Some(cal) = plan::calendar(config.year) else { return Ok(0) };
    let year = config.year;
    let mut projects = 0;
    // One evidence row (the demo's shared file) naming what it stands for.
    let attach = |kind: &'static str, owner: i64, place: String, name: &'static str| {
        let values: Vec<Value> = vec![
            kind.into(),
            owner.into(),
            place.into(),
            name.into(),
            evidence.size.into(),
            evidence.sha256.clone().into(),
            now.into(),
        ];
        db.stmt(
            "INSERT INTO evidence (owner_kind, owner_id, household_id, village_code, filename, content_type, size, sha256, uploaded_by, uploaded_at) \
             VALUES ($1, $2, NULL, $3, $4, 'application/pdf', $5, $6, '演示数据', $7)",
            values,
        )
    };
    let insert_project = |town: &str, name: String, kind: ProjectType, stage: Stage, since: NaiveDate, public: &str| {
        let values: Vec<Value> = vec![
            year.into(),
            name.into(),
            kind.code().into(),
            kind.income_generating_by_default().into(),
            town.to_string().into(),
            town.to_string().into(),
            town.get(..6).unwrap_or_default().to_string().into(),
            format!("{}人民政府", tree.get(town).map(|r| r.name.clone()).unwrap_or_default()).into(),
            "带动受益贫困户每户年增收 3000 元以上".into(),
            public.to_string().into(),
            stage.code().into(),
            since.into(),
        ];
        db.stmt(
            "INSERT INTO projects (year, name, kind, income_generating, place_code, town_code, district_code, unit, performance_target, \
             public_benefit, stage, stage_since) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
            values,
        )
    };
    for (di, district) in tree.at_level(RegionLevel::District).enumerate() {
        let Some(per_mille) = plan::paid_per_mille(&district.name) else { continue };
        let code = district.code.as_str().to_string();
        let allocations = plan::allocations(di);
        // (source, amount, the allocation's id) for passing down to the project towns below.
        let mut parents = Vec::new();
        for (source, amount) in &allocations {
            let id = Id::find_by_statement(db.stmt(
                "INSERT INTO fund_allocations (year, source, region_code, district_code, amount_fen, allocated_on, arrived_on) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                vec![
                    year.into(),
                    source.code().into(),
                    code.clone().into(),
                    code.clone().into(),
                    amount.fen().into(),
                    cal.allocated_on.into(),
                    cal.arrived_on.into(),
                ],
            ))
            .one(c)
            .await?
            .ok_or_else(|| StorageError::Rejected("演示资金未能写入".into()))?
            .id;
            parents.push((*source, *amount, id));
        }
        let total: i64 = allocations.iter().map(|(_, m)| m.fen()).sum();
        let to_pay = total * per_mille / 1000;
        let towns: Vec<_> = tree
            .descendants(&code, Some(RegionLevel::Town))
            .into_iter()
            .filter(|t| t.kind != RegionKind::SpecialArea)
            .take(plan::PROJECT_KINDS.len())
            .collect();
        let n = towns.len() as i64;
        for (k, town) in towns.iter().enumerate() {
            let (kind, label) = plan::PROJECT_KINDS[k];
            let t = town.code.as_str();
            let served: Vec<i64> = Id::find_by_statement(db.stmt(
                "SELECT id FROM households WHERE town_code = $1 AND status IN ('identified', 'helping') ORDER BY id LIMIT 5",
                vec![t.into()],
            ))
            .all(c)
            .await?
            .into_iter()
            .map(|r| r.id)
            .collect();
            let public = if served.is_empty() { "收益归村集体，用于全村贫困户分红" } else { "" };
            let name = format!("{}{label}", town.name);
            let id = Id::find_by_statement(insert_project(
                t,
                name,
                kind,
                Stage::Implementation,
                cal.implementation_on,
                public,
            ))
            .one(c)
            .await?
            .ok_or_else(|| StorageError::Rejected("演示项目未能写入".into()))?
            .id;
            projects += 1;
            // Budgets: a third of each source (the last town takes what division leaves). Nine
            // tenths of it is passed down to the town ten days after the funds arrived; the
            // district keeps the rest in reserve (预留).
            for (source, amount, parent) in &parents {
                let share =
                    if k as i64 == n - 1 { amount.fen() - amount.fen() / n * (n - 1) } else { amount.fen() / n };
                c.execute_raw(db.stmt(
                    "INSERT INTO project_budgets (project_id, source, amount_fen) VALUES ($1, $2, $3)",
                    vec![id.into(), source.code().into(), share.into()],
                ))
                .await?;
                let passed_on = cal.arrived_on + chrono::Duration::days(10);
                c.execute_raw(db.stmt(
                    "INSERT INTO fund_allocations (year, source, region_code, district_code, amount_fen, allocated_on, arrived_on, parent_id) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    vec![
                        year.into(),
                        source.code().into(),
                        t.into(),
                        code.clone().into(),
                        (share * 9 / 10).into(),
                        passed_on.into(),
                        passed_on.into(),
                        (*parent).into(),
                    ],
                ))
                .await?;
            }
            for hid in &served {
                c.execute_raw(db.stmt(
                    "INSERT INTO project_households (project_id, household_id, expected_benefit_fen) VALUES ($1, $2, $3)",
                    vec![id.into(), (*hid).into(), Money::from_yuan(3000).fen().into()],
                ))
                .await?;
            }
            c.execute_raw(attach("project:plan", id, t.to_string(), "项目方案.pdf")).await?;
            c.execute_raw(attach("project:approval", id, t.to_string(), "立项批复.pdf")).await?;
            c.execute_raw(db.stmt(
                "INSERT INTO project_notices (project_id, stage, noticed_on) VALUES ($1, $2, $3)",
                vec![id.into(), Stage::Approval.code().into(), cal.approval_notice_on.into()],
            ))
            .await?;
            // This project's part of what the district has paid, in two payments.
            let mine = if k as i64 == n - 1 { to_pay - to_pay / n * (n - 1) } else { to_pay / n };
            for (i, on) in cal.payments_on.iter().enumerate() {
                let amount = if i == 0 { mine / 2 } else { mine - mine / 2 };
                let pid = Id::find_by_statement(db.stmt(
                    "INSERT INTO disbursements (project_id, paid_on, amount_fen, payee, recorded_by, recorded_at) \
                     VALUES ($1, $2, $3, $4, 'demo', $5) RETURNING id",
                    vec![
                        id.into(),
                        (*on).into(),
                        amount.into(),
                        format!("{}项目承建单位", town.name).into(),
                        now.into(),
                    ],
                ))
                .one(c)
                .await?
                .ok_or_else(|| StorageError::Rejected("演示拨付未能写入".into()))?
                .id;
                c.execute_raw(attach("disbursement", pid, t.to_string(), "拨付凭证.pdf")).await?;
            }
        }
        // The demo's town accounts (海宴, 那吉, 环市) have no project; their district passes them a
        // twentieth of its provincial funds in spring, still unspent: funds left lying in a town.
        for (_, _, role, region) in DEMO_ACCOUNTS {
            let Some(town) = region.filter(|r| role == "town" && r.len() == 9 && r.starts_with(&code)) else {
                continue;
            };
            let Some((source, amount, parent)) = parents.iter().find(|(s, _, _)| *s == FundSource::Provincial) else {
                continue;
            };
            let passed_on = cal.arrived_on + chrono::Duration::days(20);
            c.execute_raw(db.stmt(
                "INSERT INTO fund_allocations (year, source, region_code, district_code, amount_fen, allocated_on, arrived_on, parent_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                vec![
                    year.into(),
                    source.code().into(),
                    town.into(),
                    code.clone().into(),
                    (amount.fen() / 20).into(),
                    passed_on.into(),
                    passed_on.into(),
                    (*parent).into(),
                ],
            ))
            .await?;
        }
        // One project entered in February and still in planning, without its plan.
        if let Some(first) = towns.first() {
            let t = first.code.as_str();
            let name = format!("{}产业扶贫项目", first.name);
            let id = Id::find_by_statement(insert_project(
                t,
                name,
                ProjectType::Industry,
                Stage::Planning,
                cal.entered_on,
                "惠及全镇贫困户",
            ))
            .one(c)
            .await?
            .ok_or_else(|| StorageError::Rejected("演示项目未能写入".into()))?
            .id;
            projects += 1;
            c.execute_raw(db.stmt(
                "INSERT INTO project_budgets (project_id, source, amount_fen) VALUES ($1, $2, $3)",
                vec![id.into(), FundSource::District.code().into(), Money::from_yuan(100_000).fen().into()],
            ))
            .await?;
        }
    }
    Ok(projects)
}

/// The evidence file shared by the demo's measures.
struct EvidenceFile {
    sha256: String,
    size: i64,
}

async fn write_batch(
    db: &Db,
    txn: &DatabaseTransaction,
    batch: &[DemoHousehold],
    now: chrono::DateTime<Utc>,
    evidence: &EvidenceFile,
    summary: &mut DemoSummary,
) -> Result<(), StorageError> {
    let mut evidence_rows: Vec<Vec<Value>> = Vec::new();
    let (mut hs, mut ms, mut fs, mut ss, mut ps, mut pis, mut mes, mut ls, mut ds) =
        (vec![], vec![], vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
    for d in batch {
        // The demo loads into an empty registry, so a household's id is its index + 1, and its
        // one plan (for the demo year) shares that id.
        let id = d.index as i64 + 1;
        let h = &d.household;
        let cadre_id = d.cadre.map(|c| c as i64 + 1);
        let keys = db.keys()?;
        let keys = &*keys;
        let mut hm = registry::household_model(keys, h, d.district_code.clone(), d.town_code.clone(), now)?;
        hm.id = Set(id);
        hm.cadre_id = Set(cadre_id);
        hm.record_book_issued = Set(d.record_book.issued);
        hm.record_book_provincial = Set(d.record_book.provincial_format);
        hm.record_book_checked_on = Set(d.record_book.last_checked);
        hs.push(hm);
        for (k, m) in d.members.iter().enumerate() {
            ms.push(registry::member_model(keys, id, k as i32 + 1, m, now)?);
        }
        for f in &d.finances {
            fs.push(finance::ActiveModel {
                id: NotSet,
                household_id: Set(id),
                year: Set(f.year),
                household_size: Set(d.members.len() as i32),
                wage_income: Set(f.wage_income.fen()),
                business_income: Set(f.business_income.fen()),
                property_income: Set(f.property_income.fen()),
                transfer_income: Set(f.transfer_income.fen()),
                production_costs: Set(f.production_costs.fen()),
                declared_total_income: Set(f.declared_total_income.map(|m| m.fen())),
                living_expenditure: Set(f.living_expenditure.map(|m| m.fen())),
            });
        }
        for (status, on) in &d.status_history {
            ss.push(status_history::ActiveModel {
                id: NotSet,
                household_id: Set(id),
                status: Set(status.code().into()),
                effective_on: Set(*on),
                note: Set(None),
                recorded_by: Set(Some("演示数据".into())),
                recorded_at: Set(now),
            });
        }
        if let Some(p) = &d.plan {
            ps.push(plan::ActiveModel {
                id: Set(id),
                household_id: Set(id),
                year: Set(p.year),
                target_income: Set(p.target_income.fen()),
                made_on: Set(p.made_on),
                cadre_id: Set(cadre_id),
            });
            for c in &p.planned {
                pis.push(plan_item::ActiveModel {
                    id: NotSet,
                    plan_id: Set(id),
                    category: Set(c.code().into()),
                    note: Set(None),
                });
            }
        }
        for (k, m) in d.measures.iter().enumerate() {
            // Ids given here (the registry is empty), so that evidence can point at them.
            summary.measures += 1;
            let measure_id = summary.measures as i64;
            if !d.unevidenced.contains(&k) {
                evidence_rows.push(vec![
                    measure_id.into(),
                    id.into(),
                    h.village_code.clone().into(),
                    evidence.sha256.clone().into(),
                    now.into(),
                ]);
            }
            mes.push(measure::ActiveModel {
                id: Set(measure_id),
                household_id: Set(id),
                plan_id: Set(d.plan.as_ref().map(|_| id)),
                category: Set(m.category.code().into()),
                description: Set(m.description.clone()),
                delivered_on: Set(m.delivered_on),
                amount: Set(m.amount.fen()),
                income_generating: Set(m.income_generating),
                project_id: Set(None),
            });
        }
        for l in &d.logs {
            ls.push(log::ActiveModel {
                id: NotSet,
                household_id: Set(id),
                cadre_id: Set(cadre_id),
                visited_on: Set(l.visited_on),
                content: Set(l.content.clone()),
                location: Set(None),
            });
        }
        for df in &d.defects {
            ds.push(defect::ActiveModel {
                id: NotSet,
                kind: Set(df.kind.code().into()),
                household_id: Set(id),
                member_seq: Set(df.member.map(|k| k as i32 + 1)),
            });
        }
        summary.households += 1;
        summary.members += d.members.len() as u64;
        summary.defects += d.defects.len() as u64;
    }
    insert_chunks(txn, hs).await?;
    insert_chunks(txn, ms).await?;
    insert_chunks(txn, fs).await?;
    insert_chunks(txn, ss).await?;
    insert_chunks(txn, ps).await?;
    insert_chunks(txn, pis).await?;
    insert_chunks(txn, mes).await?;
    insert_chunks(txn, ls).await?;
    insert_chunks(txn, ds).await?;
    for chunk in evidence_rows.chunks(ROWS_PER_INSERT) {
        let mut values = Vec::with_capacity(chunk.len() * 5);
        let mut tuples = Vec::with_capacity(chunk.len());
        for row in chunk {
            let n = values.len();
            tuples.push(format!(
                "('help_measure', ${}, ${}, ${}, '演示佐证材料.pdf', 'application/pdf', {}, ${}, '演示数据', ${})",
                n + 1,
                n + 2,
                n + 3,
                evidence.size,
                n + 4,
                n + 5
            ));
            values.extend(row.iter().cloned());
        }
        let sql = format!(
            "INSERT INTO evidence (owner_kind, owner_id, household_id, village_code, filename, content_type, size, sha256, uploaded_by, uploaded_at) VALUES {}",
            tuples.join(", ")
        );
        txn.execute_raw(db.stmt(&sql, values)).await?;
    }
    Ok(())
}

/// Deliberate problems in the loaded demo, per kind (code), for checks to be measured against.
pub(crate) async fn defect_counts(db: &Db) -> Result<Vec<(String, i64)>, StorageError> {
    #[derive(FromQueryResult)]
    struct Row {
        kind: String,
        n: i64,
    }
    let rows = Row::find_by_statement(
        db.stmt("SELECT kind, COUNT(*) AS n FROM demo_defects GROUP BY kind ORDER BY kind", vec![]),
    )
    .all(db.conn())
    .await?;
    Ok(rows.into_iter().map(|r| (r.kind, r.n)).collect())
}

/// The demo's accounts: one per role and scope, all with [`DEMO_PASSWORD`].
pub const DEMO_ACCOUNTS: [(&str, &str, &str, Option<&str>); 15] = [
    ("admin", "系统管理员", "admin", None),
    ("city", "市扶贫办", "city", Some("4407")),
    ("leader", "市领导", "leader", Some("4407")),
    ("inspector", "督查组", "inspector", Some("4407")),
    ("pengjiang", "蓬江区扶贫办", "district", Some("440703")),
    ("jianghai", "江海区扶贫办", "district", Some("440704")),
    ("xinhui", "新会区扶贫办", "district", Some("440705")),
    ("taishan", "台山市扶贫办", "district", Some("440781")),
    ("kaiping", "开平市扶贫办", "district", Some("440783")),
    ("heshan", "鹤山市扶贫办", "district", Some("440784")),
    ("enping", "恩平市扶贫办", "district", Some("440785")),
    ("haiyan", "海宴镇扶贫办", "town", Some("440781111")),
    ("naji", "那吉镇扶贫办", "town", Some("440785107")),
    ("huanshi", "环市街道扶贫办", "town", Some("440703006")),
    ("cadre", "海宴镇帮扶责任人", "cadre", Some("440781111")),
];

/// Demo accounts' password: for trying ducha out, never for real data.
pub const DEMO_PASSWORD: &str = "ducha2017";

/// Create the demo accounts that do not exist yet (those whose region is not loaded are left
/// out). Returns the accounts created.
pub(crate) async fn create_demo_users(db: &Db, actor: &Actor) -> Result<Vec<crate::accounts::User>, StorageError> {
    use ducha_domain::access::Role;
    let mut made = Vec::new();
    for (username, display_name, role, region) in DEMO_ACCOUNTS {
        if crate::accounts::find_user(db, username).await?.is_some() {
            continue;
        }
        if let Some(code) = region
            && regions::get(db, code).await?.is_none()
        {
            continue;
        }
        let role = Role::parse(role).map_err(|e| StorageError::Rejected(e.to_string()))?;
        let new = crate::accounts::NewUser {
            username: username.into(),
            display_name: display_name.into(),
            role,
            region_code: region.map(str::to_string),
            password: DEMO_PASSWORD.into(),
        };
        made.push(crate::accounts::add_user(db, actor, &new).await?);
    }
    Ok(made)
}

pub struct Demo<'a>(pub(crate) &'a crate::Scoped);

impl crate::Scoped {
    pub fn demo(&self) -> Demo<'_> {
        Demo(self)
    }
}

impl Demo<'_> {
    /// Generate the demo city from `config` over the regions in the database and write it.
    /// Refuses a registry that already has households. `progress` hears households written so far.
    pub async fn load(&self, config: DemoConfig, progress: impl Fn(u64, u64)) -> Result<DemoSummary, StorageError> {
        load(self.0.db(), self.0.actor(), config, progress).await
    }

    /// Deliberate problems in the loaded demo, per kind (code), for checks to be measured against.
    pub async fn defect_counts(&self) -> Result<Vec<(String, i64)>, StorageError> {
        defect_counts(self.0.db()).await
    }

    /// Create the demo accounts that do not exist yet (those whose region is not loaded are left
    /// out). Returns the accounts created.
    pub async fn create_demo_users(&self) -> Result<Vec<crate::accounts::User>, StorageError> {
        create_demo_users(self.0.db(), self.0.actor()).await
    }
}
