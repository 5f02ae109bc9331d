use chrono::NaiveDate;

use super::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn state(stage: Stage) -> ProjectState {
    ProjectState {
        stage,
        documents: vec![],
        notices: vec![],
        households: 12,
        public_benefit: false,
        budget: Money::from_yuan(100_000),
        paid: Money::from_yuan(40_000),
    }
}

#[test]
fn every_stage_needs_its_document_and_notice_and_goes_one_step() {
    // Screening → Planning: nothing more than the library's own requirements.
    assert!(advance_refusal(&state(Stage::Screening), Stage::Planning).is_none());
    // No skipping, no going back, nothing after the archive.
    assert!(advance_refusal(&state(Stage::Screening), Stage::Approval).unwrap().contains("只能进入下一阶段“计划编报”"));
    assert!(advance_refusal(&state(Stage::Implementation), Stage::Approval).is_some());
    assert!(advance_refusal(&state(Stage::Archived), Stage::Archived).unwrap().contains("已归档"));
    // Planning → Approval: the plan, and households (or a public benefit).
    let mut p = state(Stage::Planning);
    assert!(advance_refusal(&p, Stage::Approval).unwrap().contains("缺少“项目方案”"));
    p.documents.push(DocumentKind::Plan);
    assert!(advance_refusal(&p, Stage::Approval).is_none());
    p.households = 0;
    assert!(advance_refusal(&p, Stage::Approval).unwrap().contains("没有受益贫困户"));
    p.public_benefit = true;
    assert!(advance_refusal(&p, Stage::Approval).is_none());
    // Approval → Implementation: the approval and its public notice.
    let mut p = state(Stage::Approval);
    p.documents.push(DocumentKind::Plan);
    assert!(advance_refusal(&p, Stage::Implementation).unwrap().contains("缺少“立项批复”"));
    p.documents.push(DocumentKind::Approval);
    assert!(advance_refusal(&p, Stage::Implementation).unwrap().contains("公示"));
    p.notices.push((Stage::Approval, d(2017, 4, 1)));
    assert!(advance_refusal(&p, Stage::Implementation).is_none());
    // Implementation → Acceptance: nothing more.
    assert!(advance_refusal(&state(Stage::Implementation), Stage::Acceptance).is_none());
    // Acceptance → Archived: the acceptance report and its notice.
    let mut p = state(Stage::Acceptance);
    assert!(advance_refusal(&p, Stage::Archived).unwrap().contains("缺少“验收报告”"));
    p.documents.push(DocumentKind::Acceptance);
    assert!(advance_refusal(&p, Stage::Archived).unwrap().contains("公示"));
    p.notices.push((Stage::Acceptance, d(2017, 10, 1)));
    assert!(advance_refusal(&p, Stage::Archived).is_none());
}

#[test]
fn payments_follow_projects() {
    let today = d(2017, 11, 1);
    let ok = state(Stage::Implementation);
    assert!(payment_refusal(&ok, Money::from_yuan(60_000), true, d(2017, 6, 1), today).is_none(), "exactly the budget");
    let over = payment_refusal(&ok, Money::from_yuan(60_001), true, d(2017, 6, 1), today).unwrap();
    assert_eq!(over.0, "amount");
    assert!(over.1.contains("超出 1.00 元"), "{}", over.1);
    assert_eq!(payment_refusal(&ok, Money::from_yuan(10), false, d(2017, 6, 1), today).unwrap().0, "files");
    assert_eq!(payment_refusal(&ok, Money::ZERO, true, d(2017, 6, 1), today).unwrap().0, "amount");
    assert_eq!(payment_refusal(&ok, Money::from_fen(-5), true, d(2017, 6, 1), today).unwrap().0, "amount");
    assert!(payment_refusal(&ok, Money::from_yuan(10), true, d(2017, 11, 2), today).unwrap().1.contains("还没有到"));
    let mut approved = state(Stage::Implementation);
    approved.notices.push((Stage::Approval, d(2017, 4, 1)));
    let early = payment_refusal(&approved, Money::from_yuan(10), true, d(2017, 3, 31), today).unwrap();
    assert_eq!(early.0, "paid_on");
    assert!(early.1.contains("早于项目立项公示日期 2017-04-01"), "{}", early.1);
    assert!(payment_refusal(&approved, Money::from_yuan(10), true, d(2017, 4, 1), today).is_none());
    for stage in [Stage::Screening, Stage::Planning, Stage::Approval] {
        let r = payment_refusal(&state(stage), Money::from_yuan(10), true, d(2017, 6, 1), today).unwrap();
        assert!(r.1.contains("尚未批准实施"), "{stage}: {}", r.1);
    }
    assert!(payment_refusal(&state(Stage::Acceptance), Money::from_yuan(10), true, d(2017, 6, 1), today).is_none());
    assert!(
        payment_refusal(&state(Stage::Archived), Money::from_yuan(10), true, d(2017, 6, 1), today)
            .unwrap()
            .1
            .contains("已归档")
    );
    let mut nobody = state(Stage::Implementation);
    nobody.households = 0;
    assert!(
        payment_refusal(&nobody, Money::from_yuan(10), true, d(2017, 6, 1), today)
            .unwrap()
            .1
            .contains("没有受益贫困户")
    );
}

