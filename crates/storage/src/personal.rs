//! Personal data sealed at rest (issue 22): ID numbers, phone numbers and bank accounts are
//! written to the database only as `ducha_vault` ciphertext, and opened again as the row is read.
//! This is the one place that does either, for every table and every way a row is read (an
//! entity, a `FromQueryResult` row, the household page's JSON): a column of type
//! [`Personal<K>`] cannot be written in clear, because the only way to make one with a value is
//! [`Personal::seal`], which needs the database's keys.
//!
//! Reading needs no handle: sea-orm decodes a column without any context, so the unwrapped keys of
//! every database this process opened are kept here by key id (ids are random, so the databases
//! of one test process do not collide). A value still in clear (written before keys existed) is
//! read as it is, and sealed by `ducha keys seal`.

use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::sync::{Arc, LazyLock, RwLock};

use ducha_vault::Keys;
use sea_orm::sea_query::{ArrayType, ColumnType, Nullable, ValueType, ValueTypeErr};
use sea_orm::{ColIdx, DbErr, QueryResult, TryGetError, TryGetable, Value};

use crate::StorageError;

/// What kind of personal value a column holds. The kind's name is bound into every sealed value,
/// so a phone number's ciphertext copied into the ID-number column does not open.
pub trait Kind: Send + Sync + 'static {
    const NAME: &'static str;
}

/// 身份证号.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdNumber;
impl Kind for IdNumber {
    const NAME: &'static str = "id_number";
}

/// 联系电话.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Phone;
impl Kind for Phone {
    const NAME: &'static str = "phone";
}

/// 银行账号.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BankAccount;
impl Kind for BankAccount {
    const NAME: &'static str = "bank_account";
}

/// 健康状况 (the code of the vocabulary: a disability or an illness is a health fact).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Health;
impl Kind for Health {
    const NAME: &'static str = "health";
}

/// Every column that holds a personal value, as (table, column): each is a `Personal<K>` in its
/// entity. A test over the schema checks that no other column's name says it holds one.
pub const SEALED_COLUMNS: [(&str, &str); 6] = [
    ("members", "id_number"),
    ("members", "phone"),
    ("members", "health"),
    ("households", "phone"),
    ("households", "bank_account"),
    ("cadres", "phone"),
];

/// How every sealed value begins (`ducha_vault`'s format).
const SEALED: &str = "dv1:";

/// Unwrapped keys by key id, for every database this process has opened.
static OPENERS: LazyLock<RwLock<HashMap<u32, Arc<Keys>>>> = LazyLock::new(Default::default);

/// Make `keys` (and each key id they hold) able to open what they sealed.
pub(crate) fn register(ids: &[u32], keys: &Arc<Keys>) {
    if let Ok(mut map) = OPENERS.write() {
        for id in ids {
            map.insert(*id, keys.clone());
        }
    }
}

/// Open a stored value: sealed text through the key it names, clear text (from before the keys)
/// as it is.
fn open(kind: &str, stored: String) -> Result<String, String> {
    // Anything that starts like a sealed value is one: a damaged one is refused, never shown as
    // if it were a clear value.
    if !stored.starts_with(SEALED) {
        return Ok(stored);
    }
    let Some(id) = ducha_vault::sealed_key_id(&stored) else { return Err("密文格式有误".into()) };
    let keys = OPENERS.read().map_err(|_| "密钥表不可用".to_string())?.get(&id).cloned();
    let Some(keys) = keys else {
        return Err(format!("没有载入密钥 {id}：请用 --master-key 指定主密钥文件"));
    };
    keys.open(kind, &stored).map(|clear| clear.to_string()).map_err(|e| e.to_string())
}

/// A personal value of kind `K`: clear in memory, sealed in the database.
pub struct Personal<K: Kind> {
    clear: String,
    stored: String,
    kind: PhantomData<K>,
}

impl<K: Kind> Personal<K> {
    /// Seal `clear` with the current key of `keys`.
    pub(crate) fn seal(keys: &Keys, clear: &str) -> Result<Self, StorageError> {
        let stored = keys.seal(K::NAME, clear).map_err(|e| StorageError::Corrupt(e.to_string()))?;
        Ok(Personal { clear: clear.to_string(), stored, kind: PhantomData })
    }

    pub fn as_str(&self) -> &str {
        &self.clear
    }

    fn from_stored(stored: String) -> Result<Self, String> {
        let clear = open(K::NAME, stored.clone())?;
        Ok(Personal { clear, stored, kind: PhantomData })
    }
}

impl<K: Kind> Clone for Personal<K> {
    fn clone(&self) -> Self {
        Personal { clear: self.clear.clone(), stored: self.stored.clone(), kind: PhantomData }
    }
}

