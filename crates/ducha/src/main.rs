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
    let filter = tracing_subscriber::EnvFilter::try_from_env("DUCHA_LOG").unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("info,sqlx=error,sea_orm=warn,sea_orm_migration=warn,tower_sessions=warn")
    });
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
            eprintln!("错误：{}", error_text(&e));
            ExitCode::FAILURE
        }
    };
    // Work left on blocking threads (a file still being read when a stop's bound passed) is
    // not waited for: its result would be dropped anyway.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    code
}

/// An error and its causes, each once: a cause whose words the message above it already holds
/// (a library error that shows its source's text as its own) is not repeated.
fn error_text(e: &anyhow::Error) -> String {
    let mut out = String::new();
    let mut above = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if text.is_empty() || above.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push('：');
        }
        out.push_str(&text);
        above = text;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::error_text;

    /// As `thiserror` writes `#[error("数据库操作失败：{0}")] Db(#[from] DbErr)`.
    #[derive(Debug)]
    struct Wrapping(std::io::Error);

    impl std::fmt::Display for Wrapping {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "数据库操作失败：{}", self.0)
        }
    }

    impl std::error::Error for Wrapping {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn each_cause_is_said_once() {
        // A library error that prints its source as part of its own message.
        let e = anyhow::Error::new(Wrapping(std::io::Error::other("连接已断开")));
        assert_eq!(error_text(&e), "数据库操作失败：连接已断开");
        // Context above it adds its own words; a cause with other words is kept.
        let e = e.context("无法导入文件 a.xlsx");
        assert_eq!(error_text(&e), "无法导入文件 a.xlsx：数据库操作失败：连接已断开");
        let io = anyhow::Error::new(std::io::Error::other("没有那个文件")).context("无法读取文件 b.xlsx");
        assert_eq!(error_text(&io), "无法读取文件 b.xlsx：没有那个文件");
    }
}
