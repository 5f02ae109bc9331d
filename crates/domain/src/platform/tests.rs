use chrono::NaiveDate;

use super::*;
use crate::checks::AuditParams;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn params() -> AuditParams {
    AuditParams::defaults(2017, d(2017, 11, 1))
}

fn posting(full_time: bool, days_present: i64) -> PostingFacts {
    PostingFacts {
        id: 7,
        posting: Posting {
            name: "李明".into(),
            unit: "蓬江区农业局".into(),
            town_code: "440703002".into(),
            full_time,
            started_on: d(2017, 1, 1),
            ended_on: None,
        },
        days_present,
    }
}

fn rules(f: &[crate::checks::Finding]) -> Vec<&str> {
    f.iter().map(|x| x.rule).collect()
}

#[test]
fn working_days_count_monday_to_friday() {
    // 2017-11-06 was a Monday.
    assert_eq!(working_days(d(2017, 11, 6), d(2017, 11, 12)), 5);
    assert_eq!(working_days(d(2017, 11, 11), d(2017, 11, 12)), 0);
    assert_eq!(working_days(d(2017, 11, 6), d(2017, 11, 6)), 1);
    assert_eq!(working_days(d(2017, 11, 7), d(2017, 11, 6)), 0);
    // Day by day over a whole year agrees with the week arithmetic.
    let (from, to) = (d(2017, 1, 1), d(2017, 12, 31));
    let slow = from.iter_days().take_while(|x| *x <= to).filter(|x| x.weekday().number_from_monday() <= 5).count();
    assert_eq!(working_days(from, to), slow as i64);
}

#[test]
fn a_full_time_posting_on_post_is_clean_and_each_rule_breaks_on_its_own() {
    let p = params();
    let on_post = posting(true, 0);
    let expected = on_post.expected_days(2017, p.as_of);
    assert_eq!(expected, working_days(d(2017, 1, 1), d(2017, 11, 1)));
    assert!(posting_findings(&posting(true, expected), &p).is_empty(), "every working day present");
    assert!(posting_findings(&posting(true, expected * 80 / 100 + 1), &p).is_empty(), "just above the minimum");
    assert_eq!(rules(&posting_findings(&posting(false, expected), &p)), ["T-PST-01"]);
    let paper = posting_findings(&posting(true, 0), &p);
    assert_eq!(rules(&paper), ["T-PST-02"]);
    assert!(paper[0].message.contains("只停留在文件上") && paper[0].message.contains("李明"), "{}", paper[0].message);
    let low = posting_findings(&posting(true, expected / 2), &p);
    assert_eq!(rules(&low), ["T-PST-03"]);
    assert!(low[0].message.contains("到岗率 49%") || low[0].message.contains("到岗率 50%"), "{}", low[0].message);
    assert_eq!(low[0].member_id, Some(7));
    assert_eq!(low[0].village_code, "440703002");
}

#[test]
fn attendance_is_not_judged_before_the_grace_days_nor_outside_the_posting() {
    let p = params();
    let mut fresh = posting(true, 0);
    fresh.posting.started_on = d(2017, 10, 30); // three working days before the as-of date
    assert!(posting_findings(&fresh, &p).is_empty());
    let mut ended = posting(false, 0);
    ended.posting.started_on = d(2016, 1, 1);
    ended.posting.ended_on = Some(d(2016, 12, 31));
    assert!(posting_findings(&ended, &p).is_empty(), "a posting that ended last year is not this year's");
    let mut later = posting(true, 0);
    later.posting.started_on = d(2017, 12, 1);
    assert!(posting_findings(&later, &p).is_empty(), "not yet begun on the as-of date");
}

#[test]
fn a_town_without_a_cadre_on_post() {
    assert!(town_without_posting("440703002", "潮连街道", 1).is_empty());
    let f = town_without_posting("440703002", "潮连街道", 0);
    assert_eq!(rules(&f), ["T-PST-04"]);
    assert!(f[0].message.contains("潮连街道"));
}

#[test]
fn check_ins_are_refused_outside_the_posting_and_in_the_future() {
    let mut p = posting(true, 0).posting;
    p.ended_on = Some(d(2017, 6, 30));
    let today = d(2017, 11, 1);
    assert!(check_in_refusal(&p, d(2017, 3, 1), today).is_none());
    assert!(check_in_refusal(&p, d(2017, 7, 3), today).unwrap().contains("已于 2017-06-30 结束"));
    assert!(check_in_refusal(&p, d(2016, 12, 30), today).unwrap().contains("早于派驻开始日期"));
    p.ended_on = None;
    assert!(check_in_refusal(&p, d(2017, 11, 2), today).unwrap().contains("还没有到"));
}

