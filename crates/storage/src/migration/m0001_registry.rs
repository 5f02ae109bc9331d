//! Regions, the registry (households, members, yearly finances, status history), help records
//! (cadres, plans, measures, logs) and the demo city's list of deliberate problems.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

pub(super) fn index(name: &str, table: &str, cols: &[&str]) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(Alias::new(table));
    for c in cols {
        i.col(Alias::new(*c));
    }
    i.to_owned()
}

pub(super) fn fk(
    from_table: &str,
    from_col: &str,
    to_table: &str,
    to_col: &str,
    cascade: bool,
) -> ForeignKeyCreateStatement {
    let mut f = ForeignKey::create();
    f.from(Alias::new(from_table), Alias::new(from_col)).to(Alias::new(to_table), Alias::new(to_col));
    if cascade {
        f.on_delete(ForeignKeyAction::Cascade);
    }
    f.to_owned()
}

/// Money columns: integer fen.
fn money(name: &str) -> ColumnDef {
    big_integer(Alias::new(name)).default(0).to_owned()
}

fn stamp(name: &str) -> ColumnDef {
    timestamp_with_time_zone(Alias::new(name))
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let a = |s: &str| Alias::new(s);
        m.create_table(
            Table::create()
                .table(a("regions"))
                .col(string_len(a("code"), 12).primary_key())
                .col(string_len(a("name"), 100))
                .col(string_len(a("level"), 10))
                .col(string_len(a("kind"), 20))
                .col(string_len(a("parent_code"), 12))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_regions_level", "regions", &["level"])).await?;
        m.create_index(index("idx_regions_parent", "regions", &["parent_code"])).await?;

        m.create_table(
            Table::create()
                .table(a("settings"))
                .col(string_len(a("key"), 64).primary_key())
                .col(text(a("value")))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(a("cadres"))
                .col(big_pk_auto(a("id")))
                .col(string_len(a("name"), 50))
                .col(string_len(a("unit"), 100))
                .col(string_len_null(a("phone"), 20))
                .col(string_len(a("town_code"), 12))
                .col(boolean(a("active")).default(true))
                .foreign_key(&mut fk("cadres", "town_code", "regions", "code", false))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_cadres_town", "cadres", &["town_code"])).await?;

        m.create_table(
            Table::create()
                .table(a("households"))
                .col(big_pk_auto(a("id")))
                .col(string_len_uniq(a("number"), 32))
                .col(string_len(a("district_code"), 6))
                .col(string_len(a("town_code"), 9))
                .col(string_len(a("village_code"), 12))
                .col(string_len(a("household_type"), 16))
                .col(string_len(a("main_cause"), 16))
                .col(string_len_null(a("other_cause_1"), 16))
                .col(string_len_null(a("other_cause_2"), 16))
                .col(boolean(a("food_clothing")))
                .col(boolean(a("compulsory_education")))
                .col(boolean(a("basic_medical")))
                .col(boolean(a("safe_housing")))
                .col(boolean(a("safe_water")))
                .col(string_len(a("status"), 16))
                .col(date(a("identified_on")))
                .col(string_len(a("address"), 200))
                .col(string_len_null(a("phone"), 20))
                .col(string_len_null(a("bank_account"), 32))
                .col(big_integer_null(a("cadre_id")))
                .col(boolean(a("record_book_issued")).default(false))
                .col(boolean(a("record_book_provincial")).default(false))
                .col(date_null(a("record_book_checked_on")))
                .col(integer(a("version")).default(1))
                .col(stamp("created_at"))
                .col(stamp("updated_at"))
                .foreign_key(&mut fk("households", "village_code", "regions", "code", false))
                .foreign_key(&mut fk("households", "cadre_id", "cadres", "id", false))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_households_district_status", "households", &["district_code", "status"])).await?;
        m.create_index(index("idx_households_town_status", "households", &["town_code", "status"])).await?;
        m.create_index(index("idx_households_village", "households", &["village_code"])).await?;
        m.create_index(index("idx_households_cadre", "households", &["cadre_id"])).await?;

        m.create_table(
            Table::create()
                .table(a("members"))
                .col(big_pk_auto(a("id")))
                .col(big_integer(a("household_id")))
                .col(integer(a("seq")))
                .col(string_len(a("name"), 50))
                .col(string_len(a("id_number"), 32))
                .col(string_len(a("relation"), 20))
                .col(string_len(a("sex"), 8))
                .col(date(a("birth_date")))
                .col(string_len(a("education"), 16))
                .col(string_len(a("school_stage"), 20))
                .col(string_len_null(a("out_of_school_reason"), 100))
                .col(string_len(a("health"), 16))
                .col(string_len(a("labour_ability"), 16))
                .col(boolean(a("medical_insurance")))
                .col(string_len_null(a("phone"), 20))
                .col(stamp("created_at"))
                .col(stamp("updated_at"))
                .foreign_key(&mut fk("members", "household_id", "households", "id", true))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_members_household", "members", &["household_id", "seq"])).await?;
        m.create_index(index("idx_members_id_number", "members", &["id_number"])).await?;

        m.create_table(
            Table::create()
                .table(a("household_finances"))
                .col(big_pk_auto(a("id")))
                .col(big_integer(a("household_id")))
                .col(integer(a("year")))
                .col(integer(a("household_size")))
                .col(money("wage_income"))
                .col(money("business_income"))
                .col(money("property_income"))
                .col(money("transfer_income"))
                .col(money("production_costs"))
                .col(big_integer_null(a("declared_total_income")))
                .col(big_integer_null(a("living_expenditure")))
                .foreign_key(&mut fk("household_finances", "household_id", "households", "id", true))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("uq_finances_household_year", "household_finances", &["household_id", "year"]).unique().to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(a("status_history"))
                .col(big_pk_auto(a("id")))
                .col(big_integer(a("household_id")))
                .col(string_len(a("status"), 16))
                .col(date(a("effective_on")))
                .col(text_null(a("note")))
                .col(string_len_null(a("recorded_by"), 64))
                .col(stamp("recorded_at"))
                .foreign_key(&mut fk("status_history", "household_id", "households", "id", true))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_status_history_household", "status_history", &["household_id", "effective_on"]))
            .await?;

        m.create_table(
            Table::create()
                .table(a("help_plans"))
                .col(big_pk_auto(a("id")))
                .col(big_integer(a("household_id")))
                .col(integer(a("year")))
                .col(money("target_income"))
                .col(date(a("made_on")))
                .col(big_integer_null(a("cadre_id")))
                .foreign_key(&mut fk("help_plans", "household_id", "households", "id", true))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("uq_help_plans_household_year", "help_plans", &["household_id", "year"]).unique().to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("help_plan_items"))
                .col(big_pk_auto(a("id")))
                .col(big_integer(a("plan_id")))
                .col(string_len(a("category"), 20))
                .col(text_null(a("note")))
                .foreign_key(&mut fk("help_plan_items", "plan_id", "help_plans", "id", true))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_help_plan_items_plan", "help_plan_items", &["plan_id"])).await?;

        m.create_table(
            Table::create()
                .table(a("help_measures"))
                .col(big_pk_auto(a("id")))
                .col(big_integer(a("household_id")))
                .col(big_integer_null(a("plan_id")))
                .col(string_len(a("category"), 20))
                .col(string_len(a("description"), 200))
                .col(date(a("delivered_on")))
                .col(money("amount"))
                .col(boolean(a("income_generating")))
                .col(big_integer_null(a("project_id")))
                .foreign_key(&mut fk("help_measures", "household_id", "households", "id", true))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_help_measures_household", "help_measures", &["household_id", "delivered_on"]))
            .await?;

        m.create_table(
            Table::create()
                .table(a("help_logs"))
                .col(big_pk_auto(a("id")))
                .col(big_integer(a("household_id")))
                .col(big_integer_null(a("cadre_id")))
                .col(date(a("visited_on")))
                .col(text(a("content")))
                .col(string_len_null(a("location"), 200))
                .foreign_key(&mut fk("help_logs", "household_id", "households", "id", true))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_help_logs_household", "help_logs", &["household_id", "visited_on"])).await?;

        m.create_table(
            Table::create()
                .table(a("demo_defects"))
                .col(big_pk_auto(a("id")))
                .col(string_len(a("kind"), 32))
                .col(big_integer(a("household_id")))
                .col(integer_null(a("member_seq")))
                .foreign_key(&mut fk("demo_defects", "household_id", "households", "id", true))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_demo_defects_kind", "demo_defects", &["kind"])).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "demo_defects",
            "help_logs",
            "help_measures",
            "help_plan_items",
            "help_plans",
            "status_history",
            "household_finances",
            "members",
            "households",
            "cadres",
            "settings",
            "regions",
        ] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned()).await?;
        }
        Ok(())
    }
}
