//! Funds passed down the tree (下拨): an allocation to a town may be part of its district's
//! allocation, named by `parent_id`, so that the district's totals do not count it twice.

use sea_orm_migration::{prelude::*, schema::*};

use super::m0001_registry::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Alias::new("fund_allocations"))
                .add_column(big_integer_null(Alias::new("parent_id")))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_allocations_parent", "fund_allocations", &["parent_id"])).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("idx_allocations_parent").table(Alias::new("fund_allocations")).to_owned())
            .await?;
        m.alter_table(
            Table::alter().table(Alias::new("fund_allocations")).drop_column(Alias::new("parent_id")).to_owned(),
        )
        .await?;
        Ok(())
    }
}
