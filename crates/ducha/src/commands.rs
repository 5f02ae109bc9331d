//! What each subcommand does.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use ducha_domain::Money;
use ducha_domain::access::{Actor, Role, Scope};
use ducha_domain::demo::DemoConfig;
use ducha_domain::labelled::Labelled;
use ducha_domain::privacy;
use ducha_domain::region::parse_region_file;
use ducha_domain::registry::{
    Education, Health, HouseholdStatus, HouseholdType, LabourAbility, PovertyCause, Relation, SchoolStage, Sex,
};
use ducha_storage::audit::anchor::{self, AnchorPaths, KeyStatus};
use ducha_storage::{Db, accounts, audit, demo, registry};
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::{
    AuditLogCommand, Cli, Command, DemoArgs, ExportCommand, HouseholdCommand, ImportCommand, KeysCommand,
    RegionsCommand, ServeArgs, UserCommand,
};

/// The command line acts for the system user running it.
fn cli_actor() -> Actor {
    Actor::command_line(&std::env::var("USER").unwrap_or_else(|_| "unknown".into()))
}

/// Whether a command writes: such a command makes the audit key when the database has none yet
/// (reading commands never make one), and refuses to start without the key of a signed chain.
fn writes(command: &Command) -> bool {
    use crate::cli::{AuditCommand, CampaignCommand};
    match command {
        Command::Household(_)
        | Command::Export(_)
        | Command::Funds(_)
        | Command::Platform(_)
        | Command::Report(_)
        | Command::AuditLog(AuditLogCommand::Verify)
        | Command::Backup { .. }
        | Command::Keys(KeysCommand::Status)
        | Command::User(UserCommand::List | UserCommand::Tokens { .. })
        | Command::Campaign(CampaignCommand::List | CampaignCommand::Show { .. }) => false,
        Command::Campaign(CampaignCommand::Sample { save, .. }) => *save,
        Command::Audit(args) => !matches!(args.command, Some(AuditCommand::Rules { .. })),
        _ => true,
    }
}

/// Open the database (migrated) with its audit key: loaded from its file, or made by a command
/// that writes to a database that has none yet.
async fn open_db(cli: &Cli) -> Result<Db> {
    let write = writes(&cli.command);
    let db = Db::open_with(&cli.db, db_options(cli)).await?;
    let paths = anchor_paths(cli);
    let (db, status) = anchor::open(db, &paths, write).await?;
    match status {
        KeyStatus::Created { from } => eprintln!(
            "已建立审计密钥文件 {}：自第 {from} 条审计记录起签名。请与数据库分开备份；多个 ducha 进程共用一个数据库时，每台主机放同一份",
            paths.key.display()
        ),
        KeyStatus::Missing { keyed_from: Some(from) } if write => bail!(
            "审计链自第 {from} 条记录起由审计密钥签名，但找不到密钥文件 {}：请用 --audit-key（或 DUCHA_AUDIT_KEY_FILE）指定；\
             多个 ducha 进程共用一个数据库时，请把最初建立的密钥文件复制到本机",
            paths.key.display()
        ),
        _ => {}
    }
    let (db, master) = ducha_storage::datakeys::open(db, &paths.master, write).await?;
    if let ducha_storage::datakeys::MasterStatus::Created(path) = master {
        eprintln!(
            "已建立主密钥文件 {}（只有本用户可读）：身份证号、电话、银行账号、健康状况和上传的文件在数据库中加密保存，没有这个文件就无法读出。\n\
             请立即把它与数据库分开备份（例如另存到离线介质）：丢失它，加密的个人信息将无法恢复；与数据库放在一起，加密就失去意义。",
            path.display()
        );
    }
    Ok(db)
}

fn db_options(cli: &Cli) -> ducha_storage::DbOptions {
    ducha_storage::DbOptions {
        pool: cli.db_pool,
        connect_timeout: std::time::Duration::from_secs(cli.db_connect_timeout.max(1)),
        statement_timeout: cli.db_statement_timeout.filter(|s| *s > 0).map(std::time::Duration::from_secs),
    }
}

fn anchor_paths(cli: &Cli) -> AnchorPaths {
    let default = AnchorPaths::default_for(&cli.db);
    AnchorPaths {
        key: cli.audit_key.clone().unwrap_or(default.key),
        witness: cli.audit_witness.clone().unwrap_or(default.witness),
        master: cli.master_key.clone().unwrap_or(default.master),
    }
}

