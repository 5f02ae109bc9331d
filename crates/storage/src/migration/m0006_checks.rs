//! Data-quality checks: parameters by year, runs, findings (open, fixed, exempted) and exemptions.

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
                .table(a("check_params"))
                .col(integer(a("year")))
                .col(string_len(a("key"), 40))
                .col(big_integer(a("value")))
                .primary_key(Index::create().col(a("year")).col(a("key")))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("check_runs"))
                .col(big_pk_auto(a("id")))
                .col(integer(a("year")))
                .col(date(a("as_of")))
                .col(string_len_null(a("region_code"), 12))
                .col(string_len(a("actor"), 64))
                .col(timestamp_with_time_zone(a("started_at")))
                .col(timestamp_with_time_zone_null(a("finished_at")))
                .col(big_integer(a("households")).default(0))
                .col(big_integer(a("open")).default(0))
                .col(big_integer(a("new")).default(0))
                .col(big_integer(a("fixed")).default(0))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("check_findings"))
                .col(big_pk_auto(a("id")))
                .col(string_len_uniq(a("key"), 120))
                .col(string_len(a("rule"), 16))
                .col(integer(a("year")))
                .col(big_integer(a("household_id")))
                .col(big_integer_null(a("member_id")))
                .col(string_len(a("village_code"), 12))
                .col(string_len(a("town_code"), 9))
                .col(string_len(a("district_code"), 6))
                .col(text(a("message")))
                .col(string_len(a("status"), 12))
                .col(big_integer_null(a("first_run_id")))
                .col(big_integer_null(a("last_run_id")))
                .col(timestamp_with_time_zone(a("first_seen_at")))
                .col(timestamp_with_time_zone(a("last_seen_at")))
                .col(timestamp_with_time_zone_null(a("fixed_at")))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_findings_household", "check_findings", &["household_id", "year"])).await?;
        m.create_index(index("idx_findings_status_district", "check_findings", &["status", "district_code", "rule"]))
            .await?;
        m.create_index(index("idx_findings_status_town", "check_findings", &["status", "town_code", "rule"])).await?;
        m.create_table(
            Table::create()
                .table(a("check_exemptions"))
                .col(big_pk_auto(a("id")))
                .col(string_len(a("key"), 120))
                .col(string_len(a("message_hash"), 64))
                .col(text(a("reason")))
                .col(string_len(a("exempted_by"), 64))
                .col(timestamp_with_time_zone(a("exempted_at")))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_exemptions_key", "check_exemptions", &["key"])).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["check_exemptions", "check_findings", "check_runs", "check_params"] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned()).await?;
        }
        Ok(())
    }
}
