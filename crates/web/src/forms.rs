//! The one form kit every page uses: a form's fields (label, value typed, error beside it), and
//! the page that shows them, fresh or refused. A refused form comes back with what was typed
//! and each error beside its field, in Chinese; an error no field of the form names is said at
//! the top, never as a raw field key.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use ducha_domain::labelled::Labelled;
use ducha_domain::validation::FieldErrors;

use crate::pages::PageCtx;
use crate::{AppState, CurrentUser, WebError};

/// One input of a form, with its value and error.
pub(crate) struct Field {
    pub name: &'static str,
    pub label: &'static str,
    /// "text", "date", "select" or "checkbox".
    pub input: &'static str,
    pub value: String,
    pub options: Vec<(String, String)>,
    pub error: Option<String>,
    pub required: bool,
    pub wide: bool,
    /// Under the field: how to fill it, or what it is about (a figure of the record).
    pub hint: std::borrow::Cow<'static, str>,
    /// Other names the rules give this field's errors (a text that is a reason or a description,
    /// as the action needs).
    pub also: &'static [&'static str],
}

impl Field {
    /// For a set of checkboxes: whether `code` is among the chosen (kept comma-separated).
    pub fn is_checked(&self, code: &str) -> bool {
        self.value.split(',').any(|v| v == code)
    }

    pub(crate) fn text(name: &'static str, label: &'static str, value: &str) -> Field {
        Field {
            name,
            label,
            input: "text",
            value: value.to_string(),
            options: vec![],
            error: None,
            required: false,
            wide: false,
            hint: std::borrow::Cow::Borrowed(""),
            also: &[],
        }
    }

    /// A multi-line text, the width of the form.
    pub(crate) fn textarea(name: &'static str, label: &'static str, value: &str) -> Field {
        Field { input: "textarea", ..Field::text(name, label, value) }.wide()
    }

    /// The width of the form.
    pub(crate) fn wide(mut self) -> Field {
        self.wide = true;
        self
    }

    /// Errors the rules give under these names are shown beside this field too.
    pub(crate) fn also(mut self, names: &'static [&'static str]) -> Field {
        self.also = names;
        self
    }

    pub(crate) fn required(mut self) -> Field {
        self.required = true;
        self
    }

    pub(crate) fn hint(mut self, hint: impl Into<std::borrow::Cow<'static, str>>) -> Field {
        self.hint = hint.into();
        self
    }

    pub(crate) fn date(name: &'static str, label: &'static str, value: &str) -> Field {
        Field { input: "date", ..Field::text(name, label, value) }
    }

    pub(crate) fn check(name: &'static str, label: &'static str, value: &str) -> Field {
        let on = ducha_domain::registry::parse_yes_no(value).unwrap_or(false);
        Field {
            input: "checkbox", value: if on { "是".into() } else { String::new() }, ..Field::text(name, label, "")
        }
    }

    pub(crate) fn select(
        name: &'static str,
        label: &'static str,
        value: &str,
        options: Vec<(String, String)>,
    ) -> Field {
        // Show a stored code or a typed label as the option it means.
        let value =
            options.iter().find(|(c, l)| c == value || l == value).map_or(value.to_string(), |(c, _)| c.clone());
        Field { input: "select", options, value, ..Field::text(name, label, "") }
    }

    pub(crate) fn vocab<T: Labelled>(
        name: &'static str,
        label: &'static str,
        value: &str,
        empty: Option<&str>,
    ) -> Field {
        let mut opts: Vec<(String, String)> =
            T::ALL.iter().map(|v| (v.code().to_string(), v.label().to_string())).collect();
        if let Some(e) = empty {
            opts.insert(0, (String::new(), e.to_string()));
        }
        Field::select(name, label, value, opts)
    }
}

/// Put each error beside its field; the messages no field of the form takes are returned, to be
/// said at the top (never dropped).
pub(crate) fn attach_errors(fields: &mut [Field], errors: &FieldErrors) -> Vec<String> {
    let mut placed = vec![false; errors.0.len()];
    for f in fields.iter_mut() {
        let mine: Vec<&str> = errors
            .0
            .iter()
            .enumerate()
            .filter(|(_, e)| e.field == f.name || f.also.contains(&e.field.as_str()))
            .map(|(i, e)| {
                placed[i] = true;
                e.message.as_str()
            })
            .collect();
        f.error = (!mine.is_empty()).then(|| mine.join("；"));
    }
    errors.0.iter().zip(placed).filter(|(_, p)| !p).map(|(e, _)| e.message.clone()).collect()
}

/// A field for files (evidence): the browser cannot keep chosen files, so a refused form asks
/// for them again.
pub(crate) fn files_field() -> Field {
    let mut f = Field::text("files", "佐证材料", "");
    f.input = "file";
    f.wide = true;
    f
}

#[derive(Template)]
#[template(path = "forms/page.html")]
struct EditPage {
    ctx: PageCtx,
    title: String,
    action: String,
    back: String,
    hidden: Vec<(&'static str, String)>,
    error: Option<String>,
    fields: Vec<Field>,
    multipart: bool,
}

/// A form page: its title, where it posts, where "cancel" goes, and its fields.
pub(crate) struct FormPage {
    pub title: String,
    pub action: String,
    pub back: String,
    pub hidden: Vec<(&'static str, String)>,
    pub fields: Vec<Field>,
    /// Post as multipart although no field is a file (the handler reads a multipart body).
    pub multipart: bool,
}

impl FormPage {
    /// The form, with the reason it was refused if it was (422), else fresh (200).
    pub(crate) async fn render(
        mut self,
        st: &AppState,
        me: &CurrentUser,
        refused: Option<WebError>,
    ) -> Result<Response, WebError> {
        let error = match &refused {
            None => None,
            Some(WebError::Invalid(errors)) => {
                let elsewhere = attach_errors(&mut self.fields, errors);
                let files = if self.fields.iter().any(|f| f.input == "file") {
                    "如有附件，请重新选择。"
                } else {
                    ""
                };
                let mut notice = format!("有些内容填写有误，请按提示修改后再保存；本次未保存任何内容。{files}");
                if !elsewhere.is_empty() {
                    notice = format!("{}。{notice}", elsewhere.join("；"));
                }
                Some(notice)
            }
            Some(other) => Some(other.to_string()),
        };
        let status = if refused.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
        let FormPage { title, action, back, hidden, fields, multipart } = self;
        let multipart = multipart || fields.iter().any(|f| f.input == "file");
        let html = EditPage { ctx: PageCtx::new(st, me).await?, title, action, back, hidden, error, fields, multipart }
            .render()?;
        Ok((status, Html(html)).into_response())
    }

    /// After a save: on to `next` if it worked; the form again if a field or a concurrent edit
    /// refused it; any other error as it is.
    pub(crate) async fn after_save(
        self,
        st: &AppState,
        me: &CurrentUser,
        saved: Result<String, WebError>,
    ) -> Result<Response, WebError> {
        match saved {
            Ok(next) => Ok(Redirect::to(&next).into_response()),
            Err(e @ (WebError::Invalid(_) | WebError::Conflict(_) | WebError::BadRequest(_))) => {
                self.render(st, me, Some(e)).await
            }
            Err(e) => Err(e),
        }
    }
}
