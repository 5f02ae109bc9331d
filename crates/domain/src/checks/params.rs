//! The audit's parameters by year: the poverty line and exit standard, the fragile band, how old a
//! help log may be, and so on. Kept in a TOML file an office can edit (`data/parameters.toml`) and
//! in the database; every rule reads them from here, never a constant.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::money::Money;
use crate::registry::YearStandard;

/// The parameters one audit runs with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditParams {
    pub year: i32,
    /// The day the audit stands on (ages, how old a log is).
    pub as_of: NaiveDate,
    /// 贫困线：人均纯收入（元）。
    pub poverty_line: i64,
    /// 脱贫标准：人均纯收入（元）。
    pub exit_standard: i64,
    /// 刚过标准（脆弱）的幅度（元）。
    pub fragile_band: i64,
    /// 帮扶日志多少天未更新即为过期。
    pub log_stale_days: i64,
    /// 有劳动能力的户制定计划多少天后仍无发展类措施即提示。
    pub development_grace_days: i64,
    /// 计划制定多少天后仍未录入措施即提示。
    pub plan_measure_grace_days: i64,
    /// 生活消费支出超过总收入的百分之多少即为“收支不对等”。
    pub expenditure_ratio_percent: i64,
    /// 人均纯收入超过多少（元）即为“数额不合理”。
    pub implausible_per_capita: i64,
    /// 帮扶记录本多少天未检查即提示。
    pub record_book_check_days: i64,
    /// 村内无当年计划的户至少多少户、占比超过百分之多少，村一级提示。
    pub village_gap_min: i64,
    pub village_gap_percent: i64,
    /// 派驻干部驻点到岗率低于百分之多少即提示。
    pub attendance_min_percent: i64,
    /// 派驻满多少个工作日后才判断考勤。
    pub attendance_grace_days: i64,
    /// 扶贫资金应在几月底前全部拨付（进度目标线从 1 月 1 日的 0 直线升到该月底的 100%）。
    pub spend_full_by_month: i64,
    /// 资金使用进度低于目标线多少个百分点即提示。
    pub spend_gap_points: i64,
    /// 项目在筛选、计划编报、审批阶段停留多少天即提示。
    pub project_stage_days: i64,
    /// 镇（街）扶贫办一年内离岗人数超过多少即为“人员轮换频繁”。
    pub office_turnover_max: i64,
}

impl AuditParams {
    /// The built-in values for a year (the exit standard from `YearStandard`).
    pub fn defaults(year: i32, as_of: NaiveDate) -> AuditParams {
        let s = YearStandard::default_for(year);
        AuditParams {
            year,
            as_of,
            poverty_line: s.poverty_line.round_yuan(),
            exit_standard: s.exit_standard.round_yuan(),
            fragile_band: s.fragile_band.round_yuan(),
            log_stale_days: 90,
            development_grace_days: 183,
            plan_measure_grace_days: 120,
            expenditure_ratio_percent: 200,
            implausible_per_capita: 100_000,
            record_book_check_days: 180,
            village_gap_min: 5,
            village_gap_percent: 30,
            attendance_min_percent: 80,
            attendance_grace_days: 10,
            spend_full_by_month: 12,
            spend_gap_points: 10,
            project_stage_days: 90,
            office_turnover_max: 2,
        }
    }

    pub fn standard(&self) -> YearStandard {
        YearStandard {
            year: self.year,
            poverty_line: Money::from_yuan(self.poverty_line),
            exit_standard: Money::from_yuan(self.exit_standard),
            fragile_band: Money::from_yuan(self.fragile_band),
        }
    }

    /// Each parameter with its Chinese name and value, as a page lists them.
    pub fn described(&self) -> Vec<(&'static str, &'static str, i64)> {
        vec![
            ("poverty_line", "贫困线（人均纯收入，元）", self.poverty_line),
            ("exit_standard", "脱贫标准（人均纯收入，元）", self.exit_standard),
            ("fragile_band", "刚过标准的脆弱幅度（元）", self.fragile_band),
            ("log_stale_days", "帮扶日志过期天数", self.log_stale_days),
            ("development_grace_days", "无发展类措施的宽限天数", self.development_grace_days),
            ("plan_measure_grace_days", "计划未录入措施的宽限天数", self.plan_measure_grace_days),
            ("expenditure_ratio_percent", "收支不对等：支出超过收入的百分比", self.expenditure_ratio_percent),
            ("implausible_per_capita", "人均纯收入不合理的上限（元）", self.implausible_per_capita),
            ("record_book_check_days", "帮扶记录本检查间隔天数", self.record_book_check_days),
            ("village_gap_min", "村级提示：无计划户数下限", self.village_gap_min),
            ("village_gap_percent", "村级提示：无计划户占比（%）", self.village_gap_percent),
            ("attendance_min_percent", "派驻干部到岗率下限（%）", self.attendance_min_percent),
            ("attendance_grace_days", "派驻满多少个工作日后判断考勤", self.attendance_grace_days),
            ("spend_full_by_month", "扶贫资金应全部拨付的月份（1–12）", self.spend_full_by_month),
            ("spend_gap_points", "资金进度低于目标线的提示幅度（百分点）", self.spend_gap_points),
            ("project_stage_days", "项目在立项前各阶段停留的提示天数", self.project_stage_days),
            ("office_turnover_max", "镇（街）扶贫办一年离岗人数上限", self.office_turnover_max),
        ]
    }

