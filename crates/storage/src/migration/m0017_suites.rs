//! Health facts sealed like the other personal values, and the audit chain hashed with the
//! chosen suite (issue 22). On PostgreSQL the health column and the chain's hash columns become
//! text: a sealed health code and an SM3 chain hash ("sm3:" and 64 hex digits) are longer than
//! the old widths (SQLite does not enforce a length). A register sealed before health was
//! sealed is sealed again at the next start that writes.

use sea_orm_migration::{prelude::*, sea_orm::DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let a = |s: &str| Alias::new(s);
        if m.get_database_backend() == DatabaseBackend::Postgres {
            for (table, column) in
                [("members", "health"), ("audit_log", "prev_hash"), ("audit_log", "hash"), ("audit_head", "last_hash")]
            {
                m.alter_table(
                    Table::alter()
                        .table(a(table))
                        .modify_column(ColumnDef::new(a(column)).text().not_null())
                        .to_owned(),
                )
                .await?;
            }
        }
        // The start that seals what is still in clear runs again, for the health column.
        m.get_connection().execute_unprepared("DELETE FROM settings WHERE key = 'personal_sealed'").await?;
        Ok(())
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        // Text columns hold whatever the narrower ones held; nothing to undo.
        Ok(())
    }
}