#[test]
fn forms_report_every_field() {
    let bad = PostingForm {
        name: " ".into(),
        unit: "".into(),
        town_code: "4407".into(),
        full_time: "也许".into(),
        started_on: "2017-13-01".into(),
        ended_on: "".into(),
    };
    let e = bad.validate().unwrap_err();
    for field in ["name", "unit", "town_code", "full_time", "started_on"] {
        assert!(e.get(field).is_some(), "{field}: {e}");
    }
    let good = PostingForm {
        name: "李明".into(),
        unit: "蓬江区农业局".into(),
        town_code: "440703002".into(),
        full_time: "是".into(),
        started_on: "2017/03/01".into(),
        ended_on: "2017-02-01".into(),
    };
    assert!(good.validate().unwrap_err().get("ended_on").unwrap().contains("早于"));
    let ok = PostingForm { ended_on: String::new(), ..good }.validate().unwrap();
    assert!(ok.full_time && ok.started_on == d(2017, 3, 1));

    let inst = InstitutionForm {
        name: "台山市人民医院".into(),
        district_code: "440781".into(),
        level: "二级".into(),
        one_stop_online: "否".into(),
        online_since: "2017-05-01".into(),
    };
    assert!(inst.validate().unwrap_err().get("online_since").is_some());
    let wrong_level = InstitutionForm { level: "四级".into(), online_since: String::new(), ..inst.clone() };
    assert!(wrong_level.validate().unwrap_err().get("level").unwrap().contains("三级"));
}

#[test]
fn an_institution_off_the_platform_is_found() {
    let p = params();
    let mut i = Institution {
        name: "台山市人民医院".into(),
        district_code: "440781".into(),
        level: InstitutionLevel::Secondary,
        one_stop_online: true,
        online_since: Some(d(2017, 5, 1)),
    };
    assert!(institution_findings(3, &i, &p).is_empty());
    i.online_since = Some(d(2017, 12, 1));
    assert_eq!(rules(&institution_findings(3, &i, &p)), ["D-MED-01"], "online only after the as-of date");
    i.one_stop_online = false;
    i.online_since = None;
    let f = institution_findings(3, &i, &p);
    assert_eq!(rules(&f), ["D-MED-01"]);
    assert!(f[0].message.contains("台山市人民医院（二级）"));
}

#[test]
fn an_office_failing_items_or_changing_staff_too_often_is_found() {
    let p = params();
    let mut f =
        OfficeFacts { town_code: "440781111".into(), town_name: "海宴镇".into(), failed: vec![], left_this_year: 2 };
    assert!(office_findings(&f, &p).is_empty(), "two leaving is within the limit");
    f.left_this_year = 3;
    assert_eq!(rules(&office_findings(&f, &p)), ["T-OFF-02"]);
    f.left_this_year = 0;
    f.failed = vec!["有制度".into(), "有档案".into()];
    let found = office_findings(&f, &p);
    assert_eq!(rules(&found), ["T-OFF-01"]);
    assert!(found[0].message.contains("有制度、有档案"));
}

#[test]
fn a_day_on_post_goes_to_the_posting_that_holds_it() {
    let today = d(2017, 11, 1);
    // 李明 posted to the town twice: January to May, and again from July.
    let mut first = posting(true, 0);
    first.posting.ended_on = Some(d(2017, 5, 31));
    let mut second = posting(true, 0);
    second.id = 8;
    second.posting.started_on = d(2017, 7, 1);
    // A namesake from another unit, on post since September.
    let mut namesake = posting(false, 0);
    namesake.id = 9;
    namesake.posting.unit = "江门市财政局".into();
    namesake.posting.started_on = d(2017, 9, 1);
    let all = [&first, &second, &namesake];
    let id = |unit: Option<&str>, on| posting_on(&all, "李明", unit, on, today).map(|f| f.id);
    assert_eq!(id(None, d(2017, 3, 1)), Ok(7));
    assert_eq!(id(None, d(2017, 8, 1)), Ok(8), "the later posting, not the first found");
    // Between the postings: the refusal names the end of the first.
    let (col, why) = id(None, d(2017, 6, 15)).unwrap_err();
    assert_eq!(col, "日期");
    assert!(why.contains("2017-05-31"), "{why}");
    // Two 李明 on post the same day: the unit tells them apart, and without it nothing is guessed.
    let (col, why) = id(None, d(2017, 10, 9)).unwrap_err();
    assert_eq!(col, "派出单位");
    assert!(why.contains("江门市财政局") && why.contains("蓬江区农业局"), "{why}");
    assert_eq!(id(Some("江门市财政局"), d(2017, 10, 9)), Ok(9));
    assert_eq!(id(Some("蓬江区农业局"), d(2017, 10, 9)), Ok(8));
    assert_eq!(id(None, d(2017, 11, 2)).unwrap_err().0, "日期", "not ahead of today");
    assert_eq!(posting_on(&all, "王五", None, d(2017, 3, 1), today).unwrap_err().0, "派驻干部");
    assert_eq!(id(Some("市委组织部"), d(2017, 3, 1)).unwrap_err().0, "派出单位");
}