impl<K: Kind> PartialEq for Personal<K> {
    fn eq(&self, other: &Self) -> bool {
        self.clear == other.clear
    }
}
impl<K: Kind> Eq for Personal<K> {}

impl<K: Kind> PartialEq<str> for Personal<K> {
    fn eq(&self, other: &str) -> bool {
        self.clear == other
    }
}

impl<K: Kind> PartialEq<String> for Personal<K> {
    fn eq(&self, other: &String) -> bool {
        &self.clear == other
    }
}

impl<K: Kind> AsRef<str> for Personal<K> {
    fn as_ref(&self) -> &str {
        &self.clear
    }
}

impl<K: Kind> std::ops::Deref for Personal<K> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.clear
    }
}

/// Shown where a page or a sheet shows it (masked there for roles without the right).
impl<K: Kind> fmt::Display for Personal<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.clear)
    }
}

/// Never the value: a debug print ends up in logs.
impl<K: Kind> fmt::Debug for Personal<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Personal<{}>(…)", K::NAME)
    }
}

impl<K: Kind> serde::Serialize for Personal<K> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.clear)
    }
}

/// From the household page's JSON, which carries the stored text.
impl<'de, K: Kind> serde::Deserialize<'de> for Personal<K> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let stored = String::deserialize(d)?;
        Personal::from_stored(stored).map_err(serde::de::Error::custom)
    }
}

impl<K: Kind> TryGetable for Personal<K> {
    fn try_get_by<I: ColIdx>(res: &QueryResult, index: I) -> Result<Self, TryGetError> {
        let stored = String::try_get_by(res, index)?;
        Personal::from_stored(stored)
            .map_err(|e| TryGetError::DbErr(DbErr::Type(format!("{}{e}", crate::stored::CORRUPT))))
    }
}

impl<K: Kind> From<Personal<K>> for Value {
    fn from(p: Personal<K>) -> Value {
        Value::String(Some(p.stored))
    }
}

impl<K: Kind> ValueType for Personal<K> {
    fn try_from(v: Value) -> Result<Self, ValueTypeErr> {
        match v {
            Value::String(Some(s)) => Personal::from_stored(s).map_err(|_| ValueTypeErr),
            _ => Err(ValueTypeErr),
        }
    }

    fn type_name() -> String {
        format!("Personal<{}>", K::NAME)
    }

    fn array_type() -> ArrayType {
        ArrayType::String
    }

    fn column_type() -> ColumnType {
        ColumnType::Text
    }
}

impl<K: Kind> Nullable for Personal<K> {
    fn null() -> Value {
        Value::String(None)
    }
}

/// [`Personal::seal`] of an optional value (an empty one stays empty).
pub(crate) fn seal_opt<K: Kind>(keys: &Keys, v: Option<&str>) -> Result<Option<Personal<K>>, StorageError> {
    v.map(|v| Personal::seal(keys, v)).transpose()
}

/// The keys of a diff that hold personal values, and the kind each is sealed as.
const DIFF_FIELDS: [&str; 4] = [IdNumber::NAME, Phone::NAME, BankAccount::NAME, Health::NAME];