#[test]
fn the_library_refuses_a_project_without_a_target_and_names_each_field() {
    let form = ProjectForm {
        name: "海宴镇光伏扶贫电站".into(),
        kind: "光伏".into(),
        place_code: "440781111".into(),
        unit: "海宴镇人民政府".into(),
        performance_target: "".into(),
        budget_provincial: "-5".into(),
        budget_city: "abc".into(),
        ..Default::default()
    };
    let e = form.validate().unwrap_err();
    assert!(e.get("performance_target").unwrap().contains("不能入库"));
    assert!(e.get("budget_provincial").unwrap().contains("负数"));
    assert!(e.get("budget_city").is_some());
    let good = ProjectForm {
        performance_target: "带动 30 户贫困户每户年增收 3000 元".into(),
        budget_provincial: "200,000".into(),
        budget_city: "50000.5".into(),
        ..form
    };
    let p = good.validate().unwrap();
    assert!(p.income_generating, "photovoltaic is income-generating by default");
    assert_eq!(p.budget_total(), Money::from_fen(25_000_050));
    let empty = ProjectForm { budget_provincial: String::new(), budget_city: String::new(), ..good };
    assert!(empty.validate().unwrap_err().get("budget_central").unwrap().contains("至少"));
}

#[test]
fn the_target_curve_rises_to_all_by_its_month() {
    assert_eq!(target_percent(2017, d(2017, 12, 31), 12), 100);
    assert_eq!(target_percent(2017, d(2017, 1, 1), 12), 0);
    let mid = target_percent(2017, d(2017, 7, 2), 12);
    assert!((49..=50).contains(&mid), "{mid}");
    assert_eq!(target_percent(2017, d(2017, 11, 1), 10), 100, "all by the end of October");
    // The check year, not the day's: checking 2017 in March 2018 wants all of 2017's funds paid.
    assert_eq!(target_percent(2017, d(2018, 3, 1), 12), 100);
    assert_eq!(target_percent(2018, d(2017, 12, 1), 12), 0);
}

#[test]
fn each_project_rule_breaks_on_its_own_and_a_sound_project_is_clean() {
    let p = crate::checks::AuditParams::defaults(2017, d(2017, 11, 1));
    let mut sound = state(Stage::Implementation);
    sound.documents = vec![DocumentKind::Plan, DocumentKind::Approval];
    let facts = |s: ProjectState, since: NaiveDate, unvouchered: usize| ProjectFacts {
        id: 9,
        name: "光伏扶贫电站".into(),
        place_code: "440781111".into(),
        stage_since: since,
        state: s,
        payments_without_voucher: unvouchered,
    };
    let rules = |f: &ProjectFacts| project_findings(f, &p).iter().map(|x| x.rule).collect::<Vec<_>>();
    assert!(rules(&facts(sound.clone(), d(2017, 3, 1), 0)).is_empty());
    // Waiting before approval too long (not in implementation, which takes its time).
    let mut waiting = state(Stage::Planning);
    assert_eq!(rules(&facts(waiting.clone(), d(2017, 2, 1), 0)), ["P-PRJ-01"]);
    assert!(rules(&facts(waiting.clone(), d(2017, 9, 1), 0)).is_empty());
    waiting.households = 0;
    assert_eq!(rules(&facts(waiting, d(2017, 9, 1), 0)), ["P-PRJ-02"]);
    let mut no_plan = sound.clone();
    no_plan.documents = vec![DocumentKind::Approval];
    assert_eq!(rules(&facts(no_plan, d(2017, 3, 1), 0)), ["P-PRJ-03"]);
    assert_eq!(rules(&facts(sound.clone(), d(2017, 3, 1), 2)), ["P-PAY-01"]);
    let mut over = sound;
    over.paid = Money::from_yuan(100_001);
    let f = project_findings(&facts(over, d(2017, 3, 1), 0), &p);
    assert_eq!(f.iter().map(|x| x.rule).collect::<Vec<_>>(), ["P-PAY-02"]);
    assert!(f[0].message.contains("光伏扶贫电站") && f[0].member_id == Some(9));
}

