//! Stored values parsed into the domain's types at the storage edge: a value that does not parse
//! is a fault of the database ([`StorageError::Corrupt`]), never shown as the user's mistake and
//! never replaced by a default.

use ducha_domain::labelled::Labelled;

use crate::StorageError;

/// A stored vocabulary code as its domain value.
pub(crate) fn code<T: Labelled>(stored: &str) -> Result<T, StorageError> {
    T::parse(stored).map_err(|e| StorageError::Corrupt(e.to_string()))
}
