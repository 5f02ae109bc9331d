//! Imports started from the web: the uploaded file, what its check found, and how far the
//! writing has got (so that a page can follow it, from any ducha process).

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
                .table(a("import_jobs"))
                .col(big_pk_auto(a("id")))
                .col(big_integer(a("user_id")))
                .col(string_len(a("filename"), 200))
                .col(blob(a("file")))
                .col(string_len(a("status"), 16))
                .col(text(a("report")))
                .col(big_integer(a("done")).default(0))
                .col(big_integer(a("total")).default(0))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone_null(a("finished_at")))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_import_jobs_user", "import_jobs", &["user_id", "id"])).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Alias::new("import_jobs")).to_owned()).await
    }
}