pub async fn run(cli: Cli) -> Result<()> {
    if let Command::AuditLog(AuditLogCommand::Verify) = cli.command {
        return verify_audit_log(&cli).await;
    }
    if let Command::Restore { file } = &cli.command {
        return restore(&cli, file).await;
    }
    if let Command::Migrate { dry_run: true } = cli.command {
        return migrate_dry_run(&cli).await;
    }
    let db = open_db(&cli).await?;
    match cli.command {
        Command::Migrate { .. } => {
            let loaded = db.system().regions().ensure_default().await?;
            println!("数据库结构已是最新：{}", ducha_storage::db_redact(&cli.db));
            if let Some(s) = loaded {
                println!("已装入默认区划（江门市）{} 个", s.inserted);
            }
            Ok(())
        }
        Command::Serve(args) => serve(db, &cli.db, args).await,
        Command::Backup { out } => {
            let head = crate::backup::backup(&db, &cli.db, &out).await?;
            println!(
                "已备份到 {}（只有本人可读）：审计链到第 {} 条，见 {}。审计密钥不在备份中，请与备份分开保管",
                out.display(),
                head.id,
                crate::backup::head_path(&out).display()
            );
            Ok(())
        }
        Command::Restore { .. } => Ok(()),
        Command::Demo(args) => load_demo(&db, &args).await,
        Command::Regions(RegionsCommand::Import { file }) => {
            let f = std::fs::File::open(&file).with_context(|| format!("无法读取文件 {}", file.display()))?;
            // A division list is a few hundred KB; anything past 64 MB is not one.
            let parsed = parse_region_file(std::io::Read::take(f, 64 << 20)).map_err(|errs| {
                let lines: Vec<String> = errs.iter().take(100).map(|e| format!("  {}：{e}", file.display())).collect();
                let more =
                    if errs.len() > 100 { format!("\n  ……另有 {} 处", errs.len() - 100) } else { String::new() };
                anyhow::anyhow!("区划文件有 {} 处错误，未写入任何数据：\n{}{more}", errs.len(), lines.join("\n"))
            })?;
            let s = db.scoped(&cli_actor()).regions().import(&parsed).await?;
            println!("已导入区划 {} 个：新增 {}，更新 {}", parsed.len(), s.inserted, s.updated);
            Ok(())
        }
        Command::Household(HouseholdCommand::Show { number, full }) => show_household(&db, &number, full).await,
        Command::User(cmd) => user_command(&db, cmd).await,
        Command::Import(cmd) => import_command(&db, cmd).await,
        Command::Export(cmd) => export_command(&db, cmd).await,
        Command::Funds(cmd) => crate::platform::funds_command(&db, cmd).await,
        Command::Platform(cmd) => crate::platform::command(&db, cmd).await,
        Command::Campaign(cmd) => crate::campaign::command(&db.scoped(&cli_actor()), cmd).await,
        Command::Report(cmd) => crate::campaign::report(&db.scoped(&cli_actor()), cmd).await,
        Command::Audit(args) => {
            let actor = acting_as(&db, args.as_user.as_deref()).await?;
            crate::audit::audit(&db, &actor, args).await
        }
        Command::Keys(KeysCommand::Status) => keys_status(&db).await,
        Command::Keys(KeysCommand::Rotate { suite, batch }) => rotate_keys(&db, suite.as_deref(), batch).await,
        Command::AuditLog(AuditLogCommand::Witness) => {
            let path = anchor_paths(&cli).witness;
            match audit::anchor::witness(&db).await? {
                Some(w) => println!("已写入审计见证 {}：审计链到第 {} 条，哈希 {}", path.display(), w.id, w.hash),
                None => println!("审计链头与见证文件 {} 的最后一行相同，无需再写", path.display()),
            }
            Ok(())
        }
        Command::AuditLog(AuditLogCommand::Verify) => verify_audit_log(&cli).await,
    }
}

/// `ducha migrate --dry-run`: what an upgrade would run, touching nothing.
async fn migrate_dry_run(cli: &Cli) -> Result<()> {
    let db = Db::connect_with(&cli.db, db_options(cli)).await?;
    let state = db.schema().await?;
    db.close().await?;
    if !state.unknown.is_empty() {
        bail!(
            "这个数据库已由更新版本的 ducha 升级（数据库结构 {}，本程序只认识到 {}）：请使用那个版本或更新的版本",
            state.unknown.join("、"),
            ducha_storage::schema_version()
        );
    }
    let now = state.applied.last().map_or("（空数据库）".to_string(), Clone::clone);
    if state.pending.is_empty() {
        println!("数据库结构已是最新（{now}），没有要执行的迁移");
    } else {
        println!("数据库结构现为 {now}；将执行 {} 项迁移（未执行，去掉 --dry-run 才执行）：", state.pending.len());
        for m in &state.pending {
            println!("  {m}");
        }
    }
    Ok(())
}

