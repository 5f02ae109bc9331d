//! Projects and funds: allocations by source and region, the project library with budgets by
//! source, households served, public notices and stages, and the payments (disbursements).

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
                .table(a("fund_allocations"))
                .col(big_pk_auto(a("id")))
                .col(integer(a("year")))
                .col(string_len(a("source"), 16))
                .col(string_len(a("region_code"), 12))
                .col(string_len(a("district_code"), 6))
                .col(big_integer(a("amount_fen")))
                .col(date(a("allocated_on")))
                .col(date_null(a("arrived_on")))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_allocations_region", "fund_allocations", &["district_code", "year"])).await?;
        m.create_table(
            Table::create()
                .table(a("projects"))
                .col(big_pk_auto(a("id")))
                .col(integer(a("year")))
                .col(string_len(a("name"), 80))
                .col(string_len(a("kind"), 16))
                .col(boolean(a("income_generating")))
                .col(string_len(a("place_code"), 12))
                .col(string_len(a("town_code"), 9))
                .col(string_len(a("district_code"), 6))
                .col(string_len(a("unit"), 80))
                .col(text(a("performance_target")))
                .col(text(a("public_benefit")))
                .col(string_len(a("stage"), 16))
                .col(date(a("stage_since")))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_projects_town", "projects", &["town_code"])).await?;
        m.create_index(index("idx_projects_district", "projects", &["district_code"])).await?;
        m.create_table(
            Table::create()
                .table(a("project_budgets"))
                .col(big_integer(a("project_id")))
                .col(string_len(a("source"), 16))
                .col(big_integer(a("amount_fen")))
                .primary_key(Index::create().col(a("project_id")).col(a("source")))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("project_households"))
                .col(big_integer(a("project_id")))
                .col(big_integer(a("household_id")))
                .col(big_integer(a("expected_benefit_fen")))
                .primary_key(Index::create().col(a("project_id")).col(a("household_id")))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("project_notices"))
                .col(big_integer(a("project_id")))
                .col(string_len(a("stage"), 16))
                .col(date(a("noticed_on")))
                .primary_key(Index::create().col(a("project_id")).col(a("stage")))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("disbursements"))
                .col(big_pk_auto(a("id")))
                .col(big_integer(a("project_id")))
                .col(date(a("paid_on")))
                .col(big_integer(a("amount_fen")))
                .col(string_len(a("payee"), 80))
                .col(string_len(a("recorded_by"), 64))
                .col(timestamp_with_time_zone(a("recorded_at")))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_disbursements_project", "disbursements", &["project_id", "paid_on"])).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "disbursements",
            "project_notices",
            "project_households",
            "project_budgets",
            "projects",
            "fund_allocations",
        ] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned()).await?;
        }
        Ok(())
    }
}
