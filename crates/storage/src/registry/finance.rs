//! The `household_finances` table: one row per household and year, money in fen.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "household_finances")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub household_id: i64,
    pub year: i32,
    pub household_size: i32,
    pub wage_income: i64,
    pub business_income: i64,
    pub property_income: i64,
    pub transfer_income: i64,
    pub production_costs: i64,
    pub declared_total_income: Option<i64>,
    pub living_expenditure: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
