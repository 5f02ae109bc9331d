//! The `members` table.
use sea_orm::entity::prelude::*;

use crate::personal::{Health, IdNumber, Personal, Phone};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "members")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub household_id: i64,
    pub seq: i32,
    pub name: String,
    pub id_number: Personal<IdNumber>,
    pub relation: String,
    pub sex: String,
    pub birth_date: Date,
    pub education: String,
    pub school_stage: String,
    pub out_of_school_reason: Option<String>,
    pub health: Personal<Health>,
    pub labour_ability: String,
    pub medical_insurance: bool,
    pub phone: Option<Personal<Phone>>,
    pub left_on: Option<Date>,
    pub left_reason: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The blind lookup of the ID number (HMAC): search and uniqueness without decrypting.
    pub id_lookup: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
