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

/// The yearly finance form as typed (yuan; the optional figures may be left blank).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct FinanceForm {
    #[serde(deserialize_with = "crate::validation::text_or_number")]
    pub year: String,
    #[serde(deserialize_with = "crate::validation::text_or_number")]
    pub household_size: String,
    #[serde(deserialize_with = "crate::validation::text_or_number")]
    pub wage_income: String,
    #[serde(deserialize_with = "crate::validation::text_or_number")]
    pub business_income: String,
    #[serde(deserialize_with = "crate::validation::text_or_number")]
    pub property_income: String,
    #[serde(deserialize_with = "crate::validation::text_or_number")]
    pub transfer_income: String,
    #[serde(deserialize_with = "crate::validation::text_or_number")]
    pub production_costs: String,
    #[serde(deserialize_with = "crate::validation::text_or_number")]
    pub declared_total_income: String,
    #[serde(deserialize_with = "crate::validation::text_or_number")]
    pub living_expenditure: String,
}

impl FinanceForm {
    /// This form with every field left empty taken from `stored` (the year as recorded): what a
    /// partial update through the API means.
    pub fn or_else(self, stored: FinanceForm) -> FinanceForm {
        let pick = |given: String, kept: String| if given.trim().is_empty() { kept } else { given };
        FinanceForm {
            year: pick(self.year, stored.year),
            household_size: pick(self.household_size, stored.household_size),
            wage_income: pick(self.wage_income, stored.wage_income),
            business_income: pick(self.business_income, stored.business_income),
            property_income: pick(self.property_income, stored.property_income),
            transfer_income: pick(self.transfer_income, stored.transfer_income),
            production_costs: pick(self.production_costs, stored.production_costs),
            declared_total_income: pick(self.declared_total_income, stored.declared_total_income),
            living_expenditure: pick(self.living_expenditure, stored.living_expenditure),
        }
    }
}

impl FinanceForm {
    /// The year's figures and the household's size that year, every field's problem at once.
    /// `this_year`: no year after it can be recorded.
    pub fn validate(&self, this_year: i32) -> Result<(YearFinance, i32), crate::validation::FieldErrors> {
        let mut e = crate::validation::FieldErrors::default();
        let year = match self.year.trim().parse::<i32>() {
            Ok(y) if (2014..=this_year).contains(&y) => Some(y),
            _ => {
                e.add("year", format!("年度应为 2014 至 {this_year} 之间的年份，填的是“{}”", self.year.trim()));
                None
            }
        };
        let size = match self.household_size.trim().parse::<i32>() {
            Ok(n) if (1..=30).contains(&n) => Some(n),
            _ => {
                e.add("household_size", format!("家庭人口应为 1 至 30 人，填的是“{}”", self.household_size.trim()));
                None
            }
        };
        use crate::money::{Limit, parse_amount};
        let mut amount = |field: &str, label: &str, text: &str| {
            let m = parse_amount(label, if text.trim().is_empty() { "0" } else { text }, Limit::Household);
            e.take(field, m)
        };
        let wage = amount("wage_income", "工资性收入", &self.wage_income);
        let business = amount("business_income", "生产经营性收入", &self.business_income);
        let property = amount("property_income", "财产性收入", &self.property_income);
        let transfer = amount("transfer_income", "转移性收入", &self.transfer_income);
        let costs = amount("production_costs", "生产经营性支出", &self.production_costs);
        let mut optional = |field: &str, label: &str, text: &str| match text.trim() {
            "" => Some(None),
            t => e.take(field, parse_amount(label, t, Limit::Household)).map(Some),
        };
        let declared = optional("declared_total_income", "年收入合计", &self.declared_total_income);
        let living = optional("living_expenditure", "生活消费支出", &self.living_expenditure);
        e.into_result(|| {
            Some((
                YearFinance {
                    year: year?,
                    wage_income: wage?,
                    business_income: business?,
                    property_income: property?,
                    transfer_income: transfer?,
                    production_costs: costs?,
                    declared_total_income: declared?,
                    living_expenditure: living?,
                },
                size?,
            ))
        })
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

    #[test]
    fn the_form_reads_yuan_and_refuses_each_bad_field() {
        let form = FinanceForm {
            year: "2017".into(),
            household_size: "3".into(),
            wage_income: "12,000".into(),
            business_income: "3000.5".into(),
            production_costs: "1000".into(),
            ..Default::default()
        };
        let (f, size) = form.validate(2017).expect("valid");
        assert_eq!((f.total_income(), f.declared_total_income, size), (Money::from_fen(1_500_050), None, 3));
        let bad = FinanceForm {
            year: "2018".into(),
            household_size: "0".into(),
            wage_income: "-5".into(),
            living_expenditure: "很多".into(),
            ..form
        };
        let e = bad.validate(2017).unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["year", "household_size", "wage_income", "living_expenditure"]);
    }
}
