//! Test fixtures: databases on both backends and the server on a free port.

use std::sync::atomic::{AtomicU32, Ordering};

use ducha_storage::accounts::PasswordPool;
use ducha_storage::audit::anchor::{self, AnchorPaths};
use ducha_storage::{Backend, Db};
use sea_orm::ConnectionTrait;

/// Where the PostgreSQL tests connect to create their databases: over the Unix socket when the
/// machine has one (the tests in ops.rs reach the same server over TCP, with and without TLS).
pub fn pg_admin_url() -> String {
    if let Ok(url) = std::env::var("DUCHA_TEST_PG_URL") {
        return url;
    }
    if std::path::Path::new("/var/run/postgresql/.s.PGSQL.5432").exists() {
        "postgres://postgres@localhost/postgres?host=/var/run/postgresql".into()
    } else {
        "postgres://postgres@127.0.0.1:5432/postgres".into()
    }
}

fn with_database(admin: &str, name: &str) -> String {
    let (base, query) = admin.split_once('?').map_or((admin, None), |(b, q)| (b, Some(q)));
    let base = base.rsplit_once('/').map_or(base, |(b, _)| b);
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// A database that exists for one test.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_name: Option<String>,
}

/// Where the audit key and witness of a test database are: beside a SQLite file (the binary's
/// default), or for PostgreSQL in a directory of this test run, named after the database (not
/// the binary's default, the working directory, which is the source tree here).
pub fn anchor_paths(url: &str) -> AnchorPaths {
    if url.starts_with("sqlite:") {
        return AnchorPaths::default_for(url);
    }
    // One directory for all runs: the files are named after databases no other run uses, and
    // removed with them.
    let dir = std::env::temp_dir().join("ducha-it-anchors");
    let _ = std::fs::create_dir_all(&dir);
    let name = AnchorPaths::default_for(url);
    AnchorPaths { key: dir.join(name.key), witness: dir.join(name.witness), master: dir.join(name.master) }
}

/// The binary's flags for [`anchor_paths`].
pub fn anchor_args(url: &str) -> Vec<String> {
    let p = anchor_paths(url);
    vec![
        "--audit-key".into(),
        p.key.display().to_string(),
        "--audit-witness".into(),
        p.witness.display().to_string(),
        "--master-key".into(),
        p.master.display().to_string(),
    ]
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let url = format!("sqlite://{}", dir.path().join("ducha.db").display());
                TestDb { url, _dir: Some(dir), pg_name: None }
            }
            Backend::Postgres => {
                let admin_url = pg_admin_url();
                let admin = Db::connect(&admin_url).await.unwrap_or_else(|e| {
                    panic!(
                        "PostgreSQL 不可用，无法运行 PostgreSQL 测试（{admin_url}）：{e}\n\
                         请启动本机 PostgreSQL（127.0.0.1:5432），或用环境变量 DUCHA_TEST_PG_URL 指定一个可建库的账号。"
                    )
                });
                let name = format!(
                    "ducha_it_{}_{}_{}",
                    std::process::id(),
                    COUNTER.fetch_add(1, Ordering::SeqCst),
                    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_micros())
                );
                admin
                    .conn()
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create test database");
                admin.close().await.ok();
                TestDb { url: with_database(&admin_url, &name), _dir: None, pg_name: Some(name) }
            }
        }
    }

    /// The database, migrated, with its audit key when one was made (by the binary, say), and its
    /// data keys (made now if there are none: personal data is sealed in every test).
    pub async fn open(&self) -> Db {
        self.open_signing(false).await
    }

    /// [`TestDb::open`]; with `sign`, the audit key is made first if there is none (as the
    /// binary does), so that every record, the data keys' own included, is signed.
    pub async fn open_signing(&self, sign: bool) -> Db {
        self.open_as(sign, None).await
    }

    /// [`TestDb::open_signing`], with the suite its data keys are made in if it has none yet.
    pub async fn open_as(&self, sign: bool, suite: Option<ducha_storage::datakeys::Suite>) -> Db {
        let db = Db::open(&self.url).await.expect("open and migrate the test database");
        let db = anchor::open(db, &self.anchor_paths(), sign).await.expect("the audit key loads").0;
        ducha_storage::datakeys::open_with(db, &self.anchor_paths().master, true, suite)
            .await
            .expect("the data keys open")
            .0
    }

    pub fn anchor_paths(&self) -> AnchorPaths {
        anchor_paths(&self.url)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.pg_name.take() else {
            return;
        };
        let anchors = self.anchor_paths();
        let _ = std::fs::remove_file(anchors.key);
        let _ = std::fs::remove_file(anchors.witness);
        let _ = std::fs::remove_file(anchors.master);
        // Drop runs inside the test's runtime; do the async work on a thread of its own.
        let handle = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async {
                if let Ok(admin) = Db::connect(&pg_admin_url()).await {
                    let _ =
                        admin.conn().execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
                    let _ = admin.close().await;
                }
            });
        });
        let _ = handle.join();
    }
}

