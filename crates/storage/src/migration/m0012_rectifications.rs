//! Rectification (整改) of each confirmed campaign problem: its deadline, where it stands, what
//! the office reported and when, who verified it, and why it was sent back. Evidence files are
//! attachments of kind "rectification".

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let a = |s: &str| Alias::new(s);
        m.create_table(
            Table::create()
                .table(a("rectifications"))
                .col(big_integer(a("problem_id")).primary_key())
                .col(date(a("deadline")))
                .col(string_len(a("status"), 16))
                .col(text(a("description")))
                .col(text(a("return_reason")))
                .col(string_len_null(a("submitted_by"), 64))
                .col(timestamp_with_time_zone_null(a("submitted_at")))
                .col(string_len_null(a("verified_by"), 64))
                .col(timestamp_with_time_zone_null(a("verified_at")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Alias::new("rectifications")).to_owned()).await?;
        Ok(())
    }
}
