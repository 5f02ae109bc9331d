//! The `households` table.
use sea_orm::entity::prelude::*;

use crate::personal::{BankAccount, Personal, Phone};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "households")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub number: String,
    pub district_code: String,
    pub town_code: String,
    pub village_code: String,
    pub household_type: String,
    pub main_cause: String,
    pub other_cause_1: Option<String>,
    pub other_cause_2: Option<String>,
    pub food_clothing: bool,
    pub compulsory_education: bool,
    pub basic_medical: bool,
    pub safe_housing: bool,
    pub safe_water: bool,
    pub status: String,
    pub identified_on: Date,
    pub address: String,
    pub phone: Option<Personal<Phone>>,
    pub bank_account: Option<Personal<BankAccount>>,
    pub cadre_id: Option<i64>,
    pub record_book_issued: bool,
    pub record_book_provincial: bool,
    pub record_book_checked_on: Option<Date>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
