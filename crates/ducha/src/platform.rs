//! `ducha platform`: posted cadres' attendance and the one-stop settlement of designated
//! institutions, as tables on the screen or the workbook the pages export.

use anyhow::{Context, Result};
use ducha_storage::{Db, platform};

use crate::cli::PlatformCommand;
use crate::commands::acting_as;

fn rate(r: Option<i64>) -> String {
    r.map(|v| format!("{v}%")).unwrap_or_else(|| "—".into())
}

pub async fn command(db: &Db, cmd: PlatformCommand) -> Result<()> {
    match cmd {
        PlatformCommand::Attendance { out, as_user } => {
            let actor = acting_as(db, as_user.as_deref()).await?;
            let scope = &actor.scope;
            let (year, as_of) = ducha_storage::checks::current(db).await?;
            println!("{year} 年派驻镇（街）扶贫干部驻点考勤（截至 {as_of}）");
            println!(
                "{:<10} {:>6} {:>6} {:>8} {:>8} {:>10} {:>7}",
                "地区", "派驻", "全职", "无考勤", "考勤天数", "应到岗工作日", "到岗率"
            );
            for s in platform::attendance_by_region(db, scope, platform::summary_level(scope)).await? {
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
                let (_, bytes) = ducha_reports::platform::attendance_report(db, scope).await?;
                std::fs::write(&path, bytes).with_context(|| format!("无法写入 {}", path.display()))?;
                println!("已写出 {}", path.display());
            }
        }
        PlatformCommand::Institutions { as_user } => {
            let actor = acting_as(db, as_user.as_deref()).await?;
            println!("定点医疗机构一站式结算上线情况");
            println!("{:<10} {:>6} {:>6} {:>7}", "市（区）", "机构数", "已上线", "上线率");
            for s in platform::online_by_district(db, &actor.scope).await? {
                println!("{:<10} {:>8} {:>8} {:>9}", s.name, s.institutions, s.online, rate(s.rate_percent));
            }
        }
    }
    Ok(())
}
