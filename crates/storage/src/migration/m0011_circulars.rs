//! The circular (通报) that closes a campaign: its document number, title, addressees, basis,
//! next steps and sign-off, kept per campaign (the body's figures come from the campaign itself);
//! and each problem's rectification deadline and responsible unit as the circular assigns them.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let a = |s: &str| Alias::new(s);
        m.create_table(
            Table::create()
                .table(a("circulars"))
                .col(big_integer(a("campaign_id")).primary_key())
                .col(string_len(a("number"), 40))
                .col(string_len(a("title"), 100))
                .col(string_len(a("addressees"), 100))
                .col(text(a("basis")))
                .col(text(a("next_steps")))
                .col(string_len(a("signer"), 60))
                .col(date(a("issued_on")))
                .col(string_len(a("disclosure"), 20))
                .col(string_len(a("copied_to"), 200))
                .col(integer(a("deadline_days")))
                .col(string_len(a("updated_by"), 64))
                .col(timestamp_with_time_zone(a("updated_at")))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Alias::new("circulars")).to_owned()).await?;
        Ok(())
    }
}
