//! `ducha`: the one binary. Subcommands serve the web application, migrate the database, load
//! the demo city and regions, and show records from the command line.
#![forbid(unsafe_code)]

mod audit;
mod backup;
mod campaign;
mod cli;
mod commands;
mod files;
mod platform;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_env("DUCHA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=error,sea_orm=warn,sea_orm_migration=warn"));
    // DUCHA_LOG_FORMAT=json: one JSON object a line, with the request's span (its id) in each,
    // for a log collector; otherwise lines for people.
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if std::env::var("DUCHA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
        builder.json().with_current_span(true).with_span_list(false).init();
    } else {
        builder.init();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("错误：无法启动运行时：{e}");
            return ExitCode::FAILURE;
        }
    };
    let code = match runtime.block_on(commands::run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("错误：{e:#}");
            ExitCode::FAILURE
        }
    };
    // Work left on blocking threads (a file still being read when a stop's bound passed) is
    // not waited for: its result would be dropped anyway.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    code
}
