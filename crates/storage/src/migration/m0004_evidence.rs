//! Evidence (佐证材料): files attached to records, stored once by content hash.

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
                .table(a("evidence_blobs"))
                .col(string_len(a("sha256"), 64).primary_key())
                .col(big_integer(a("size")))
                .col(blob(a("data")))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("evidence"))
                .col(big_pk_auto(a("id")))
                .col(string_len(a("owner_kind"), 24))
                .col(big_integer(a("owner_id")))
                .col(big_integer_null(a("household_id")))
                .col(string_len(a("village_code"), 12))
                .col(string_len(a("filename"), 200))
                .col(string_len(a("content_type"), 100))
                .col(big_integer(a("size")))
                .col(string_len(a("sha256"), 64))
                .col(string_len(a("uploaded_by"), 64))
                .col(timestamp_with_time_zone(a("uploaded_at")))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_evidence_owner", "evidence", &["owner_kind", "owner_id"])).await?;
        m.create_index(index("idx_evidence_household", "evidence", &["household_id"])).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Alias::new("evidence")).to_owned()).await?;
        m.drop_table(Table::drop().table(Alias::new("evidence_blobs")).to_owned()).await
    }
}