/// `ducha restore FILE`: into an empty database; then the schema is brought up to date, a
/// witness file that names records the backup lacks is kept aside (it records what was lost),
/// and a new one starts at the restored chain's head.
async fn restore(cli: &Cli, file: &std::path::Path) -> Result<()> {
    crate::backup::restore(&cli.db, file).await?;
    let paths = anchor_paths(cli);
    let db = Db::open_with(&cli.db, db_options(cli)).await?;
    if paths.witness.exists() {
        let aside =
            format!("{}.before-restore-{}", paths.witness.display(), chrono::Local::now().format("%Y%m%d-%H%M%S"));
        std::fs::rename(&paths.witness, &aside)
            .with_context(|| format!("无法移开见证文件 {}", paths.witness.display()))?;
        println!("原见证文件已移到 {aside}：其中晚于备份的记录已不在恢复的数据库中，请保留它作为丢失了什么的记录");
    }
    let (db, status) = anchor::open(db, &paths, false).await?;
    let head = db.system().backup().head().await?;
    let beside = crate::backup::head_path(file);
    if let Ok(text) = std::fs::read_to_string(&beside)
        && text.trim() != format!("{}\t{}", head.id, head.hash)
    {
        bail!("恢复后的审计链头（第 {} 条）与备份旁的 {} 不符：备份文件可能不完整或被替换", head.id, beside.display());
    }
    match status {
        KeyStatus::Missing { keyed_from: Some(_) } => println!(
            "注意：找不到审计密钥文件 {}：请把原来的密钥文件放到这里（或用 --audit-key 指定），否则不能写入，也不能校验",
            paths.key.display()
        ),
        _ if db.anchor().is_some() => {
            audit::anchor::witness(&db).await?;
        }
        _ => {}
    }
    println!(
        "已从 {} 恢复到 {}：审计链到第 {} 条。可用 ducha audit-log verify 校验",
        file.display(),
        ducha_storage::db_redact(&cli.db),
        head.id
    );
    db.close().await?;
    Ok(())
}

/// `ducha audit-log verify`: never makes a key; without the key of a signed chain, or without any
/// key, it says what it could not check and fails rather than report a clean chain.
async fn verify_audit_log(cli: &Cli) -> Result<()> {
    let paths = anchor_paths(cli);
    let db = Db::open_with(&cli.db, db_options(cli)).await?;
    let (db, status) = anchor::open(db, &paths, false).await?;
    if let KeyStatus::Missing { keyed_from: Some(from) } = status {
        bail!(
            "找不到审计密钥文件 {}：审计链自第 {from} 条记录起由密钥签名，没有密钥无法校验（不能排除整条链被重算）。\
             请用 --audit-key 指定密钥文件",
            paths.key.display()
        );
    }
    let report = db.scoped(&cli_actor()).audit().verify().await?;
    if let Some((id, why)) = &report.broken {
        if *id == 0 {
            bail!("审计见证文件有误：{why}");
        }
        bail!("审计链在第 {id} 条处断开：{why}（此前 {} 条完好）", report.checked);
    }
    if report.keyed_from.is_none() {
        println!("哈希链逐条校验通过：共 {} 条记录", report.checked);
        bail!(
            "找不到审计密钥文件 {}：这个数据库的审计链还没有用密钥签名，只校验了哈希链，不能排除整条链被重算。\
             运行一次 ducha migrate（或启动服务）即建立密钥",
            paths.key.display()
        );
    }
    println!("审计链完好：共 {} 条记录，逐条校验通过", report.checked);
    match report.keyed_from {
        Some(1) => println!("全部记录均由审计密钥签名，签名校验通过（密钥文件 {}）", paths.key.display()),
        Some(from) if from > report.checked => println!(
            "第 1 至 {} 条写于启用审计密钥之前，只校验了哈希链；此后的记录将由密钥签名（密钥文件 {}）",
            from - 1,
            paths.key.display()
        ),
        Some(from) => println!(
            "第 1 至 {} 条写于启用审计密钥之前，只校验了哈希链；第 {from} 条起由审计密钥签名，签名校验通过（密钥文件 {}）",
            from - 1,
            paths.key.display()
        ),
        None => {}
    }
    match report.witnessed {
        Some((id, at)) => println!(
            "见证文件 {} 最近记载 {} 时审计链到第 {id} 条，与数据库一致；此后的记录若被删除，要到下一次见证后才能发现",
            paths.witness.display(),
            at.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M:%S")
        ),
        None if report.keyed_from.is_some() => println!(
            "还没有见证文件 {}：末尾的记录被删除时无法发现。运行中的服务每 5 分钟写一次，也可用 ducha audit-log witness 写",
            paths.witness.display()
        ),
        None => {}
    }
    Ok(())
}

/// The actor a command works as: a named user (their role and scope), or the command line.
pub(crate) async fn acting_as(db: &Db, user: Option<&str>) -> Result<Actor> {
    match user {
        None => Ok(cli_actor()),
        Some(name) => match db.scoped(&cli_actor()).accounts().find_user(name).await? {
            Some(u) if u.active => Ok(u.actor(Some("cli".into()))),
            Some(_) => bail!("用户“{name}”已停用"),
            None => bail!("没有用户“{name}”"),
        },
    }
}

