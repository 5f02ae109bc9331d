//! Accounts (users, sessions, API tokens, login throttling), the chained audit trail, and the
//! indexes the household list pages on.

use sea_orm_migration::{prelude::*, schema::*};

use super::m0001_registry::{fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The chain's starting hash: 64 zeros.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let a = |s: &str| Alias::new(s);
        m.create_table(
            Table::create()
                .table(a("users"))
                .col(big_pk_auto(a("id")))
                .col(string_len_uniq(a("username"), 64))
                .col(string_len(a("display_name"), 100))
                .col(string_len(a("role"), 16))
                .col(string_len_null(a("region_code"), 12))
                .col(text(a("password_hash")))
                .col(boolean(a("active")).default(true))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(a("sessions"))
                .col(string_len(a("id"), 64).primary_key())
                .col(text(a("data")))
                .col(timestamp_with_time_zone(a("expiry_date")))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_sessions_expiry", "sessions", &["expiry_date"])).await?;

        m.create_table(
            Table::create()
                .table(a("api_tokens"))
                .col(big_pk_auto(a("id")))
                .col(big_integer(a("user_id")))
                .col(string_len(a("name"), 100))
                .col(string_len_uniq(a("token_hash"), 64))
                .col(boolean(a("revoked")).default(false))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone_null(a("last_used_at")))
                .foreign_key(&mut fk("api_tokens", "user_id", "users", "id", true))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(a("login_attempts"))
                .col(string_len(a("key"), 200).primary_key())
                .col(integer(a("failures")))
                .col(timestamp_with_time_zone(a("last_failure_at")))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(a("audit_log"))
                .col(big_integer(a("id")).primary_key())
                .col(timestamp_with_time_zone(a("at")))
                .col(string_len(a("actor"), 64))
                .col(big_integer_null(a("actor_id")))
                .col(string_len_null(a("origin"), 64))
                .col(string_len(a("entity"), 32))
                .col(string_len(a("entity_id"), 64))
                .col(string_len_null(a("region_code"), 12))
                .col(string_len(a("action"), 32))
                .col(text_null(a("before")))
                .col(text_null(a("after")))
                .col(string_len(a("prev_hash"), 64))
                .col(string_len(a("hash"), 64))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_audit_entity", "audit_log", &["entity", "entity_id"])).await?;

        // One row that every audited write locks first: it serialises the chain and holds its head.
        m.create_table(
            Table::create()
                .table(a("audit_head"))
                .col(integer(a("id")).primary_key())
                .col(big_integer(a("last_id")))
                .col(string_len(a("last_hash"), 64))
                .to_owned(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared(&format!(
                "INSERT INTO audit_head (id, last_id, last_hash) VALUES (1, 0, '{GENESIS_HASH}')"
            ))
            .await?;

        // Keyset paging of the household list by id within a scope.
        for (name, col) in [
            ("idx_households_district_id", "district_code"),
            ("idx_households_town_id", "town_code"),
            ("idx_households_village_id", "village_code"),
            ("idx_households_status_id", "status"),
        ] {
            m.create_index(index(name, "households", &[col, "id"])).await?;
        }
        m.create_index(index("idx_members_name", "members", &["name"])).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["audit_head", "audit_log", "login_attempts", "api_tokens", "sessions", "users"] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned()).await?;
        }
        Ok(())
    }
}
