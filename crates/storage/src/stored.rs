//! Stored values parsed into the domain's types at the storage edge: a value that does not parse
//! is a fault of the database ([`StorageError::Corrupt`]), never shown as the user's mistake and
//! never replaced by a default.
//!
//! Rows are mapped once per type: a query's row is a `#[derive(FromQueryResult)]` struct whose
//! vocabulary columns are [`Code<T>`], so a bad code fails while the row is read, in one place,
//! instead of in each `try_get` that happens to remember.

use ducha_domain::labelled::Labelled;
use sea_orm::{ColIdx, DbErr, QueryResult, TryGetError, TryGetable};

use crate::StorageError;

/// Marks a decoding error as a corrupt stored value, so that `From<DbErr>` makes it
/// [`StorageError::Corrupt`] and not a plain database fault.
pub(crate) const CORRUPT: &str = "corrupt stored value: ";

/// A stored vocabulary code as its domain value.
pub(crate) fn code<T: Labelled>(stored: &str) -> Result<T, StorageError> {
    T::parse(stored).map_err(|e| StorageError::Corrupt(e.to_string()))
}

/// A vocabulary column of a row struct: read as text, parsed into `T` while the row is mapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Code<T>(pub T);

impl<T: Labelled> TryGetable for Code<T> {
    fn try_get_by<I: ColIdx>(res: &QueryResult, index: I) -> Result<Self, TryGetError> {
        let text = String::try_get_by(res, index)?;
        T::parse(&text).map(Code).map_err(|e| TryGetError::DbErr(DbErr::Type(format!("{CORRUPT}{e}"))))
    }
}

impl From<DbErr> for StorageError {
    fn from(e: DbErr) -> Self {
        match e {
            DbErr::Type(m) if m.starts_with(CORRUPT) => StorageError::Corrupt(m[CORRUPT.len()..].to_string()),
            e => StorageError::Db(e),
        }
    }
}