async fn import_command(db: &Db, cmd: ImportCommand) -> Result<()> {
    use ducha_reports::help_sheets::Kind;
    let (file, dry_run, as_user, expected) = match cmd {
        ImportCommand::Households { file, dry_run, as_user } => (file, dry_run, as_user, Kind::Households),
        ImportCommand::Plans { file, dry_run, as_user } => (file, dry_run, as_user, Kind::Plans),
        ImportCommand::Logs { file, dry_run, as_user } => (file, dry_run, as_user, Kind::Logs),
        ImportCommand::Attendance { file, dry_run, as_user } => (file, dry_run, as_user, Kind::Attendance),
        ImportCommand::Projects { file, dry_run, as_user } => (file, dry_run, as_user, Kind::Projects),
        ImportCommand::Postings { file, dry_run, as_user } => (file, dry_run, as_user, Kind::Postings),
        ImportCommand::Institutions { file, dry_run, as_user } => (file, dry_run, as_user, Kind::Institutions),
        ImportCommand::Allocations { file, dry_run, as_user } => (file, dry_run, as_user, Kind::Allocations),
        ImportCommand::Payments { file, vouchers, dry_run, as_user } => {
            return import_payments(db, file, vouchers, dry_run, as_user).await;
        }
    };
    let bytes = std::fs::read(&file).with_context(|| format!("无法读取文件 {}", file.display()))?;
    import_file(db, &file, bytes, dry_run, as_user, expected).await
}

/// A ledger and its vouchers, packed as the import page packs them (or a zip made beforehand).
async fn import_payments(
    db: &Db,
    file: PathBuf,
    vouchers: Vec<PathBuf>,
    dry_run: bool,
    as_user: Option<String>,
) -> Result<()> {
    let read = |path: &PathBuf| -> Result<ducha_storage::evidence::Upload> {
        let bytes = std::fs::read(path).with_context(|| format!("无法读取文件 {}", path.display()))?;
        let filename = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        Ok(ducha_storage::evidence::Upload { filename, bytes })
    };
    let mut files = vec![read(&file)?];
    for v in &vouchers {
        files.push(read(v)?);
    }
    let bytes = match ducha_reports::bundle::pack(&files) {
        Some(packed) => packed?,
        None if vouchers.is_empty() => files.remove(0).bytes,
        None if !ducha_reports::bundle::is_sheet(&files[0].filename) => {
            bail!("台账应是 .xlsx、.xls 或 .csv 文件；已打包成 zip 的台账和凭证请单独导入，不要再附凭证文件")
        }
        None => bail!("凭证文件中不能再有表格文件（.xlsx、.xls 或 .csv）：一次导入一份台账"),
    };
    import_file(db, &file, bytes, dry_run, as_user, ducha_reports::help_sheets::Kind::Payments).await
}

async fn import_file(
    db: &Db,
    file: &std::path::Path,
    bytes: Vec<u8>,
    dry_run: bool,
    as_user: Option<String>,
    expected: ducha_reports::help_sheets::Kind,
) -> Result<()> {
    let actor = acting_as(db, as_user.as_deref()).await?;
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let today = chrono::Local::now().date_naive();
    eprintln!("读取并检查 {}……", file.display());
    // The file must be the template asked for: a plans file given as households is refused whole.
    let found = ducha_reports::exchange::kind_of(&name, &bytes)?.unwrap_or(expected);
    if found != expected {
        bail!(
            "文件“{}”是{}的格式（按表头判断），不是{}，未导入任何数据",
            file.display(),
            kind_name(found),
            kind_name(expected)
        );
    }
    let outcome = if dry_run {
        ducha_reports::exchange::check(&db.scoped_on(&actor, today), &name, &bytes).await?
    } else {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("写入 [{bar:40}] {pos}/{len} 户 预计剩余 {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        let o = ducha_reports::exchange::import(&db.scoped_on(&actor, today), &name, &bytes, |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        })
        .await?;
        bar.finish_and_clear();
        o
    };
    for note in &outcome.parsed.notes {
        println!("说明：{note}");
    }
    let what = if outcome.committed { "已导入" } else { "将导入" };
    match outcome.help {
        Some(h) => {
            println!("{what}{}：新增 {}、修改 {}、未变 {}", kind_name(outcome.kind), h.new, h.changed, h.unchanged)
        }
        None => {
            let s = outcome.summary;
            println!(
                "{what}：贫困户新增 {}、修改 {}、未变 {}；成员新增 {}、修改 {}、未变 {}；文件中没有列出的成员 {} 人（未改动）",
                s.households_new,
                s.households_changed,
                s.households_unchanged,
                s.members_new,
                s.members_changed,
                s.members_unchanged,
                s.members_not_in_file
            );
        }
    }
    if !outcome.errors.is_empty() {
        for e in outcome.errors.iter().take(200) {
            eprintln!("{e}");
        }
        if outcome.errors.len() > 200 {
            eprintln!("……共 {} 处错误", outcome.errors.len());
        }
        bail!("文件有 {} 处错误，未导入任何数据", outcome.errors.len());
    }
    if dry_run {
        println!("（仅检查，未写入；去掉 --dry-run 即导入）");
    }
    Ok(())
}

fn kind_name(kind: ducha_reports::help_sheets::Kind) -> &'static str {
    match kind {
        ducha_reports::help_sheets::Kind::Households => "贫困户及成员",
        ducha_reports::help_sheets::Kind::Plans => "帮扶计划",
        ducha_reports::help_sheets::Kind::Logs => "帮扶日志",
        ducha_reports::help_sheets::Kind::Attendance => "驻点考勤",
        ducha_reports::help_sheets::Kind::Projects => "扶贫项目",
        ducha_reports::help_sheets::Kind::Payments => "资金拨付台账",
        ducha_reports::help_sheets::Kind::Postings => "派驻干部名单",
        ducha_reports::help_sheets::Kind::Institutions => "定点医疗机构",
        ducha_reports::help_sheets::Kind::Allocations => "资金下达",
    }
}