/// The real server on a free port, over a fresh database.
pub struct TestApp {
    pub base: String,
    pub db: Db,
    pub client: reqwest::Client,
    /// The server's password checks (how many ran, how many at once).
    pub passwords: std::sync::Arc<PasswordPool>,
    _test_db: TestDb,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    stopped: Option<tokio::sync::oneshot::Receiver<()>>,
}

/// How to set a test server up beyond the defaults.
#[derive(Default)]
pub struct Setup {
    /// Sign the audit chain with a key made now (beside the database), as `ducha serve` does.
    pub anchored: bool,
    /// The password pool's size and queue, instead of the default's.
    pub passwords: Option<PasswordPool>,
    /// The suite personal data is sealed with (else the default, "intl").
    pub suite: Option<ducha_storage::datakeys::Suite>,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        TestApp::spawn_with(backend, Setup::default()).await
    }

    pub async fn spawn_with(backend: Backend, setup: Setup) -> TestApp {
        let test_db = TestDb::new(backend).await;
        let db = test_db.open_as(setup.anchored, setup.suite).await;
        db.system().regions().ensure_default().await.expect("default regions");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
        // One heavy task at a time, as on the two cores CI has, whatever this machine has.
        let config = ducha_web::WebConfig { heavy_tasks: 1, ..Default::default() };
        let mut state = ducha_web::AppState::with_config(db.clone(), config);
        if let Some(pool) = setup.passwords {
            state.passwords = std::sync::Arc::new(pool);
        }
        let passwords = state.passwords.clone();
        tokio::spawn(async move {
            ducha_web::serve(listener, state, async {
                let _ = rx.await;
            })
            .await
            .expect("server runs");
            let _ = done_tx.send(());
        });
        TestApp {
            base: format!("http://{addr}"),
            db,
            client: reqwest::Client::new(),
            passwords,
            _test_db: test_db,
            shutdown: Some(tx),
            stopped: Some(done_rx),
        }
    }

    /// Stop the server and wait until it has finished (and written its last audit witness).
    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(rx) = self.stopped.take() {
            let _ = rx.await;
        }
    }

    pub fn test_db(&self) -> &TestDb {
        &self._test_db
    }

    /// The server over a small demo city with its accounts.
    pub async fn spawn_demo(backend: Backend, households: u64) -> TestApp {
        TestApp::spawn_demo_with(backend, households, Setup::default()).await
    }

    /// [`TestApp::spawn_demo`] set up as `setup` says.
    pub async fn spawn_demo_with(backend: Backend, households: u64, setup: Setup) -> TestApp {
        let app = TestApp::spawn_with(backend, setup).await;
        let system = ducha_domain::access::Actor::system();
        let config = ducha_domain::demo::DemoConfig { households, ..Default::default() };
        app.db.scoped(&system).demo().load(config, |_, _| {}).await.expect("demo loads");
        app.db.scoped(&system).demo().create_demo_users().await.expect("demo accounts");
        // As `ducha demo` does: a first data-quality run, so that pages open on findings.
        let scope = ducha_domain::access::Scope::All;
        app.db.scoped(&system).checks().run(&scope, |_| {}).await.expect("checks run");
        app
    }

    /// The demo city of `ducha serve --demo` (12,000 households) with its campaigns: June and
    /// November 2017, and one under way today.
    pub async fn spawn_demo_campaigns() -> TestApp {
        TestApp::spawn_demo_campaigns_on(Backend::Sqlite).await
    }

    /// The same on either database.
    pub async fn spawn_demo_campaigns_on(backend: Backend) -> TestApp {
        let app = TestApp::spawn_demo(backend, 12_000).await;
        let cli = ducha_domain::access::Actor::command_line("test");
        app.db.scoped(&cli).campaigns().load_demo(2017).await.expect("demo campaigns");
        app
    }

    /// The database's address, for running the binary against it.
    pub fn db_url(&self) -> &str {
        &self._test_db.url
    }

    /// A browser-like client signed in as `username` (demo password).
    pub async fn login(&self, username: &str) -> Browser {
        let b = Browser::new(&self.base);
        let resp = b.login(username, ducha_storage::demo::DEMO_PASSWORD).await;
        assert!(resp.url().path() != "/login", "{username} signs in");
        b
    }

    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let resp = self.client.get(format!("{}{path}", self.base)).send().await.expect("request");
        let status = resp.status().as_u16();
        (status, resp.json().await.expect("JSON body"))
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Make `sqlite` and `postgres` tests of each named `async fn(Backend)`.
macro_rules! both_backends {
    ($($f:ident),* $(,)?) => { $(
        mod $f {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$f(ducha_storage::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$f(ducha_storage::Backend::Postgres).await
            }
        }
    )* };
}

