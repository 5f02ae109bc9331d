//! Which server process runs an import job, and when it last said it was alive: a job whose
//! process stopped (a crash, a kill) is then known to be interrupted, on any host sharing the
//! database, instead of reading "正在导入" forever.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let a = |s: &str| Alias::new(s);
        m.alter_table(Table::alter().table(a("import_jobs")).add_column(string_len_null(a("owner"), 300)).to_owned())
            .await?;
        m.alter_table(
            Table::alter().table(a("import_jobs")).add_column(timestamp_with_time_zone_null(a("alive_at"))).to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let a = |s: &str| Alias::new(s);
        m.alter_table(Table::alter().table(a("import_jobs")).drop_column(a("alive_at")).to_owned()).await?;
        m.alter_table(Table::alter().table(a("import_jobs")).drop_column(a("owner")).to_owned()).await
    }
}