async fn export_command(db: &Db, cmd: ExportCommand) -> Result<()> {
    match cmd {
        ExportCommand::HelpTemplate { out } => {
            crate::files::write_private(&out, &ducha_reports::help_sheets::templates()?)?;
            println!("已写出帮扶计划和帮扶日志导入模板：{}", out.display());
        }
        ExportCommand::PlatformTemplate { kind, out } => {
            use ducha_reports::help_sheets::Kind;
            let kind = match kind.as_str() {
                "projects" => Kind::Projects,
                "payments" => Kind::Payments,
                "allocations" => Kind::Allocations,
                "postings" => Kind::Postings,
                "attendance" => Kind::Attendance,
                "institutions" => Kind::Institutions,
                other => {
                    bail!("没有“{other}”模板：可选 projects、payments、allocations、postings、attendance、institutions")
                }
            };
            crate::files::write_private(&out, &ducha_reports::help_sheets::platform_template(kind)?)?;
            println!("已写出{}导入模板：{}", kind_name(kind), out.display());
        }
        ExportCommand::Payments { out, as_user } => {
            let actor = acting_as(db, as_user.as_deref()).await?;
            let s = db.scoped(&actor);
            let rows = s.funds().payments().ledger().await?;
            let tree = s.regions().tree().await?;
            crate::files::write_private(&out, &ducha_reports::help_sheets::ledger_workbook(&rows, &tree)?)?;
            println!("已写出资金拨付台账 {} 笔：{}", rows.len(), out.display());
        }
        ExportCommand::Template { out } => {
            crate::files::write_private(&out, &ducha_reports::households::template()?)?;
            println!("已写出导入模板：{}", out.display());
        }
        ExportCommand::Households { out, region, status, as_user } => {
            let actor = acting_as(db, as_user.as_deref()).await?;
            let filter = ducha_storage::registry::HouseholdFilter {
                region: region
                    .as_deref()
                    .map(ducha_domain::RegionCode::parse)
                    .transpose()
                    .map_err(|e| anyhow::anyhow!("{e}"))?,
                status: status
                    .as_deref()
                    .map(HouseholdStatus::parse)
                    .transpose()
                    .map_err(|e| anyhow::anyhow!("{e}"))?,
                ..Default::default()
            };
            let bar = ProgressBar::new_spinner();
            let started = std::time::Instant::now();
            let (bytes, n) = ducha_reports::exchange::export(&db.scoped(&actor), &filter, |n| {
                bar.set_message(format!("已导出 {n} 户"))
            })
            .await?;
            bar.finish_and_clear();
            crate::files::write_private(&out, &bytes)?;
            let masked = if n.masked {
                "（个人信息已遮盖）"
            } else {
                "（含完整个人信息，已记入审计日志；文件仅本用户可读）"
            };
            println!(
                "已导出 {} 户、{} 人到 {}{masked}，用时 {:.1} 秒",
                n.households,
                n.persons,
                out.display(),
                started.elapsed().as_secs_f64()
            );
        }
    }
    Ok(())
}