#[test]
fn spending_below_the_curve_by_more_than_the_margin_is_found() {
    let p = crate::checks::AuditParams::defaults(2017, d(2017, 11, 1));
    assert!(spending_findings("440703", "蓬江区", Some(75), 83, &p).is_empty(), "within 10 points");
    let f = spending_findings("440703", "蓬江区", Some(40), 83, &p);
    assert_eq!(f[0].rule, "F-SPD-01");
    assert!(f[0].message.contains("40%") && f[0].message.contains("83%"));
    assert!(spending_findings("440703", "蓬江区", None, 83, &p).is_empty(), "nothing allocated");
}

#[test]
fn an_allocation_is_refused_for_its_amount_and_dates_at_their_fields() {
    let today = d(2017, 11, 1);
    let ok = Allocation {
        year: 2017,
        source: FundSource::Provincial,
        region_code: "440781".into(),
        amount: Money::from_yuan(100_000),
        allocated_on: d(2017, 3, 1),
        arrived_on: Some(d(2017, 3, 20)),
    };
    assert_eq!(ok.refusal(today), None);
    // Sent ahead in December of the year before: allowed.
    assert_eq!(Allocation { allocated_on: d(2016, 12, 20), ..ok.clone() }.refusal(today), None);
    let field = |a: Allocation| a.refusal(today).map(|(f, _)| f);
    assert_eq!(field(Allocation { amount: Money::from_fen(-1), ..ok.clone() }), Some("amount"));
    assert_eq!(field(Allocation { amount: Money::ZERO, ..ok.clone() }), Some("amount"));
    assert_eq!(
        field(Allocation { allocated_on: d(2017, 11, 2), arrived_on: None, ..ok.clone() }),
        Some("allocated_on")
    );
    assert_eq!(field(Allocation { allocated_on: d(2015, 6, 1), arrived_on: None, ..ok.clone() }), Some("allocated_on"));
    assert_eq!(field(Allocation { arrived_on: Some(d(2017, 2, 1)), ..ok.clone() }), Some("arrived_on"));
    assert_eq!(field(Allocation { arrived_on: Some(d(2017, 12, 1)), ..ok.clone() }), Some("arrived_on"));
    let (_, why) = Allocation { allocated_on: d(2015, 6, 1), ..ok }.refusal(today).unwrap_or(("", String::new()));
    assert!(why.contains("不在 2017 年度"), "{why}");
}

#[test]
fn funds_pass_down_only_to_the_districts_towns_once_arrived_and_never_more_than_is_left() {
    let today = d(2017, 11, 1);
    let parent = Allocation {
        year: 2017,
        source: FundSource::Provincial,
        region_code: "440781".into(),
        amount: Money::from_yuan(100_000),
        allocated_on: d(2017, 1, 21),
        arrived_on: Some(d(2017, 2, 20)),
    };
    let passed = Money::from_yuan(60_000);
    let field = |town: &str, yuan: i64, on| {
        transfer_refusal(&parent, passed, town, Money::from_yuan(yuan), on, today).map(|(f, _)| f)
    };
    assert_eq!(field("440781111", 40_000, d(2017, 3, 1)), None, "all that is left");
    assert_eq!(field("440781111", 40_001, d(2017, 3, 1)), Some("amount"));
    assert_eq!(field("440781111", 0, d(2017, 3, 1)), Some("amount"));
    assert_eq!(field("440785107", 1_000, d(2017, 3, 1)), Some("town_code"), "another district's town");
    assert_eq!(field("440781", 1_000, d(2017, 3, 1)), Some("town_code"));
    assert_eq!(field("440781111", 1_000, d(2017, 2, 19)), Some("on"), "before the funds arrived");
    assert_eq!(field("440781111", 1_000, d(2017, 11, 2)), Some("on"), "ahead of today");
    let (_, why) = transfer_refusal(&parent, passed, "440781111", Money::from_yuan(40_001), d(2017, 3, 1), today)
        .unwrap_or(("", String::new()));
    assert!(why.contains("尚余 40000.00 元"), "{why}");
    let not_arrived = Allocation { arrived_on: None, ..parent.clone() };
    assert_eq!(
        transfer_refusal(&not_arrived, Money::ZERO, "440781111", Money::from_yuan(1), d(2017, 3, 1), today)
            .map(|x| x.0),
        Some("on")
    );
    let to_town = Allocation { region_code: "440781111".into(), ..parent };
    assert_eq!(
        transfer_refusal(&to_town, Money::ZERO, "440781111", Money::from_yuan(1), d(2017, 3, 1), today).map(|x| x.0),
        Some("parent")
    );
}
