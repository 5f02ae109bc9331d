//! Field errors collected from a whole form or spreadsheet row, so that a user sees every
//! problem at once, each at its field, and nothing is saved until all are fixed.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The field's name in the form (`id_number`) or the column's header in a spreadsheet.
    pub field: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(transparent)]
#[error("{}", self.summary())]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError { field: field.into(), message: message.into() });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }

    /// The messages alone, for a page that cannot show them beside their fields: a form's field
    /// names are not words a user knows (each message says what it is about).
    pub fn messages(&self) -> String {
        let mut seen: Vec<&str> = Vec::new();
        for e in &self.0 {
            if !seen.contains(&e.message.as_str()) {
                seen.push(&e.message);
            }
        }
        seen.join("；")
    }

    pub fn summary(&self) -> String {
        self.0.iter().map(|e| format!("{}：{}", e.field, e.message)).collect::<Vec<_>>().join("；")
    }

    /// Keep the value if it parsed, else record the error at `field`.
    pub fn take<T, E: std::fmt::Display>(&mut self, field: &str, r: Result<T, E>) -> Option<T> {
        r.map_err(|e| self.add(field, e.to_string())).ok()
    }

    pub fn into_result<T>(self, value: impl FnOnce() -> Option<T>) -> Result<T, FieldErrors> {
        match (self.is_empty(), value()) {
            (true, Some(v)) => Ok(v),
            _ => Err(self),
        }
    }
}

/// A form field sent as JSON may be a number (`12000`) as well as text (`"12000"`): either is
/// read as the text a form would have sent; null as empty.
pub fn text_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Given {
        Text(String),
        Integer(i64),
        Number(f64),
        Nothing(()),
    }
    Ok(match <Given as serde::Deserialize>::deserialize(d)? {
        Given::Text(t) => t,
        Given::Integer(n) => n.to_string(),
        Given::Number(n) => n.to_string(),
        Given::Nothing(()) => String::new(),
    })
}
