//! Town poverty offices: the "六有" checklist (items an office can edit, judged per town and year)
//! and the office's staff with their start and end dates.

use sea_orm_migration::{prelude::*, schema::*};

use super::m0001_registry::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The checklist as shipped: the seed's "六有" and the archives the inspectors looked at.
const ITEMS: [(&str, &str); 7] = [
    ("有机构", "镇（街）成立扶贫工作机构，明确分管领导"),
    ("有人员", "配备专职扶贫工作人员"),
    ("有场所", "有固定的办公场所"),
    ("有设备", "有办公电脑等必要设备"),
    ("有制度", "工作制度、驻点考勤制度上墙并执行"),
    ("有经费", "有工作经费保障"),
    ("有档案", "建档立卡和扶贫资金项目档案齐全"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let a = |s: &str| Alias::new(s);
        m.create_table(
            Table::create()
                .table(a("office_items"))
                .col(big_pk_auto(a("id")))
                .col(string_len(a("name"), 20))
                .col(string_len(a("description"), 200))
                .col(boolean(a("active")))
                .to_owned(),
        )
        .await?;
        for (name, description) in ITEMS {
            m.exec_stmt(
                Query::insert()
                    .into_table(a("office_items"))
                    .columns([a("name"), a("description"), a("active")])
                    .values_panic([name.into(), description.into(), true.into()])
                    .to_owned(),
            )
            .await?;
        }
        m.create_table(
            Table::create()
                .table(a("office_checks"))
                .col(string_len(a("town_code"), 9))
                .col(big_integer(a("item_id")))
                .col(integer(a("year")))
                .col(boolean(a("met")))
                .col(string_len(a("note"), 200))
                .col(string_len(a("judged_by"), 64))
                .col(date(a("judged_on")))
                .primary_key(Index::create().col(a("town_code")).col(a("item_id")).col(a("year")))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("office_staff"))
                .col(big_pk_auto(a("id")))
                .col(string_len(a("town_code"), 9))
                .col(string_len(a("name"), 30))
                .col(string_len(a("position"), 40))
                .col(date(a("started_on")))
                .col(date_null(a("ended_on")))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_office_staff_town", "office_staff", &["town_code"])).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["office_staff", "office_checks", "office_items"] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned()).await?;
        }
        Ok(())
    }
}
