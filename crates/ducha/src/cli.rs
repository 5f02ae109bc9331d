//! The command line, with its help in Chinese.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Arg, ArgAction, Args, CommandFactory, FromArgMatches, Parser, Subcommand};

/// The embedded default: a SQLite file in the working directory.
pub const DEFAULT_DB: &str = "sqlite://ducha.db";

#[derive(Debug, Parser)]
#[command(name = "ducha", version, about = "ducha（督查）：精准扶贫建档立卡与督查平台")]
pub struct Cli {
    /// 数据库地址：sqlite://文件 或 postgres://用户@主机/库
    #[arg(long, global = true, env = "DUCHA_DATABASE_URL", default_value = DEFAULT_DB)]
    pub db: String,
    /// 审计密钥文件（不进数据库；默认：SQLite 数据库文件旁的 .audit-key，PostgreSQL 为当前目录下以库名命名的 .audit-key）
    #[arg(long, global = true, env = "DUCHA_AUDIT_KEY_FILE")]
    pub audit_key: Option<PathBuf>,
    /// 审计见证文件（默认：SQLite 数据库文件旁的 .audit-witness，PostgreSQL 为当前目录下以库名命名的 .audit-witness）
    #[arg(long, global = true, env = "DUCHA_AUDIT_WITNESS_FILE")]
    pub audit_witness: Option<PathBuf>,
    /// 主密钥文件：加密身份证号、电话、银行账号、健康状况和上传文件的数据密钥由它包裹，不进数据库，须与数据分开备份（默认：SQLite 数据库文件旁的 .master-key，PostgreSQL 为当前目录下以库名命名的 .master-key；也可用 DUCHA_MASTER_KEY 直接给出 64 位十六进制密钥）
    #[arg(long, global = true, env = "DUCHA_MASTER_KEY_FILE")]
    pub master_key: Option<PathBuf>,
    /// 数据库连接池的连接数（默认：PostgreSQL 16，SQLite 8）
    #[arg(long, global = true, env = "DUCHA_DB_POOL")]
    pub db_pool: Option<u32>,
    /// 等待数据库连接的秒数（连接数据库，或等连接池空出一个连接）
    #[arg(long, global = true, env = "DUCHA_DB_CONNECT_TIMEOUT", default_value_t = 10)]
    pub db_connect_timeout: u64,
    /// PostgreSQL：一条语句最多执行多少秒，超时即取消（默认不限）
    #[arg(long, global = true, env = "DUCHA_DB_STATEMENT_TIMEOUT")]
    pub db_statement_timeout: Option<u64>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// 启动网页服务
    Serve(ServeArgs),
    /// 更新数据库结构（启动时也会自动执行）；加 --dry-run 只列出将执行的迁移
    Migrate {
        /// 只列出将执行哪些迁移，不改动数据库
        #[arg(long)]
        dry_run: bool,
    },
    /// 备份：在服务运行、写入时也能取得一致的副本（SQLite 用 VACUUM INTO，PostgreSQL 用 pg_dump），
    /// 文件只有本人可读，旁边写 .audit-head（副本中审计链的最后一条）；审计密钥不在备份中，请另外保管
    Backup {
        /// 备份文件（不能已经存在）
        #[arg(long)]
        out: PathBuf,
    },
    /// 从备份恢复到一个空的数据库（--db 指定；恢复后 ducha audit-log verify 应通过）
    Restore {
        /// ducha backup 写出的备份文件
        file: PathBuf,
    },
    /// 生成演示城市（江门市）的建档立卡数据
    Demo(DemoArgs),
    /// 行政区划
    #[command(subcommand)]
    Regions(RegionsCommand),
    /// 贫困户
    #[command(subcommand)]
    Household(HouseholdCommand),
    /// 用户账号
    #[command(subcommand)]
    User(UserCommand),
    /// 数据质量核查：按规则目录核查全部或某一区划的贫困户，保存结果（新发现、仍未整改、已整改）
    Audit(AuditArgs),
    /// 审计记录
    #[command(subcommand, name = "audit-log")]
    AuditLog(AuditLogCommand),
    /// 数据密钥：查看状态；轮换密钥或改用国密算法（服务运行时也可执行，中断后再运行即接着做）
    #[command(subcommand)]
    Keys(KeysCommand),
    /// 从 Excel/CSV 导入
    #[command(subcommand)]
    Import(ImportCommand),
    /// 导出为 Excel
    #[command(subcommand)]
    Export(ExportCommand),
    /// 镇(街)扶贫工作平台：派驻干部驻点考勤、定点医疗机构一站式结算
    #[command(subcommand)]
    Platform(PlatformCommand),
    /// 扶贫资金与项目
    #[command(subcommand)]
    Funds(FundsCommand),
    /// 督查：列出、查看、抽样
    #[command(subcommand)]
    Campaign(CampaignCommand),
    /// 督查通报与问题清单
    #[command(subcommand)]
    Report(ReportCommand),
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// 督查通报：按 --out 的扩展名写出 .docx（党政机关公文格式）、.pdf 或 .html
    Circular {
        /// 督查编号
        #[arg(long)]
        campaign: i64,
        /// 输出文件（.docx、.pdf 或 .html）
        #[arg(long)]
        out: PathBuf,
    },
    /// 问题清单（通报附件）：写出 .xlsx
    Problems {
        /// 督查编号
        #[arg(long)]
        campaign: i64,
        /// 输出文件（.xlsx）
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum CampaignCommand {
    /// 列出督查：编号、名称、日期、抽查镇(街)与户数、问题数
    List,
    /// 查看一次督查：督查组、抽样、走访、问题分类、回头看结论、各市(区)评定
    Show {
        /// 督查编号
        id: i64,
    },
    /// 抽样：不带 --seed 时列出已保存的抽样（含种子）；带 --seed 时按保存的方案和该种子重新抽取并列出，
    /// 加 --save 才保存（已有走访的督查不能重新抽样）
    Sample {
        /// 督查编号
        id: i64,
        /// 随机种子
        #[arg(long)]
        seed: Option<u64>,
        /// 保存这次抽样
        #[arg(long)]
        save: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum FundsCommand {
    /// 资金使用进度：按市(区)（或镇(街)）列出已下达、已到位、已安排、已拨付、进度与目标；--out 写出 Excel
    Progress {
        /// 输出文件（.xlsx）
        #[arg(long)]
        out: Option<PathBuf>,
        /// 以该用户的身份和辖区
        #[arg(long = "as")]
        as_user: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum PlatformCommand {
    /// 派驻镇(街)扶贫干部的驻点考勤：按市(区)（或镇(街)）汇总；--out 写出 Excel（汇总、名单、一站式结算）
    Attendance {
        /// 输出文件（.xlsx）
        #[arg(long)]
        out: Option<PathBuf>,
        /// 以该用户的身份和辖区
        #[arg(long = "as")]
        as_user: Option<String>,
    },
    /// 定点医疗机构一站式结算上线情况，按市(区)
    Institutions {
        #[arg(long = "as")]
        as_user: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// 导入贫困户及成员（.xlsx、.xls 或 .csv，按导入模板）；全部无误才写入，重复导入不会重复登记
    Households {
        /// 要导入的文件
        file: PathBuf,
        /// 只检查并报告将新增、修改多少，不写入
        #[arg(long)]
        dry_run: bool,
        /// 以该用户的身份和辖区导入（默认：命令行，全市）
        #[arg(long = "as")]
        as_user: Option<String>,
    },
    /// 导入帮扶计划（工作表“帮扶计划”：户编号、年度、目标人均纯收入、帮扶责任人、计划措施）
    Plans {
        file: PathBuf,
        #[arg(long)]
        dry_run: bool,
        #[arg(long = "as")]
        as_user: Option<String>,
    },
    /// 导入帮扶日志（工作表“帮扶日志”：户编号、日期、帮扶责任人、地点、内容）
    Logs {
        file: PathBuf,
        #[arg(long)]
        dry_run: bool,
        #[arg(long = "as")]
        as_user: Option<String>,
    },
    /// 导入扶贫项目（表头：项目名称、项目类型、造血型、所在镇（街）、责任单位、绩效目标、各级资金、受益户、公共受益）
    Projects {
        file: PathBuf,
        #[arg(long)]
        dry_run: bool,
        #[arg(long = "as")]
        as_user: Option<String>,
    },
    /// 导入资金拨付台账（表头：项目名称、所在镇（街）、拨付日期、金额（元）、收款单位、凭证文件）及其凭证；
    /// FILE 可以是台账，后跟凭证文件，也可以是台账和凭证打成的 zip
    Payments {
        file: PathBuf,
        /// 台账“凭证文件”列所列的文件
        vouchers: Vec<PathBuf>,
        #[arg(long)]
        dry_run: bool,
        #[arg(long = "as")]
        as_user: Option<String>,
    },
    /// 导入派驻干部名单（表头：姓名、派出单位、镇（街）、是否全职、开始日期、结束日期）；同一次派驻按是否全职、结束日期更新
    Postings {
        file: PathBuf,
        #[arg(long)]
        dry_run: bool,
        #[arg(long = "as")]
        as_user: Option<String>,
    },
    /// 导入定点医疗机构（表头：机构名称、市（区）、级别、一站式结算、上线日期）；已登记的按名称更新
    Institutions {
        file: PathBuf,
        #[arg(long)]
        dry_run: bool,
        #[arg(long = "as")]
        as_user: Option<String>,
    },
    /// 导入资金下达（表头：资金来源、下达到、金额（元）、下达日期、到位日期），计入检查年度；已登记的补填到位日期
    Allocations {
        file: PathBuf,
        #[arg(long)]
        dry_run: bool,
        #[arg(long = "as")]
        as_user: Option<String>,
    },
    /// 导入驻点考勤（表头：派驻干部、镇（街）、日期、地点，可加 派出单位）；全部无误才写入，已登记的日期不重复
    Attendance {
        file: PathBuf,
        #[arg(long)]
        dry_run: bool,
        #[arg(long = "as")]
        as_user: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// 导出贫困户及成员（与导入模板相同的格式）
    Households {
        /// 输出文件（.xlsx）
        #[arg(long)]
        out: PathBuf,
        /// 只导出该区划（市、市(区)、镇(街)或村(居)代码）内的贫困户
        #[arg(long)]
        region: Option<String>,
        /// 只导出该状态的贫困户（如 帮扶中）
        #[arg(long)]
        status: Option<String>,
        /// 以该用户的身份和辖区导出（无个人信息权限时身份证号等会遮盖）
        #[arg(long = "as")]
        as_user: Option<String>,
    },
    /// 输出空白的导入模板（贫困户及成员）
    Template {
        /// 输出文件（.xlsx）
        #[arg(long)]
        out: PathBuf,
    },
    /// 输出空白的帮扶计划和帮扶日志导入模板
    HelpTemplate {
        /// 输出文件（.xlsx）
        #[arg(long)]
        out: PathBuf,
    },
    /// 输出空白的导入模板：projects 项目库、payments 拨付台账、allocations 资金下达、postings 派驻干部名单、attendance 驻点考勤、institutions 定点医疗机构
    PlatformTemplate {
        kind: String,
        /// 输出文件（.xlsx）
        #[arg(long)]
        out: PathBuf,
    },
    /// 导出检查年度的资金拨付台账（与导入相同的格式，附凭证文件名）
    Payments {
        /// 输出文件（.xlsx）
        #[arg(long)]
        out: PathBuf,
        #[arg(long = "as")]
        as_user: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// 新增用户（不给密码则生成一个并显示）
    Add {
        /// 用户名（字母、数字、_ - .）
        username: String,
        /// 角色：city 市扶贫办、district 市(区)扶贫办、town 镇(街)扶贫办、cadre 帮扶责任人、inspector 督查组成员、leader 领导(只读)、admin 系统管理员
        #[arg(long)]
        role: String,
        /// 显示的姓名或单位
        #[arg(long)]
        name: String,
        /// 辖区的区划代码（市(区)扶贫办填市(区)代码，镇(街)扶贫办和帮扶责任人填镇(街)代码）
        #[arg(long)]
        region: Option<String>,
        /// 密码（至少 8 位）
        #[arg(long)]
        password: Option<String>,
    },
    /// 列出用户
    List,
    /// 停用用户（立即不能登录，已登录的会话结束，令牌全部撤销）
    Disable { username: String },
    /// 重置密码（不给密码则生成一个并显示；已登录的会话结束，令牌全部撤销）
    ResetPassword {
        username: String,
        #[arg(long)]
        password: Option<String>,
    },
    /// 为脚本生成接口令牌（只显示一次，默认 90 天后过期）；加 --revoke 则撤销该用户名为 --name 的令牌，不给 --name 则撤销其全部令牌
    Token {
        username: String,
        /// 用途说明（撤销时：要撤销的令牌的用途说明）
        #[arg(long)]
        name: Option<String>,
        /// 有效天数（1 至 3650）
        #[arg(long, default_value_t = ducha_storage::accounts::TOKEN_DAYS, conflicts_with = "revoke")]
        days: i64,
        /// 撤销令牌而不是生成
        #[arg(long)]
        revoke: bool,
    },
    /// 列出用户的接口令牌：用途、生成时间、到期时间、状态
    Tokens { username: String },
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub command: Option<AuditCommand>,
    /// 只核查该区划（市(区)、镇(街)或村(居)代码）内的贫困户
    #[arg(long)]
    pub region: Option<String>,
    /// 输出格式：table 表格、json、xlsx（按镇（街）分表的问题清单，需 --out）
    #[arg(long, default_value = "table")]
    pub format: String,
    /// 输出文件（xlsx 必填；json 和 table 不填则输出到屏幕）
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// 以该用户的身份和辖区核查
    #[arg(long = "as")]
    pub as_user: Option<String>,
    /// 演示数据：对照生成时故意设置的问题，报告每类设置了多少、查出了多少
    #[arg(long)]
    pub against_demo: bool,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// 列出核查规则目录
    Rules {
        /// 输出格式：table 或 json
        #[arg(long, default_value = "table")]
        format: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditLogCommand {
    /// 校验审计链：逐条核对哈希和审计密钥的签名，并与见证文件比对；报告第一条被改动或删除的记录
    Verify,
    /// 把审计链当前的链头（签名后）追加到见证文件（可由 cron 定时运行；服务运行时每 5 分钟和停止时也会写）
    Witness,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// 显示现用算法、各数据密钥，以及各加密字段有多少值在现行密钥、旧密钥下或仍为明文
    Status,
    /// 轮换数据密钥：新建字段密钥和查询密钥，把所有加密的值逐批用新密钥重新加密（每批一个事务并记审计）；
    /// 服务不必停止；中断后再次运行即从中断处继续
    Rotate {
        /// 改用的算法：intl（AES-256-GCM、HMAC-SHA-256、SHA-256）或 sm（SM4-GCM、HMAC-SM3、SM3）；不填则沿用现用算法
        #[arg(long)]
        suite: Option<String>,
        /// 每批重新加密的行数（1–10000）
        #[arg(long, default_value_t = 1000)]
        batch: u64,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// 监听地址
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// 数据库中没有贫困户时，先装入演示城市和演示账号
    #[arg(long)]
    pub demo: bool,
    /// 会话 Cookie 只经 HTTPS 发送（在 HTTPS 反向代理之后运行时打开）
    #[arg(long)]
    pub secure_cookies: bool,
    /// 无操作多少分钟后会话失效
    #[arg(long, default_value_t = 30)]
    pub idle_minutes: i64,
    /// 收到停止信号（SIGTERM、Ctrl+C）后，最多等待正在处理的请求和导入多少秒；到时仍未完成的导入回滚，标为已中断
    #[arg(long, env = "DUCHA_STOP_SECONDS", default_value_t = 25)]
    pub stop_seconds: u64,
    /// 可以读取 /metrics 的地址或网段（逗号分隔，如 127.0.0.1,10.0.5.0/24）；默认只有本机
    #[arg(long, env = "DUCHA_METRICS_FROM", value_delimiter = ',', value_parser = parse_net)]
    pub metrics_from: Vec<ipnet::IpNet>,
    /// 可信的反向代理的地址或网段（逗号分隔）：只有来自它们的请求，才按 X-Forwarded-For / Forwarded 记录客户端地址；
    /// 它们说浏览器经 https 访问（X-Forwarded-Proto: https）时，Cookie 只经 HTTPS 发送
    #[arg(long, env = "DUCHA_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_net)]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// 每晚备份到这个目录（不给则不做每晚备份）
    #[arg(long, env = "DUCHA_BACKUP_DIR")]
    pub backup_dir: Option<PathBuf>,
    /// 每晚备份在北京时间几点（0–23）
    #[arg(long, env = "DUCHA_BACKUP_HOUR", default_value_t = 2, value_parser = clap::value_parser!(u32).range(0..24))]
    pub backup_hour: u32,
    /// 保留最近几份每晚备份
    #[arg(long, env = "DUCHA_BACKUP_KEEP", default_value_t = 14)]
    pub backup_keep: usize,
    /// 不按每天定点，而是每隔多少秒备份一次（从启动时算起；例如 21600 为每 6 小时）：一天要多份备份的单位，或试一试备份计划是否生效
    #[arg(long, env = "DUCHA_BACKUP_EVERY_SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub backup_every_seconds: Option<u64>,
}

/// An address (one host) or a network in CIDR notation.
pub fn parse_net(s: &str) -> Result<ipnet::IpNet, String> {
    let s = s.trim();
    s.parse::<ipnet::IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("“{s}”不是 IP 地址或网段（例如 10.0.5.7 或 10.0.5.0/24）"))
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// 随机种子：同一种子生成同样的数据
    #[arg(long, default_value_t = 20_171_106)]
    pub seed: u64,
    /// 贫困户数量
    #[arg(long, default_value_t = 12_000)]
    pub households: u64,
    /// 登记年度
    #[arg(long, default_value_t = 2017)]
    pub year: i32,
    /// 不设置演示用的数据问题（用于性能测试等需要干净数据的场合）
    #[arg(long)]
    pub no_defects: bool,
}

#[derive(Debug, Subcommand)]
pub enum RegionsCommand {
    /// 导入区划文件（格式：code,name,level,parent_code），整份文件无误才写入
    Import {
        /// 区划 CSV 文件
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum HouseholdCommand {
    /// 显示一户的登记信息
    Show {
        /// 户编号
        number: String,
        /// 显示完整的身份证号、电话和银行账号（默认遮盖）
        #[arg(long)]
        full: bool,
    },
}

/// Put Chinese headings and help texts on a command and all its subcommands.
fn localise(cmd: clap::Command) -> clap::Command {
    let mut template = String::from("{about}\n\n用法：{usage}\n");
    if cmd.has_subcommands() {
        template.push_str("\n命令：\n{subcommands}\n");
    }
    if cmd.get_positionals().next().is_some() {
        template.push_str("\n参数：\n{positionals}\n");
    }
    template.push_str("\n选项：\n{options}");
    cmd.help_template(template)
        .subcommand_value_name("命令")
        .disable_help_subcommand(true)
        .disable_help_flag(true)
        .arg(Arg::new("help").short('h').long("help").action(ArgAction::Help).help("显示帮助"))
        .mut_subcommands(localise)
}

pub fn parse() -> Cli {
    // The version and the schema it brings a database to, so that an operator can tell before
    // an upgrade what the new binary will do.
    let version: &'static str = Box::leak(
        format!("{}（数据库结构 {}）", env!("CARGO_PKG_VERSION"), ducha_storage::schema_version()).into_boxed_str(),
    );
    let cmd = localise(
        Cli::command()
            .version(version)
            .disable_version_flag(true)
            .arg(Arg::new("version").short('V').long("version").action(ArgAction::Version).help("显示版本")),
    );
    let matches = cmd.get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_well_formed_and_helps_in_chinese() {
        let cmd = localise(Cli::command());
        cmd.clone().debug_assert();
        let help = cmd.clone().render_help().to_string();
        assert!(help.contains("命令"), "{help}");
        assert!(help.contains("启动网页服务"), "{help}");
    }
}
