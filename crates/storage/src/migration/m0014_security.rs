//! Anchoring the audit chain outside the database (a MAC per record, the key's fingerprint in the
//! head), login throttling reserved in one statement, sessions that know their user (so that a
//! password reset or a disable ends them), and API tokens that expire.

use sea_orm_migration::sea_orm::{ConnectionTrait, Statement};
use sea_orm_migration::{prelude::*, schema::*};

use super::m0001_registry::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// How long a token issued before tokens had an expiry stays valid after the upgrade.
const EXISTING_TOKEN_DAYS: i64 = 90;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let a = |s: &str| Alias::new(s);
        // HMAC-SHA256 of the record's hash under the audit key (NULL before the key existed).
        m.alter_table(Table::alter().table(a("audit_log")).add_column(string_len_null(a("mac"), 64)).to_owned())
            .await?;
        // Which key signs the chain (its fingerprint, never the key) and from which record.
        m.alter_table(Table::alter().table(a("audit_head")).add_column(string_len_null(a("key_id"), 64)).to_owned())
            .await?;
        m.alter_table(Table::alter().table(a("audit_head")).add_column(big_integer_null(a("keyed_from"))).to_owned())
            .await?;

        // Throttling counts in epoch milliseconds, so that the reservation of an attempt is one
        // portable statement. The rows are transient: starting afresh loses nothing.
        m.drop_table(Table::drop().table(a("login_attempts")).to_owned()).await?;
        m.create_table(
            Table::create()
                .table(a("login_attempts"))
                .col(string_len(a("key"), 200).primary_key())
                .col(integer(a("failures")))
                .col(big_integer(a("last_ms")))
                .col(big_integer(a("next_ms")))
                .to_owned(),
        )
        .await?;

        // Sessions name their user; the ones from before cannot, so they end (everyone signs in
        // once more after the upgrade).
        m.get_connection().execute_unprepared("DELETE FROM sessions").await?;
        m.alter_table(Table::alter().table(a("sessions")).add_column(big_integer_null(a("user_id"))).to_owned())
            .await?;
        m.create_index(index("idx_sessions_user", "sessions", &["user_id"])).await?;

        m.alter_table(
            Table::alter().table(a("api_tokens")).add_column(timestamp_with_time_zone_null(a("expires_at"))).to_owned(),
        )
        .await?;
        let until = chrono::Utc::now() + chrono::Duration::days(EXISTING_TOKEN_DAYS);
        let c = m.get_connection();
        c.execute_raw(Statement::from_sql_and_values(
            c.get_database_backend(),
            "UPDATE api_tokens SET expires_at = $1 WHERE expires_at IS NULL",
            vec![until.into()],
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let a = |s: &str| Alias::new(s);
        m.alter_table(Table::alter().table(a("api_tokens")).drop_column(a("expires_at")).to_owned()).await?;
        m.drop_index(Index::drop().name("idx_sessions_user").table(a("sessions")).to_owned()).await?;
        m.alter_table(Table::alter().table(a("sessions")).drop_column(a("user_id")).to_owned()).await?;
        m.alter_table(Table::alter().table(a("audit_head")).drop_column(a("keyed_from")).to_owned()).await?;
        m.alter_table(Table::alter().table(a("audit_head")).drop_column(a("key_id")).to_owned()).await?;
        m.alter_table(Table::alter().table(a("audit_log")).drop_column(a("mac")).to_owned()).await?;
        Ok(())
    }
}
