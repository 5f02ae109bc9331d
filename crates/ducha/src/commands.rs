//! What each subcommand does.

use anyhow::{Context, Result, bail};
use ducha_domain::Money;
use ducha_domain::access::Scope;
use ducha_domain::demo::DemoConfig;
use ducha_domain::labelled::Labelled;
use ducha_domain::privacy;
use ducha_domain::region::parse_region_file;
use ducha_domain::registry::{
    Education, Health, HouseholdStatus, HouseholdType, LabourAbility, PovertyCause, Relation, SchoolStage, Sex,
};
use ducha_storage::{Db, demo, regions, registry};
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::{Cli, Command, DemoArgs, HouseholdCommand, RegionsCommand, ServeArgs};

pub async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Migrate => {
            let db = Db::open(&cli.db).await?;
            let loaded = regions::ensure_default(&db).await?;
            println!("数据库结构已是最新：{}", cli.db);
            if let Some(s) = loaded {
                println!("已装入默认区划（江门市）{} 个", s.inserted);
            }
            Ok(())
        }
        Command::Serve(args) => serve(&cli.db, args).await,
        Command::Demo(args) => {
            let db = Db::open(&cli.db).await?;
            load_demo(&db, &args).await
        }
        Command::Regions(RegionsCommand::Import { file }) => {
            let text = std::fs::read(&file).with_context(|| format!("无法读取文件 {}", file.display()))?;
            let parsed = parse_region_file(text.as_slice()).map_err(|errs| {
                let lines: Vec<String> = errs.iter().map(|e| format!("  {}：{e}", file.display())).collect();
                anyhow::anyhow!("区划文件有 {} 处错误，未写入任何数据：\n{}", errs.len(), lines.join("\n"))
            })?;
            let db = Db::open(&cli.db).await?;
            let s = regions::import(&db, &parsed).await?;
            println!("已导入区划 {} 个：新增 {}，更新 {}", parsed.len(), s.inserted, s.updated);
            Ok(())
        }
        Command::Household(HouseholdCommand::Show { number, full }) => {
            let db = Db::open(&cli.db).await?;
            show_household(&db, &number, full).await
        }
    }
}

async fn load_demo(db: &Db, args: &DemoArgs) -> Result<()> {
    let config = DemoConfig { seed: args.seed, households: args.households, year: args.year };
    let bar = ProgressBar::new(config.households);
    bar.set_style(
        ProgressStyle::with_template("生成演示数据 [{bar:40}] {pos}/{len} 户 {per_sec} 预计剩余 {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let started = std::time::Instant::now();
    let summary = demo::load(db, config, |done, _| bar.set_position(done)).await?;
    bar.finish_and_clear();
    println!(
        "演示城市已生成（种子 {}，{} 年）：贫困户 {} 户，成员 {} 人，帮扶责任人 {} 人，故意设置的数据问题 {} 处，用时 {:.1} 秒",
        config.seed,
        config.year,
        summary.households,
        summary.members,
        summary.cadres,
        summary.defects,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn serve(url: &str, args: ServeArgs) -> Result<()> {
    let db = Db::open(url).await?;
    regions::ensure_default(&db).await?;
    if args.demo {
        if registry::is_empty(db.conn()).await? {
            load_demo(&db, &DemoArgs { seed: 20_171_106, households: 12_000, year: 2017 }).await?;
        } else {
            println!("数据库中已有贫困户，不再生成演示数据");
        }
    }
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("无法监听 {}（端口是否已被占用？可用 --addr 换一个）", args.addr))?;
    let addr = listener.local_addr()?;
    let (households, members) = registry::totals(&db, &Scope::All).await?;
    println!("ducha 已启动：http://{addr}/");
    println!("数据库：{url}（贫困户 {households} 户，{members} 人）");
    println!("按 Ctrl+C 停止");
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
        println!("正在停止……");
    };
    ducha_web::serve(listener, ducha_web::AppState { db }, shutdown).await?;
    Ok(())
}

fn label<T: Labelled>(code: &str) -> String {
    T::parse(code).map(|v| v.label().to_string()).unwrap_or_else(|_| code.to_string())
}

async fn show_household(db: &Db, number: &str, full: bool) -> Result<()> {
    let Some(rec) = registry::household_by_number(db, &Scope::All, number).await? else {
        bail!("没有户编号为“{number}”的贫困户");
    };
    let tree = regions::tree(db).await?;
    let h = &rec.household;
    let show = |raw: &Option<String>, mask: fn(&str) -> String| {
        raw.as_deref().map(|v| if full { v.to_string() } else { mask(v) }).unwrap_or_else(|| "—".into())
    };
    let causes: Vec<String> = [Some(&h.main_cause), h.other_cause_1.as_ref(), h.other_cause_2.as_ref()]
        .into_iter()
        .flatten()
        .map(|c| label::<PovertyCause>(c))
        .collect();
    let yes = |b: bool| if b { "是" } else { "否" };
    println!("户编号：{}", h.number);
    println!("所在地：{}", tree.path(&h.village_code).unwrap_or_else(|| h.village_code.clone()));
    println!(
        "属性：{}　状态：{}　识别日期：{}",
        label::<HouseholdType>(&h.household_type),
        label::<HouseholdStatus>(&h.status),
        h.identified_on
    );
    println!("致贫原因：{}", causes.join("、"));
    println!(
        "两不愁三保障：吃穿 {}　义务教育 {}　基本医疗 {}　住房安全 {}　饮水安全 {}",
        yes(h.food_clothing),
        yes(h.compulsory_education),
        yes(h.basic_medical),
        yes(h.safe_housing),
        yes(h.safe_water)
    );
    println!(
        "电话：{}　银行账号：{}",
        show(&h.phone, privacy::mask_phone),
        show(&h.bank_account, privacy::mask_account)
    );
    println!("\n家庭成员（{} 人）：", rec.members.len());
    for m in &rec.members {
        let id = if full { m.id_number.clone() } else { privacy::mask_id(&m.id_number) };
        println!(
            "  {}. {}　{}　{}　{}　出生 {}　{}　{}　{}　{}　医保 {}",
            m.seq,
            m.name,
            label::<Relation>(&m.relation),
            label::<Sex>(&m.sex),
            id,
            m.birth_date,
            label::<Education>(&m.education),
            label::<SchoolStage>(&m.school_stage),
            label::<Health>(&m.health),
            label::<LabourAbility>(&m.labour_ability),
            yes(m.medical_insurance)
        );
    }
    println!("\n年度收支（元）：");
    for f in &rec.finances {
        let income = f.wage_income + f.business_income + f.property_income + f.transfer_income;
        let net = Money::from_fen(income - f.production_costs);
        let per = net.per(i64::from(f.household_size)).unwrap_or(Money::ZERO);
        println!(
            "  {} 年：工资性 {}　生产经营性 {}　财产性 {}　转移性 {}　生产经营支出 {}　纯收入 {}　人均纯收入 {}",
            f.year,
            Money::from_fen(f.wage_income),
            Money::from_fen(f.business_income),
            Money::from_fen(f.property_income),
            Money::from_fen(f.transfer_income),
            Money::from_fen(f.production_costs),
            net,
            per
        );
    }
    println!("\n状态变化：");
    for s in &rec.history {
        println!("  {}　{}", s.effective_on, label::<HouseholdStatus>(&s.status));
    }
    Ok(())
}