    /// Set one parameter by key; the value is checked for its kind of quantity.
    pub fn set(&mut self, key: &str, value: i64) -> Result<(), ParamError> {
        let bad = |why: &str| Err(ParamError { key: key.into(), message: why.into() });
        let slot = match key {
            "poverty_line" => &mut self.poverty_line,
            "exit_standard" => &mut self.exit_standard,
            "fragile_band" => &mut self.fragile_band,
            "log_stale_days" => &mut self.log_stale_days,
            "development_grace_days" => &mut self.development_grace_days,
            "plan_measure_grace_days" => &mut self.plan_measure_grace_days,
            "expenditure_ratio_percent" => &mut self.expenditure_ratio_percent,
            "implausible_per_capita" => &mut self.implausible_per_capita,
            "record_book_check_days" => &mut self.record_book_check_days,
            "village_gap_min" => &mut self.village_gap_min,
            "village_gap_percent" => &mut self.village_gap_percent,
            "attendance_min_percent" => &mut self.attendance_min_percent,
            "attendance_grace_days" => &mut self.attendance_grace_days,
            "spend_full_by_month" if !(1..=12).contains(&value) => return bad("应为 1 至 12 的月份"),
            "spend_full_by_month" => &mut self.spend_full_by_month,
            "spend_gap_points" => &mut self.spend_gap_points,
            "project_stage_days" => &mut self.project_stage_days,
            "office_turnover_max" => &mut self.office_turnover_max,
            _ => return bad("不是可设置的参数"),
        };
        if !(0..=10_000_000).contains(&value) {
            let label = self.described().iter().find(|d| d.0 == key).map(|d| d.1).unwrap_or_default();
            return bad(&format!("{label}应为 0 至 10000000 之间的整数，填的是 {value}"));
        }
        let old = std::mem::replace(slot, value);
        if self.exit_standard < self.poverty_line {
            // Put the old value back: a refused change changes nothing.
            let _ = self.set(key, old);
            return bad("脱贫标准不能低于贫困线");
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("参数“{key}”：{message}")]
pub struct ParamError {
    pub key: String,
    pub message: String,
}

/// The parameter file: values for all years under `[default]`, and per year under `[years.N]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct ParamFile {
    #[serde(default)]
    pub default: BTreeMap<String, i64>,
    #[serde(default)]
    pub years: BTreeMap<String, BTreeMap<String, i64>>,
}

impl ParamFile {
    pub fn parse(text: &str) -> Result<ParamFile, ParamError> {
        toml::from_str(text).map_err(|e| ParamError { key: "文件".into(), message: format!("格式不对：{e}") })
    }

    /// The parameters of a year: built-in values, then `[default]`, then the year's own.
    pub fn for_year(&self, year: i32, as_of: NaiveDate) -> Result<AuditParams, ParamError> {
        let mut p = AuditParams::defaults(year, as_of);
        for (k, v) in &self.default {
            p.set(k, *v)?;
        }
        if let Some(y) = self.years.get(&year.to_string()) {
            for (k, v) in y {
                p.set(k, *v)?;
            }
        }
        Ok(p)
    }
}

/// The parameter file shipped with ducha.
pub const DEFAULT_FILE: &str = include_str!("../../../../data/parameters.toml");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_file_reads_and_years_override_defaults() {
        let f = ParamFile::parse(DEFAULT_FILE).unwrap();
        let d = NaiveDate::from_ymd_opt(2017, 11, 1).unwrap();
        let p = f.for_year(2017, d).unwrap();
        assert_eq!(p.exit_standard, 7_500);
        assert_eq!(p.log_stale_days, 90);
        let bad = ParamFile::parse("[default]\nlog_stale_days = -3\n").unwrap();
        assert_eq!(
            bad.for_year(2017, d).unwrap_err().to_string(),
            "参数“log_stale_days”：帮扶日志过期天数应为 0 至 10000000 之间的整数，填的是 -3"
        );
        assert!(ParamFile::parse("[default\n").is_err());
    }
}