async fn user_command(db: &Db, cmd: UserCommand) -> Result<()> {
    let actor = cli_actor();
    match cmd {
        UserCommand::Add { username, role, name, region, password } => {
            let role = Role::parse(&role).map_err(|e| anyhow::anyhow!("{e}"))?;
            let generated = password.is_none();
            let password = match password {
                Some(p) => p,
                None => accounts::generate_password()?,
            };
            let new = accounts::NewUser {
                username,
                display_name: name,
                role,
                region_code: region,
                password: password.clone(),
            };
            let u = db.scoped(&actor).accounts().add_user(&new).await?;
            println!("已新增用户 {}（{}，{}）", u.username, u.display_name, u.role.label());
            if generated {
                println!("初始密码：{password}（请转交本人并提醒修改）");
            }
        }
        UserCommand::List => {
            let tree = db.system().regions().tree().await?;
            println!("{:<16} {:<14} {:<16} {:<24} 状态", "用户名", "角色", "姓名/单位", "辖区");
            for u in db.scoped(&actor).accounts().list_users().await? {
                let scope = u.region_code.as_deref().and_then(|c| tree.path(c)).unwrap_or_else(|| "全部".into());
                let state = if u.active { "正常" } else { "已停用" };
                println!("{:<16} {:<14} {:<16} {:<24} {state}", u.username, u.role.label(), u.display_name, scope);
            }
        }
        UserCommand::Disable { username } => {
            db.scoped(&actor).accounts().disable_user(&username).await?;
            println!("已停用用户 {username}：已登录的会话已结束，令牌已全部撤销");
        }
        UserCommand::ResetPassword { username, password } => {
            let generated = password.is_none();
            let p = db.scoped(&actor).accounts().reset_password(&username, password).await?;
            println!("已重置 {username} 的密码：已登录的会话已结束，令牌已全部撤销");
            if generated {
                println!("新密码：{p}");
            }
        }
        UserCommand::Token { username, name, revoke: true, .. } => {
            let revoked = db.scoped(&actor).accounts().revoke_tokens(&username, name.as_deref()).await?;
            for t in &revoked {
                println!(
                    "已撤销 {username} 的令牌“{}”（{} 生成）",
                    t.name,
                    t.created_at.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M")
                );
            }
        }
        UserCommand::Token { username, name, days, revoke: false } => {
            let name = name.unwrap_or_else(|| "脚本".to_string());
            let token = db.scoped(&actor).accounts().issue_token_for(&username, &name, days).await?;
            println!("{token}");
            let until = (chrono::Local::now() + chrono::Duration::days(days)).format("%Y-%m-%d %H:%M");
            eprintln!("（令牌只显示这一次，{until} 到期；请求时放在 Authorization: Bearer 头中）");
        }
        UserCommand::Tokens { username } => {
            let now = chrono::Utc::now();
            let tokens = db.scoped(&actor).accounts().list_tokens(&username).await?;
            if tokens.is_empty() {
                println!("用户 {username} 没有令牌");
            }
            for t in tokens {
                let local = |d: chrono::DateTime<chrono::Utc>| {
                    d.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M").to_string()
                };
                println!(
                    "{:<20} 生成 {}  到期 {}  {}",
                    t.name,
                    local(t.created_at),
                    t.expires_at.map_or_else(|| "—".to_string(), local),
                    t.state(now)
                );
            }
        }
    }
    Ok(())
}

/// Print how to sign in with the demo accounts.
fn print_demo_logins(addr: &str) {
    println!("演示账号（密码均为 {}，仅供试用）：", demo::DEMO_PASSWORD);
    for (username, name, role, _) in demo::DEMO_ACCOUNTS {
        let role = Role::parse(role).map(|r| r.label()).unwrap_or(role);
        println!("  {username:<10} {name}（{role}）");
    }
    println!("登录：{addr}login");
}

