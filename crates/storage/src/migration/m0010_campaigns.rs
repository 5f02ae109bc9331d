//! Inspection campaigns: the campaign with its teams (members, districts), its sample of towns
//! and households with the plan that drew it, document-review checklists and their results,
//! household visits (each with the key the phone gave it, so that a resubmitted offline visit is
//! recognised), questionnaires and answers, the problems found, and revisit verifications.

use sea_orm_migration::{prelude::*, schema::*};

use super::m0001_registry::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn a(s: &str) -> Alias {
    Alias::new(s)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(a("checklist_templates"))
                .col(big_pk_auto(a("id")))
                .col(string_len(a("name"), 60))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("checklist_items"))
                .col(big_pk_auto(a("id")))
                .col(big_integer(a("template_id")))
                .col(integer(a("position")))
                .col(string_len(a("section"), 20))
                .col(string_len(a("text"), 200))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_checklist_items_template", "checklist_items", &["template_id"])).await?;
        m.create_table(
            Table::create()
                .table(a("questionnaires"))
                .col(big_pk_auto(a("id")))
                .col(string_len(a("name"), 60))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("questions"))
                .col(big_pk_auto(a("id")))
                .col(big_integer(a("questionnaire_id")))
                .col(integer(a("position")))
                .col(string_len(a("kind"), 10))
                .col(string_len(a("text"), 200))
                .col(text(a("options")))
                .col(integer(a("scale_min")))
                .col(integer(a("scale_max")))
                .col(string_len_null(a("topic"), 20))
                .col(text(a("satisfied")))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_questions_questionnaire", "questions", &["questionnaire_id"])).await?;
        m.create_table(
            Table::create()
                .table(a("campaigns"))
                .col(big_pk_auto(a("id")))
                .col(string_len(a("name"), 100))
                .col(string_len(a("kind"), 16))
                .col(date(a("starts_on")))
                .col(date(a("ends_on")))
                .col(text(a("focus")))
                .col(string_len(a("lead_units"), 200))
                .col(string_len(a("guided_by"), 100))
                .col(string_len(a("member_units"), 400))
                .col(big_integer_null(a("checklist_id")))
                .col(big_integer_null(a("questionnaire_id")))
                .col(text(a("weights")))
                .col(text_null(a("sample_plan")))
                .col(text_null(a("sample_steps")))
                .col(string_len_null(a("sample_algorithm"), 40))
                .col(timestamp_with_time_zone_null(a("sampled_at")))
                .col(string_len_null(a("sampled_by"), 64))
                .col(string_len(a("created_by"), 64))
                .col(timestamp_with_time_zone(a("created_at")))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("campaign_teams"))
                .col(big_pk_auto(a("id")))
                .col(big_integer(a("campaign_id")))
                .col(string_len(a("name"), 40))
                .col(string_len(a("leader"), 40))
                .col(string_len(a("units"), 200))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_campaign_teams_campaign", "campaign_teams", &["campaign_id"])).await?;
        m.create_table(
            Table::create()
                .table(a("campaign_team_members"))
                .col(big_integer(a("team_id")))
                .col(big_integer(a("user_id")))
                .primary_key(Index::create().col(a("team_id")).col(a("user_id")))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_team_members_user", "campaign_team_members", &["user_id"])).await?;
        m.create_table(
            Table::create()
                .table(a("campaign_team_districts"))
                .col(big_integer(a("campaign_id")))
                .col(string_len(a("district_code"), 6))
                .col(big_integer(a("team_id")))
                // One team per district in a campaign.
                .primary_key(Index::create().col(a("campaign_id")).col(a("district_code")))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("campaign_towns"))
                .col(big_integer(a("campaign_id")))
                .col(string_len(a("town_code"), 9))
                .col(string_len(a("district_code"), 6))
                .col(string_len(a("purpose"), 10))
                .col(string_len(a("how"), 10))
                .col(integer(a("position")))
                .primary_key(Index::create().col(a("campaign_id")).col(a("town_code")))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_campaign_towns_town", "campaign_towns", &["town_code"])).await?;
        m.create_table(
            Table::create()
                .table(a("campaign_households"))
                .col(big_integer(a("campaign_id")))
                .col(big_integer(a("household_id")))
                .col(string_len(a("town_code"), 9))
                .col(string_len(a("stratum"), 40))
                .col(string_len(a("how"), 10))
                .col(integer(a("position")))
                .primary_key(Index::create().col(a("campaign_id")).col(a("household_id")))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("campaign_reviews"))
                .col(big_pk_auto(a("id")))
                .col(big_integer(a("campaign_id")))
                .col(string_len(a("town_code"), 9))
                .col(big_integer(a("item_id")))
                .col(string_len(a("result"), 8))
                .col(string_len(a("note"), 400))
                .col(string_len(a("reviewed_by"), 64))
                .col(timestamp_with_time_zone(a("reviewed_at")))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("idx_reviews_item", "campaign_reviews", &["campaign_id", "town_code", "item_id"]).unique().to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("campaign_visits"))
                .col(big_pk_auto(a("id")))
                .col(big_integer(a("campaign_id")))
                .col(big_integer(a("household_id")))
                .col(string_len(a("client_key"), 64))
                .col(date(a("visited_on")))
                .col(text(a("observations")))
                .col(text(a("note")))
                .col(string_len(a("visited_by"), 64))
                .col(timestamp_with_time_zone(a("submitted_at")))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("idx_visits_household", "campaign_visits", &["campaign_id", "household_id"]).unique().to_owned(),
        )
        .await?;
        m.create_index(index("idx_visits_client_key", "campaign_visits", &["client_key"]).unique().to_owned()).await?;
        m.create_table(
            Table::create()
                .table(a("campaign_answers"))
                .col(big_integer(a("campaign_id")))
                .col(big_integer(a("household_id")))
                .col(big_integer(a("question_id")))
                .col(text(a("answer")))
                .col(string_len(a("answered_by"), 64))
                .primary_key(Index::create().col(a("campaign_id")).col(a("household_id")).col(a("question_id")))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("campaign_problems"))
                .col(big_pk_auto(a("id")))
                .col(big_integer(a("campaign_id")))
                .col(string_len(a("source"), 16))
                .col(string_len(a("category"), 20))
                .col(string_len(a("severity"), 10))
                .col(string_len(a("district_code"), 6))
                .col(string_len(a("town_code"), 9))
                .col(big_integer_null(a("household_id")))
                .col(text(a("text")))
                .col(string_len(a("responsible_unit"), 100))
                .col(string_len(a("status"), 12))
                .col(string_len_null(a("finding_key"), 80))
                .col(string_len(a("created_by"), 64))
                .col(timestamp_with_time_zone(a("created_at")))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_problems_campaign", "campaign_problems", &["campaign_id", "town_code"])).await?;
        m.create_table(
            Table::create()
                .table(a("revisit_checks"))
                .col(big_integer(a("campaign_id")))
                .col(big_integer(a("problem_id")))
                .col(string_len(a("result"), 10))
                .col(string_len(a("note"), 400))
                .col(string_len(a("checked_by"), 64))
                .col(timestamp_with_time_zone(a("checked_at")))
                .primary_key(Index::create().col(a("campaign_id")).col(a("problem_id")))
                .to_owned(),
        )
        .await?;
        ship_templates(m).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "revisit_checks",
            "campaign_problems",
            "campaign_answers",
            "campaign_visits",
            "campaign_reviews",
            "campaign_households",
            "campaign_towns",
            "campaign_team_districts",
            "campaign_team_members",
            "campaign_teams",
            "campaigns",
            "questions",
            "questionnaires",
            "checklist_items",
            "checklist_templates",
        ] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned()).await?;
        }
        Ok(())
    }
}

