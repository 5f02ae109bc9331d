//! `ducha platform` and `ducha funds`: posted cadres' attendance, the one-stop settlement of
//! designated institutions, and spending progress, as tables on the screen or the workbooks the
//! pages export.

use anyhow::Result;
use ducha_storage::Db;

use crate::cli::{FundsCommand, PlatformCommand};
use crate::commands::acting_as;

fn rate(r: Option<i64>) -> String {
    r.map(|v| format!("{v}%")).unwrap_or_else(|| "—".into())
}

pub async fn command(db: &Db, cmd: PlatformCommand) -> Result<()> {
    match cmd {
        PlatformCommand::Attendance { out, as_user } => {
            let actor = acting_as(db, as_user.as_deref()).await?;
            let scoped = db.scoped(&actor);
            let (year, as_of) = scoped.checks().current().await?;
            println!("{year} 年派驻镇（街）扶贫干部驻点考勤（截至 {as_of}）");
            println!(
                "{:<10} {:>6} {:>6} {:>8} {:>8} {:>10} {:>7}",
                "地区", "派驻", "全职", "无考勤", "考勤天数", "应到岗工作日", "到岗率"
            );
            let attendance = scoped.platform().attendance();
            for s in attendance.by_region(attendance.level()).await? {
                println!(
                    "{:<10} {:>8} {:>8} {:>10} {:>10} {:>14} {:>9}",
                    s.name,
                    s.postings,
                    s.full_time,
                    s.on_paper,
                    s.days_present,
                    s.expected_days,
                    rate(s.rate_percent)
                );
            }
            if let Some(path) = out {
                let (_, bytes) = ducha_reports::platform::attendance_report(&scoped).await?;
                crate::files::write_private(&path, &bytes)?;
                println!("已写出 {}", path.display());
            }
        }
        PlatformCommand::Institutions { as_user } => {
            let actor = acting_as(db, as_user.as_deref()).await?;
            println!("定点医疗机构一站式结算上线情况");
            println!("{:<10} {:>6} {:>6} {:>7}", "市（区）", "机构数", "已上线", "上线率");
            for s in db.scoped(&actor).platform().institutions().online_by_district().await? {
                println!("{:<10} {:>8} {:>8} {:>9}", s.name, s.institutions, s.online, rate(s.rate_percent));
            }
        }
    }
    Ok(())
}

pub async fn funds_command(db: &Db, cmd: FundsCommand) -> Result<()> {
    let FundsCommand::Progress { out, as_user } = cmd;
    let actor = acting_as(db, as_user.as_deref()).await?;
    let scoped = db.scoped(&actor);
    let (year, as_of) = scoped.checks().current().await?;
    let p = scoped.checks().params(year, as_of).await?;
    let month = u32::try_from(p.spend_full_by_month).unwrap_or(12);
    let rows = scoped.funds().spending().by_region(as_of, month).await?;
    let target = ducha_domain::funds::target_percent(year, as_of, month);
    println!("{year} 年扶贫资金使用进度（截至 {as_of}，目标 {target}%）");
    println!("{:<10} {:>16} {:>16} {:>7}  判断", "地区", "已下达（元）", "已拨付（元）", "进度");
    for s in &rows {
        let verdict = match s.lag() {
            Some(l) => format!("滞后 {l} 个百分点"),
            None => "达到目标".into(),
        };
        println!("{:<10} {:>18} {:>18} {:>9}  {verdict}", s.name, s.allocated, s.paid, rate(s.percent));
    }
    if let Some(path) = out {
        let projects = scoped.funds().projects().list().await?;
        let allocations = scoped.funds().allocations().list().await?;
        let sources = scoped.funds().spending().by_source(as_of, month).await?;
        let sheets = ducha_reports::funds::ProgressSheets { year, on: as_of, regions: &rows, sources: &sources };
        let bytes = ducha_reports::funds::progress_workbook(&sheets, &projects, &allocations)?;
        crate::files::write_private(&path, &bytes)?;
        println!("已写出 {}", path.display());
    }
    Ok(())
}
