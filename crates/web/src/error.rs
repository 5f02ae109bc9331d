//! One error type for handlers: each variant has its status and a Chinese message; the cause of
//! a server error is logged, not shown.

use axum::Json;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use ducha_storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// 404 for what does not exist and for what lies outside the user's scope alike.
    #[error("没有找到：{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("服务器内部错误，请稍后再试或联系管理员")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<StorageError> for WebError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Rejected(msg) => WebError::BadRequest(msg),
            other => WebError::Internal(Box::new(other)),
        }
    }
}

impl From<askama::Error> for WebError {
    fn from(e: askama::Error) -> Self {
        WebError::Internal(Box::new(e))
    }
}

impl WebError {
    fn status(&self) -> StatusCode {
        match self {
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        if let Self::Internal(cause) = &self {
            tracing::error!(error = %cause, "request failed");
        }
        let body = serde_json::json!({ "error": self.to_string() });
        (self.status(), [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
    }
}

pub async fn not_found(uri: Uri) -> WebError {
    WebError::NotFound(uri.path().to_string())
}
