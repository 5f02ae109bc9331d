//! Personal data sealed at rest (issue 22): the data keys, wrapped under a master key the
//! database never holds; a blind lookup of each member's ID number (an HMAC, so that search,
//! uniqueness and the duplicate rule still work without decrypting); and, on PostgreSQL, text
//! columns wide enough for ciphertext (SQLite does not enforce a length).

use sea_orm_migration::{prelude::*, schema::*, sea_orm::DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let a = |s: &str| Alias::new(s);
        m.create_table(
            Table::create()
                .table(a("data_keys"))
                .col(big_integer(a("id")).primary_key())
                .col(string_len(a("suite"), 8))
                .col(string_len(a("purpose"), 8))
                .col(string_len(a("wrapped"), 200))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone_null(a("retired_at")))
                .to_owned(),
        )
        .await?;
        m.alter_table(Table::alter().table(a("members")).add_column(string_len_null(a("id_lookup"), 64)).to_owned())
            .await?;
        m.create_index(
            Index::create().name("idx_members_id_lookup").table(a("members")).col(a("id_lookup")).to_owned(),
        )
        .await?;
        if m.get_database_backend() == DatabaseBackend::Postgres {
            for (table, column) in [
                ("members", "id_number"),
                ("members", "phone"),
                ("households", "phone"),
                ("households", "bank_account"),
                ("cadres", "phone"),
            ] {
                m.alter_table(
                    Table::alter().table(a(table)).modify_column(ColumnDef::new(a(column)).text()).to_owned(),
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let a = |s: &str| Alias::new(s);
        m.drop_index(Index::drop().name("idx_members_id_lookup").table(a("members")).to_owned()).await?;
        m.alter_table(Table::alter().table(a("members")).drop_column(a("id_lookup")).to_owned()).await?;
        m.drop_table(Table::drop().table(a("data_keys")).to_owned()).await
    }
}