async fn load_demo(db: &Db, args: &DemoArgs) -> Result<()> {
    let config =
        DemoConfig { seed: args.seed, households: args.households, year: args.year, defects: !args.no_defects };
    let bar = ProgressBar::new(config.households);
    bar.set_style(
        ProgressStyle::with_template("生成演示数据 [{bar:40}] {pos}/{len} 户 {per_sec} 预计剩余 {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let started = std::time::Instant::now();
    // Without a terminal (a log file, CI) the bar is hidden: say how far it got every tenth.
    let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let tenth = (config.households / 10).max(1);
    let summary = db
        .scoped(&cli_actor())
        .demo()
        .load(config, |done, total| {
            bar.set_position(done);
            if !tty && (done % tenth < 500 || done == total) && config.households >= 50_000 {
                eprintln!("已生成 {done}/{total} 户");
            }
        })
        .await?;
    bar.finish_and_clear();
    let users = db.scoped(&cli_actor()).demo().create_demo_users().await?;
    // The first data-quality run, so that the pages open on findings.
    let checked = std::time::Instant::now();
    let (run, _) = db.scoped(&cli_actor()).checks().run(&Scope::All, |_| {}).await?;
    let campaigns = db.scoped(&cli_actor()).campaigns().load_demo(config.year).await;
    println!(
        "演示城市已生成（种子 {}，{} 年）：贫困户 {} 户，成员 {} 人，帮扶责任人 {} 人，派驻干部 {} 人，扶贫项目 {} 个，故意设置的数据问题 {} 处，用时 {:.1} 秒",
        config.seed,
        config.year,
        summary.households,
        summary.members,
        summary.cadres,
        summary.postings,
        summary.projects,
        summary.defects,
        started.elapsed().as_secs_f64()
    );
    println!(
        "数据质量核查：{} 户，发现问题 {} 条，用时 {:.1} 秒（ducha audit --against-demo 可对照设置的问题）",
        run.households,
        run.open,
        checked.elapsed().as_secs_f64()
    );
    match campaigns {
        Ok(c) => println!(
            "演示督查：{} 年 6 月督查（编号 {}）、11 月专项督查（编号 {}）已完成走访 {} 户、发现问题 {} 个；本周暗访（编号 {}）已抽样，供督查组账号 inspector 试用",
            config.year,
            c.june,
            c.november,
            c.visits,
            c.problems,
            c.current.unwrap_or_default()
        ),
        // A small or unusual demo city may lack the towns the seed names: the registry is still usable.
        Err(e) => println!("演示督查未生成：{e}"),
    }
    if !users.is_empty() {
        println!("已建立演示账号 {} 个（密码 {}）", users.len(), demo::DEMO_PASSWORD);
    }
    Ok(())
}

async fn serve(db: Db, url: &str, args: ServeArgs) -> Result<()> {
    db.system().regions().ensure_default().await?;
    if args.demo {
        if db.system().registry().is_empty().await? {
            load_demo(&db, &DemoArgs { seed: 20_171_106, households: 12_000, year: 2017, no_defects: false }).await?;
        } else {
            println!("数据库中已有贫困户，不再生成演示数据");
            db.scoped(&cli_actor()).demo().create_demo_users().await?;
        }
    }
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("无法监听 {}（端口是否已被占用？可用 --addr 换一个）", args.addr))?;
    let addr = listener.local_addr()?;
    let (households, members) = db.system().registry().totals().await?;
    let base = format!("http://{addr}/");
    println!("ducha 已启动：{base}");
    // The journal keeps what is printed: the password is masked.
    println!("数据库：{}（贫困户 {households} 户，{members} 人）", ducha_storage::db_redact(url));
    if let Some(a) = db.anchor() {
        println!(
            "审计密钥：{}；审计见证：{}（每 {} 分钟及停止时写入）",
            a.key_path.display(),
            a.witness_path.display(),
            ducha_web::WITNESS_EVERY.as_secs() / 60
        );
    }
    if db.system().accounts().find_user("admin").await?.is_some() && args.demo {
        print_demo_logins(&base);
    } else if db.system().accounts().list_users().await?.is_empty() {
        println!("还没有用户：先用 ducha user add 新增，例如 ducha user add admin --role admin --name 管理员");
    } else {
        println!("登录：{base}login");
    }
    println!("按 Ctrl+C 停止（或发送 SIGTERM）");
    let config = ducha_web::WebConfig {
        secure_cookies: args.secure_cookies,
        idle_minutes: args.idle_minutes.max(1),
        stop_grace: std::time::Duration::from_secs(args.stop_seconds),
        metrics_from: if args.metrics_from.is_empty() { ducha_web::observe::local_only() } else { args.metrics_from },
        trusted_proxies: args.trusted_proxies,
        backup_dir: args.backup_dir.clone(),
        ..Default::default()
    };
    let signal = stop_signal(args.stop_seconds)?;
    if let Some(dir) = &args.backup_dir {
        std::fs::create_dir_all(dir).with_context(|| format!("无法建立备份目录 {}", dir.display()))?;
    }
    // The scheduled backups hear of the stop when the signal comes, as the requests do.
    let (stopped, stop_backups) = tokio::sync::watch::channel(None::<std::time::Instant>);
    let stop = async move {
        signal.await;
        let _ = stopped.send(Some(std::time::Instant::now()));
    };
    let nightly = args.backup_dir.clone().map(|dir| {
        let schedule = match args.backup_every_seconds {
            Some(s) => crate::backup::Schedule::Every(std::time::Duration::from_secs(s)),
            None => crate::backup::Schedule::Daily { hour: args.backup_hour },
        };
        println!("定时备份：{}，写入 {}，保留最近 {} 份", schedule.describe(), dir.display(), args.backup_keep);
        crate::backup::nightly(db.clone(), url.to_string(), dir, schedule, args.backup_keep, stop_backups.clone())
    });
    ducha_web::serve(listener, ducha_web::AppState::with_config(db.clone(), config), stop).await?;
    if let Some(mut task) = nightly {
        // A backup under way is let finish within the stop's bound (counted from the signal, as
        // for the requests); cut after it, it leaves only a hidden partial file, which the next
        // scheduled backup removes.
        let since = stop_backups.borrow().map_or(std::time::Duration::ZERO, |at| at.elapsed());
        let bound = std::time::Duration::from_secs(args.stop_seconds).saturating_sub(since);
        if tokio::time::timeout(bound, &mut task).await.is_err() {
            task.abort();
            let _ = task.await;
            println!(
                "定时备份在 {} 秒内没有完成，已中止：没有留下不完整的备份（只有隐藏的 .partial 文件，下次备份时删除）",
                args.stop_seconds
            );
        }
    }
    db.close().await?;
    println!("已停止");
    Ok(())
}

/// SIGTERM (systemd, docker, Kubernetes) and SIGINT (Ctrl+C) alike ask for a clean stop. The
/// handlers are installed at once, so that a signal from now on is never the default kill.
fn stop_signal(seconds: u64) -> Result<impl std::future::Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("无法接收 SIGTERM 信号")?;
    let mut int = signal(SignalKind::interrupt()).context("无法接收 SIGINT 信号")?;
    Ok(async move {
        let name = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        println!("收到 {name}，正在停止：不再接受新的连接，等待正在处理的请求和导入（最多 {seconds} 秒）……");
    })
}

