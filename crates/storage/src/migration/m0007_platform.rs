//! Town platforms: cadres posted to towns and their attendance; designated medical institutions.

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
                .table(a("postings"))
                .col(big_pk_auto(a("id")))
                .col(string_len(a("name"), 30))
                .col(string_len(a("unit"), 60))
                .col(string_len(a("town_code"), 9))
                .col(string_len(a("district_code"), 6))
                .col(boolean(a("full_time")))
                .col(date(a("started_on")))
                .col(date_null(a("ended_on")))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_postings_town", "postings", &["town_code"])).await?;
        m.create_index(index("idx_postings_district", "postings", &["district_code"])).await?;
        m.create_table(
            Table::create()
                .table(a("attendance"))
                .col(big_pk_auto(a("id")))
                .col(big_integer(a("posting_id")))
                .col(date(a("on_date")))
                // Monday to Friday: only these count against the working days expected.
                .col(boolean(a("workday")))
                .col(string_len_null(a("place"), 100))
                .col(double_null(a("latitude")))
                .col(double_null(a("longitude")))
                .col(string_len(a("recorded_by"), 64))
                .col(timestamp_with_time_zone(a("recorded_at")))
                .foreign_key(ForeignKey::create().from(a("attendance"), a("posting_id")).to(a("postings"), a("id")))
                .to_owned(),
        )
        .await?;
        // One check-in per posting and day: a second one is refused, never counted twice.
        m.create_index(
            index("uq_attendance_posting_day", "attendance", &["posting_id", "on_date"]).unique().to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("medical_institutions"))
                .col(big_pk_auto(a("id")))
                .col(string_len(a("name"), 60))
                .col(string_len(a("district_code"), 6))
                .col(string_len(a("level"), 2))
                .col(boolean(a("one_stop_online")))
                .col(date_null(a("online_since")))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_institutions_district", "medical_institutions", &["district_code"])).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["attendance", "postings", "medical_institutions"] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned()).await?;
        }
        Ok(())
    }
}
