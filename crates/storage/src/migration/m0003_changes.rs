//! Dynamic management: change requests, and members who left a household (kept, with when and why).

use sea_orm_migration::{prelude::*, schema::*};

use super::m0001_registry::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let a = |s: &str| Alias::new(s);
        m.create_table(
            Table::create()
                .table(a("change_requests"))
                .col(big_pk_auto(a("id")))
                .col(big_integer_null(a("household_id")))
                .col(string_len(a("village_code"), 12))
                .col(string_len(a("kind"), 24))
                .col(text(a("payload")))
                .col(text(a("reason")))
                .col(date(a("effective_on")))
                .col(string_len(a("status"), 16))
                .col(string_len(a("submitted_by"), 64))
                .col(timestamp_with_time_zone(a("submitted_at")))
                .col(string_len_null(a("decided_by"), 64))
                .col(timestamp_with_time_zone_null(a("decided_at")))
                .col(text_null(a("decision_comment")))
                .col(big_integer_null(a("result_household_id")))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_changes_household", "change_requests", &["household_id"])).await?;
        m.create_index(index("idx_changes_status_village", "change_requests", &["status", "village_code"])).await?;
        // SQLite adds one column per ALTER TABLE.
        m.alter_table(Table::alter().table(a("members")).add_column(date_null(a("left_on"))).to_owned()).await?;
        m.alter_table(Table::alter().table(a("members")).add_column(string_len_null(a("left_reason"), 32)).to_owned())
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Alias::new("change_requests")).to_owned()).await
    }
}
