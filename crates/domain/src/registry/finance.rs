//! A household's income and expenditure for one year (家庭收支), and the per-capita net income
//! (人均纯收入) that decides whether it is poor, fragile or able to exit.

use serde::{Deserialize, Serialize};

use crate::money::Money;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct YearFinance {
    pub year: i32,
    /// 工资性收入
    pub wage_income: Money,
    /// 生产经营性收入
    pub business_income: Money,
    /// 财产性收入
    pub property_income: Money,
    /// 转移性收入 (pensions, subsidies, welfare)
    pub transfer_income: Money,
    /// 生产经营性支出
    pub production_costs: Money,
    /// 年收入合计 as written on the form; may disagree with the components (a check looks).
    pub declared_total_income: Option<Money>,
    /// 家庭年生活消费支出
    pub living_expenditure: Option<Money>,
}

impl YearFinance {
    pub fn total_income(&self) -> Money {
        self.wage_income + self.business_income + self.property_income + self.transfer_income
    }

    /// 家庭纯收入 = income − production costs.
    pub fn net_income(&self) -> Money {
        self.total_income() - self.production_costs
    }

    /// 人均纯收入 over the household's size that year.
    pub fn per_capita_net(&self, household_size: i64) -> Option<Money> {
        self.net_income().per(household_size)
    }
}

/// The figures a year is judged by. Placeholders that an office edits (a later page and file
/// keep them per year); the demo city shapes its incomes around them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct YearStandard {
    pub year: i32,
    /// Per-capita net income below which a household is identified as poor.
    pub poverty_line: Money,
    /// Per-capita net income a household must reach to exit (预脱贫/脱贫).
    pub exit_standard: Money,
    /// Above the exit standard by less than this: exited but fragile.
    pub fragile_band: Money,
}

impl YearStandard {
    /// Working figures for Guangdong's 2016–2020 campaign: a relative-poverty line of 4,000 yuan
    /// (2014 prices) and an exit standard rising each year. Confirm against the province's notice.
    pub fn default_for(year: i32) -> YearStandard {
        let exit = match year {
            ..=2016 => 7_000,
            2017 => 7_500,
            2018 => 8_000,
            2019 => 8_500,
            _ => 9_000,
        };
        YearStandard {
            year,
            poverty_line: Money::from_yuan(4_000),
            exit_standard: Money::from_yuan(exit),
            fragile_band: Money::from_yuan(1_000),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn net_and_per_capita() {
        let f = YearFinance {
            year: 2017,
            wage_income: Money::from_yuan(12_000),
            business_income: Money::from_yuan(3_000),
            property_income: Money::ZERO,
            transfer_income: Money::from_yuan(2_000),
            production_costs: Money::from_yuan(1_000),
            declared_total_income: None,
            living_expenditure: None,
        };
        assert_eq!(f.total_income(), Money::from_yuan(17_000));
        assert_eq!(f.net_income(), Money::from_yuan(16_000));
        assert_eq!(f.per_capita_net(3), Some(Money::from_fen(533_333)));
    }
}