/// A cookie-keeping HTTP client that behaves like a browser: it reads the CSRF token from the
/// pages it gets and sends it back with forms.
pub struct Browser {
    pub base: String,
    pub client: reqwest::Client,
}

/// The value of the first `name="_csrf"` input on a page.
pub fn csrf_of(html: &str) -> String {
    html.split("name=\"_csrf\" value=\"").nth(1).and_then(|s| s.split('"').next()).unwrap_or_default().to_string()
}

impl Browser {
    pub fn new(base: &str) -> Browser {
        let client = reqwest::Client::builder().cookie_store(true).build().expect("client");
        Browser { base: base.to_string(), client }
    }

    /// A browser on another machine: its connections come from `ip` (any 127.x.y.z reaches the
    /// server on 127.0.0.1, and the server sees that address).
    pub fn from_address(base: &str, ip: &str) -> Browser {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .local_address(ip.parse::<std::net::IpAddr>().expect("an address"))
            .build()
            .expect("client");
        Browser { base: base.to_string(), client }
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(format!("{}{path}", self.base)).send().await.expect("request")
    }

    pub async fn get_text(&self, path: &str) -> (u16, String) {
        let r = self.get(path).await;
        (r.status().as_u16(), r.text().await.expect("body"))
    }

    /// A token from any page of the session (the login page before signing in).
    pub async fn csrf(&self) -> String {
        let (_, html) = self.get_text("/login").await;
        let t = csrf_of(&html);
        if t.is_empty() { csrf_of(&self.get_text("/").await.1) } else { t }
    }

    pub async fn login(&self, username: &str, password: &str) -> reqwest::Response {
        let csrf = self.csrf().await;
        self.post_form(
            "/login",
            &[("_csrf", csrf.as_str()), ("username", username), ("password", password), ("next", "/")],
        )
        .await
    }

    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.client.post(format!("{}{path}", self.base)).form(fields).send().await.expect("request")
    }

    /// Upload files on the import page, as one form, and wait until the check has run: the
    /// status and page of the job (or of the refusal), and the job's path.
    pub async fn upload(&self, files: Vec<(&str, Vec<u8>)>) -> (u16, String, String) {
        let (_, page) = self.get_text("/imports").await;
        let mut form = reqwest::multipart::Form::new().text("_csrf", csrf_of(&page));
        for (name, bytes) in files {
            form = form.part("file", reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()));
        }
        let r = self.client.post(format!("{}/imports", self.base)).multipart(form).send().await.expect("upload");
        let (mut status, path, mut text) =
            (r.status().as_u16(), r.url().path().to_string(), r.text().await.expect("page"));
        // The check waits for its turn: the job's page refreshes itself until it is done.
        for _ in 0..600 {
            if !(text.contains("排队等候检查") || text.contains("正在检查文件")) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            (status, text) = self.get_text(&path).await;
        }
        (status, path, text)
    }

    /// POST a form with this session's CSRF token added.
    pub async fn submit(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let (_, html) = self.get_text("/").await;
        let csrf = csrf_of(&html);
        let mut all = vec![("_csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_form(path, &all).await
    }
}

/// Someone who sees `scope` (the system's rights, that scope): for reading through the door.
pub fn sees(scope: &ducha_domain::access::Scope) -> ducha_domain::access::Actor {
    ducha_domain::access::Actor { scope: scope.clone(), ..ducha_domain::access::Actor::system() }
}
