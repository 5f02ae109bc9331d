//! The `cadres` table: help cadres (帮扶责任人).
use sea_orm::entity::prelude::*;

use crate::personal::{Personal, Phone};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "cadres")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub unit: String,
    pub phone: Option<Personal<Phone>>,
    pub town_code: String,
    pub active: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