/// The checklist and questionnaire ducha ships (what the seed's teams checked and asked), as
/// template 1 of each.
async fn ship_templates(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    use ducha_domain::campaigns::{SEED_CHECKLIST, questionnaire::seed_questions};
    use ducha_domain::labelled::Labelled;
    let insert = |table: &str, cols: &[&str], values: Vec<SimpleExpr>| {
        Query::insert().into_table(a(table)).columns(cols.iter().map(|c| a(c))).values_panic(values).to_owned()
    };
    m.exec_stmt(insert("checklist_templates", &["name"], vec!["脱贫攻坚专项督查查阅资料清单".into()])).await?;
    for (i, (section, text)) in SEED_CHECKLIST.iter().enumerate() {
        m.exec_stmt(insert(
            "checklist_items",
            &["template_id", "position", "section", "text"],
            vec![1i64.into(), (i as i32 + 1).into(), (*section).into(), (*text).into()],
        ))
        .await?;
    }
    m.exec_stmt(insert("questionnaires", &["name"], vec!["贫困户满意度问卷".into()])).await?;
    for (i, q) in seed_questions().iter().enumerate() {
        let json = |v: &Vec<String>| serde_json::to_string(v).unwrap_or_else(|_| "[]".into());
        m.exec_stmt(insert(
            "questions",
            &[
                "questionnaire_id",
                "position",
                "kind",
                "text",
                "options",
                "scale_min",
                "scale_max",
                "topic",
                "satisfied",
            ],
            vec![
                1i64.into(),
                (i as i32 + 1).into(),
                q.kind.code().into(),
                q.text.clone().into(),
                json(&q.options).into(),
                q.scale_min.into(),
                q.scale_max.into(),
                q.topic.clone().into(),
                json(&q.satisfied).into(),
            ],
        ))
        .await?;
    }
    Ok(())
}