fn label<T: Labelled>(code: &str) -> String {
    T::parse(code).map(|v| v.label().to_string()).unwrap_or_else(|_| code.to_string())
}

async fn show_household(db: &Db, number: &str, full: bool) -> Result<()> {
    let Some(rec) = db.scoped(&cli_actor()).registry().household_by_number(number).await? else {
        bail!("没有户编号为“{number}”的贫困户");
    };
    let tree = db.system().regions().tree().await?;
    let h = &rec.household;
    if full {
        // A full view of a whole household is recorded before it is printed.
        let access = registry::PersonalAccess {
            kind: "view",
            scope: "全部".into(),
            filter: format!("户编号 {}", h.number),
            households: 1,
            persons: rec.members.len() as u64,
        };
        db.scoped(&cli_actor()).registry().record_personal_access(&access, Some(h.id)).await?;
    }
    let show = |raw: Option<&str>, mask: fn(&str) -> String| {
        raw.map(|v| if full { v.to_string() } else { mask(v) }).unwrap_or_else(|| "—".into())
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
        show(h.phone.as_deref(), privacy::mask_phone),
        show(h.bank_account.as_deref(), privacy::mask_account)
    );
    println!("\n家庭成员（{} 人）：", rec.members.len());
    for m in &rec.members {
        let (id, born) = if full {
            (m.id_number.to_string(), m.birth_date.to_string())
        } else {
            // Beside the masked number, the full birth date would give it back.
            (privacy::mask_id(&m.id_number), privacy::mask_birth_date(m.birth_date))
        };
        println!(
            "  {}. {}　{}　{}　{}　出生 {}　{}　{}　{}　{}　医保 {}",
            m.seq,
            m.name,
            label::<Relation>(&m.relation),
            label::<Sex>(&m.sex),
            id,
            born,
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

/// `ducha keys status`.
async fn keys_status(db: &Db) -> Result<()> {
    use ducha_storage::datakeys;
    let st = datakeys::status(db).await.context("数据库还没有数据密钥（第一次写入时建立）")?;
    let suite = match st.suite.as_str() {
        "sm" => "国密（SM4-GCM 加密，HMAC-SM3 查询索引，SM3 审计链）",
        _ => "国际（AES-256-GCM 加密，HMAC-SHA-256 查询索引，SHA-256 审计链）",
    };
    println!("现用算法：{suite}");
    println!("数据密钥：");
    for k in &st.keys {
        let purpose = if k.purpose == "lookup" { "查询索引" } else { "字段加密" };
        let state = match k.retired_at {
            None => "现行".to_string(),
            Some(at) => format!("{} 停用", at.with_timezone(&crate::backup::beijing()).format("%Y-%m-%d %H:%M")),
        };
        println!(
            "  {:>10}  {purpose}  {:<4}  {} 建立  {state}",
            k.id,
            k.suite,
            k.created_at.with_timezone(&crate::backup::beijing()).format("%Y-%m-%d %H:%M")
        );
    }
    println!("加密字段（现行密钥 / 旧密钥 / 明文）：");
    for c in &st.columns {
        println!("  {}.{}：{} / {} / {}", c.table, c.column, c.current, c.older, c.clear);
    }
    println!("  待审核的修改申请中旧密钥下的值：{}", st.requests_older);
    println!("  文件（上传的表格、佐证材料）：旧密钥下 {}，明文 {}", st.files_older, st.files_clear);
    if st.rotating || st.older() > 0 {
        println!("密钥轮换未完成：还有 {} 个值在旧密钥下，请再运行 ducha keys rotate", st.older());
    } else {
        println!("全部个人信息都在现行密钥下。旧的字段密钥保留（已停用），用于读出审计记录中当时加密的值");
    }
    Ok(())
}

/// `ducha keys rotate`.
async fn rotate_keys(db: &Db, suite: Option<&str>, batch: u64) -> Result<()> {
    let suite =
        suite.map(str::parse::<ducha_storage::datakeys::Suite>).transpose().map_err(|e| anyhow::anyhow!("{e}"))?;
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} 已重新加密 {pos} 个值 {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    let r = ducha_storage::datakeys::rotate(db, &cli_actor(), suite, batch, |n| bar.set_position(n)).await?;
    bar.finish_and_clear();
    if r.resumed {
        println!("接着上次中断的密钥轮换继续");
    }
    println!(
        "密钥轮换{}：算法 {}，字段密钥 {}，查询密钥 {}；本次重新加密 {} 个值",
        if r.left == 0 { "完成" } else { "未完成" },
        r.suite.name(),
        r.field_key,
        r.lookup_key,
        r.resealed
    );
    if r.left > 0 {
        bail!("还有 {} 个值在旧密钥下（轮换期间由尚未载入新密钥的进程写入）：请再运行一次 ducha keys rotate", r.left);
    }
    Ok(())
}
