//! What every page shares: the layout's context (who is signed in, the CSRF token), the error
//! page, and small formatting helpers for templates.

use askama::Template;
use axum::http::StatusCode;
use ducha_domain::labelled::Labelled;
use ducha_domain::{Money, privacy};

use crate::auth::CurrentUser;
use crate::{AppState, WebError};

/// The signed-in user as the layout shows them.
pub struct UserCtx {
    pub display_name: String,
    pub role_label: &'static str,
    pub scope_label: String,
    pub can_edit: bool,
}

pub struct PageCtx {
    pub city_name: String,
    pub user: Option<UserCtx>,
    pub csrf: String,
}

impl PageCtx {
    pub async fn new(st: &AppState, me: &CurrentUser) -> Result<PageCtx, WebError> {
        // From the cached division tree: no query of its own.
        let tree = st.db.system().regions().tree().await?;
        let scope_label = match &me.user.region_code {
            Some(code) => tree.get(code).map_or_else(|| code.clone(), |r| r.name.clone()),
            None => "全市".to_string(),
        };
        Ok(PageCtx {
            city_name: city_of(&tree),
            user: Some(UserCtx {
                display_name: me.user.display_name.clone(),
                role_label: me.user.role.label(),
                scope_label,
                can_edit: me.user.role.edits_registry(),
            }),
            csrf: me.csrf.clone(),
        })
    }

    pub async fn anonymous(st: &AppState, csrf: String) -> Result<PageCtx, WebError> {
        Ok(PageCtx { city_name: city_name(st).await?, user: None, csrf })
    }
}

pub async fn city_name(st: &AppState) -> Result<String, WebError> {
    Ok(city_of(&*st.db.system().regions().tree().await?))
}

/// The city's name: the first division at the city level (codes in order).
fn city_of(tree: &ducha_domain::region::RegionTree) -> String {
    tree.at_level(ducha_domain::RegionLevel::City).next().map(|r| r.name.clone()).unwrap_or_default()
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    ctx: PageCtx,
    status: u16,
    message: &'a str,
    request_id: &'a str,
    /// The page the request came from, if it was one of ducha's (empty otherwise).
    back: &'a str,
}

/// An error page; it names the request's id, which the log lines of the request carry too.
pub fn error_page(status: StatusCode, message: &str, request_id: &str, back: Option<&str>) -> String {
    let page = ErrorPage {
        ctx: PageCtx { city_name: String::new(), user: None, csrf: String::new() },
        status: status.as_u16(),
        message,
        request_id,
        back: back.unwrap_or(""),
    };
    page.render().unwrap_or_else(|_| message.to_string())
}

/// The Chinese label of a stored code (or the code itself if it is unknown).
pub fn label<T: Labelled>(code: &str) -> String {
    T::parse(code).map(|v| v.label().to_string()).unwrap_or_else(|_| code.to_string())
}

/// China Standard Time (UTC+8): what the offices read clocks in.
const CHINA: chrono::FixedOffset = match chrono::FixedOffset::east_opt(8 * 3600) {
    Some(o) => o,
    None => panic!("UTC+8 is a valid offset"),
};

pub fn china_time(at: &chrono::DateTime<chrono::Utc>) -> String {
    at.with_timezone(&CHINA).format("%Y-%m-%d %H:%M:%S").to_string()
}

pub fn yuan(fen: i64) -> String {
    Money::from_fen(fen).to_string()
}

pub fn yes_no(b: bool) -> &'static str {
    if b { "是" } else { "否" }
}

pub fn mask_id(id: &str) -> String {
    privacy::mask_id(id)
}

pub fn mask_phone<S: AsRef<str>>(p: &Option<S>) -> String {
    p.as_ref().map(|p| privacy::mask_phone(p.as_ref())).unwrap_or_default()
}

pub fn mask_account<S: AsRef<str>>(p: &Option<S>) -> String {
    p.as_ref().map(|p| privacy::mask_account(p.as_ref())).unwrap_or_default()
}

/// An xlsx file to download, named in Chinese (RFC 5987), never kept in a shared cache: exports
/// carry household numbers and names.
pub(crate) fn xlsx_download(bytes: Vec<u8>, filename: &str) -> axum::response::Response {
    download(bytes, filename, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
}

/// Text for a URL or an RFC 5987 file name: letters, digits and dots as they are, every other
/// byte as %XX.
pub(crate) fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b == b'.' { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

/// A file to save, named in UTF-8 (a Chinese file name survives in every current browser).
pub(crate) fn download(bytes: Vec<u8>, filename: &str, content_type: &str) -> axum::response::Response {
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse;
    let encoded = percent_encode(filename);
    let ascii = format!("export.{}", filename.rsplit('.').next().unwrap_or("bin"));
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        bytes,
    )
        .into_response()
}

/// A form with nothing but its CSRF token (a button that does one thing).
#[derive(serde::Deserialize)]
pub struct Empty {}