fn walk(
    v: &mut serde_json::Value,
    f: &mut dyn FnMut(&str, &mut String) -> Result<(), StorageError>,
) -> Result<(), StorageError> {
    match v {
        serde_json::Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                match v {
                    serde_json::Value::String(s) if DIFF_FIELDS.contains(&k.as_str()) => f(k, s)?,
                    other => walk(other, f)?,
                }
            }
        }
        serde_json::Value::Array(items) => {
            for v in items {
                walk(v, f)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// An audit diff with its personal values sealed: the chain keeps ciphertext only (and its
/// hashes are over the ciphertext, so verifying needs no key).
pub(crate) fn seal_diff(keys: Option<&Keys>, json: Option<String>) -> Result<Option<String>, StorageError> {
    let (Some(keys), Some(text)) = (keys, json.as_deref()) else { return Ok(json) };
    if !DIFF_FIELDS.iter().any(|f| text.contains(f)) {
        return Ok(json);
    }
    let mut v: serde_json::Value = serde_json::from_str(text).map_err(|e| StorageError::Corrupt(e.to_string()))?;
    walk(&mut v, &mut |kind, s| {
        if !s.is_empty() && !ducha_vault::is_sealed(s) {
            *s = keys.seal(kind, s).map_err(|e| StorageError::Corrupt(e.to_string()))?;
        }
        Ok(())
    })?;
    Ok(Some(v.to_string()))
}

/// An audit diff as a person reads it: sealed values opened (masked later for roles without
/// the right, as every personal value is).
pub(crate) fn open_diff(json: Option<String>) -> Result<Option<String>, StorageError> {
    let Some(text) = json.as_deref() else { return Ok(json) };
    if !text.contains(SEALED) {
        return Ok(json);
    }
    let mut v: serde_json::Value = serde_json::from_str(text).map_err(|e| StorageError::Corrupt(e.to_string()))?;
    walk(&mut v, &mut |kind, s| {
        if s.starts_with(SEALED) {
            *s = open(kind, std::mem::take(s)).map_err(StorageError::Corrupt)?;
        }
        Ok(())
    })?;
    Ok(Some(v.to_string()))
}

/// A sealed diff (a change request's payload) with every value sealed under a key other than
/// the current one sealed again under it; `None` when nothing needed it (a key rotation).
pub(crate) fn reseal_diff(keys: &Keys, text: &str) -> Result<Option<String>, StorageError> {
    let current = keys.current_field_key_id();
    if !text.contains(SEALED) {
        return Ok(None);
    }
    let mut v: serde_json::Value = serde_json::from_str(text).map_err(|e| StorageError::Corrupt(e.to_string()))?;
    let mut changed = false;
    walk(&mut v, &mut |kind, s| {
        if ducha_vault::sealed_key_id(s).is_some_and(|id| id != current) {
            let clear = open(kind, std::mem::take(s)).map_err(StorageError::Corrupt)?;
            *s = keys.seal(kind, &clear).map_err(|e| StorageError::Corrupt(e.to_string()))?;
            changed = true;
        }
        Ok(())
    })?;
    Ok(changed.then(|| v.to_string()))
}

/// A stored value sealed again under the current key, if it is sealed under another; `None`
/// when it needs nothing (clear values are sealed by the upgrade, not by a rotation).
pub(crate) fn reseal(keys: &Keys, kind: &str, stored: &str) -> Result<Option<(String, String)>, StorageError> {
    match ducha_vault::sealed_key_id(stored) {
        Some(id) if id != keys.current_field_key_id() => {
            let clear = open(kind, stored.to_string()).map_err(StorageError::Corrupt)?;
            let sealed = keys.seal(kind, &clear).map_err(|e| StorageError::Corrupt(e.to_string()))?;
            Ok(Some((sealed, clear)))
        }
        _ => Ok(None),
    }
}

/// A file with personal data (an uploaded sheet, an evidence file) sealed for the blob column of
/// `table`; an empty one (a file cleaned away) stays empty.
pub(crate) fn seal_file(keys: &Keys, table: &str, bytes: &[u8]) -> Result<Vec<u8>, StorageError> {
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    keys.seal_bytes(table, bytes).map_err(|e| StorageError::Corrupt(e.to_string()))
}

/// A stored file opened: sealed bytes through the key they name; a file from before files were
/// sealed as it is.
pub(crate) fn open_file(table: &str, stored: Vec<u8>) -> Result<Vec<u8>, StorageError> {
    if !ducha_vault::looks_sealed_bytes(&stored) {
        return Ok(stored);
    }
    let id =
        ducha_vault::sealed_bytes_key_id(&stored).ok_or_else(|| StorageError::Corrupt("文件密文格式有误".into()))?;
    let keys = OPENERS.read().map_err(|_| StorageError::Corrupt("密钥表不可用".into()))?.get(&id).cloned();
    let Some(keys) = keys else {
        return Err(StorageError::Corrupt(format!("没有载入密钥 {id}：请用 --master-key 指定主密钥文件")));
    };
    keys.open_bytes(table, &stored).map(|b| b.to_vec()).map_err(|e| StorageError::Corrupt(e.to_string()))
}

/// [`seal_file`] on a blocking thread: a 10 MB scan is tens of milliseconds of cipher work (more
/// under SM4, which runs in software), which must not hold an async worker that answers pages.
pub(crate) async fn seal_file_apart(
    keys: Arc<Keys>,
    table: &'static str,
    bytes: Vec<u8>,
) -> Result<Vec<u8>, StorageError> {
    tokio::task::spawn_blocking(move || seal_file(&keys, table, &bytes))
        .await
        .map_err(|e| StorageError::Task(e.to_string()))?
}

/// [`open_file`] on a blocking thread, for the same reason.
pub(crate) async fn open_file_apart(table: &'static str, stored: Vec<u8>) -> Result<Vec<u8>, StorageError> {
    tokio::task::spawn_blocking(move || open_file(table, stored))
        .await
        .map_err(|e| StorageError::Task(e.to_string()))?
}
