use std::collections::BTreeMap;
use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use zeroize::Zeroizing;

use crate::error::{Error, Result, random};
use crate::hex;
use crate::suite::{NONCE_LEN, Suite, TAG_LEN};

/// Prefix of a sealed value: tells sealed text from clear text during a migration, and leaves room
/// for a later format.
const SEALED_PREFIX: &str = "dv1:";

/// What a data key may be used for. Kept apart so the key that makes searchable lookups is never
/// the key that encrypts, and a wrapped key cannot be swapped from one role to the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Purpose {
    /// Encrypts column values ([`Keys::seal`], [`Keys::open`]).
    Field,
    /// Keys the blind index ([`Keys::lookup`]).
    Lookup,
}

impl Purpose {
    /// Name bound into wrapped keys and key-encryption keys.
    pub fn name(self) -> &'static str {
        match self {
            Purpose::Field => "field",
            Purpose::Lookup => "lookup",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Purpose::Field => "字段加密",
            Purpose::Lookup => "查询索引",
        }
    }

    /// Field keys are the suite's cipher key; lookup keys are 32 bytes for either HMAC.
    fn secret_len(self, suite: Suite) -> usize {
        match self {
            Purpose::Field => suite.cipher_key_len(),
            Purpose::Lookup => 32,
        }
    }
}

/// One data key: what the database stores wrapped under the master key. The id travels in every
/// sealed value, so old keys can still open old values after a rotation.
pub struct DataKey {
    id: u32,
    suite: Suite,
    purpose: Purpose,
    secret: Zeroizing<Vec<u8>>,
}

impl DataKey {
    /// A fresh random key of the right length for its suite and purpose.
    pub fn generate(id: u32, suite: Suite, purpose: Purpose) -> Result<DataKey> {
        let mut secret = Zeroizing::new(vec![0u8; purpose.secret_len(suite)]);
        random(&mut secret)?;
        Ok(DataKey { id, suite, purpose, secret })
    }

    /// `None` when the secret has the wrong length for the suite and purpose.
    pub(crate) fn from_secret(id: u32, suite: Suite, purpose: Purpose, secret: Zeroizing<Vec<u8>>) -> Option<DataKey> {
        (secret.len() == purpose.secret_len(suite)).then_some(DataKey { id, suite, purpose, secret })
    }

    pub fn id(&self) -> u32 {
        self.id
    }

    pub fn suite(&self) -> Suite {
        self.suite
    }

    pub fn purpose(&self) -> Purpose {
        self.purpose
    }

    pub(crate) fn secret(&self) -> &[u8] {
        &self.secret
    }

    fn expect(&self, purpose: Purpose) -> Result<()> {
        if self.purpose == purpose {
            Ok(())
        } else {
            Err(Error::WrongPurpose { id: self.id, expected: purpose.label(), actual: self.purpose.label() })
        }
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataKey")
            .field("id", &self.id)
            .field("suite", &self.suite)
            .field("purpose", &self.purpose)
            .finish_non_exhaustive()
    }
}

/// The unwrapped data keys of a running server: the current field key seals, any loaded field key
/// opens (by the id in the value), and the one lookup key makes blind indexes.
#[derive(Debug)]
pub struct Keys {
    pub(crate) field: DataKey,
    pub(crate) lookup: DataKey,
    retired: BTreeMap<u32, DataKey>,
    /// Lookup keys of a rotation under way: values not yet re-sealed still carry their lookups.
    retired_lookups: Vec<DataKey>,
}

impl Keys {
    /// The current field key and the lookup key; their ids must differ, since ids name keys in
    /// the key table.
    pub fn new(field: DataKey, lookup: DataKey) -> Result<Keys> {
        field.expect(Purpose::Field)?;
        lookup.expect(Purpose::Lookup)?;
        if field.id == lookup.id {
            return Err(Error::DuplicateKeyId(field.id));
        }
        Ok(Keys { field, lookup, retired: BTreeMap::new(), retired_lookups: Vec::new() })
    }

    /// Adds an older key that no longer seals or indexes: a field key still opens what was
    /// sealed under it (so a key rotation can re-seal values at its own pace, and old audit
    /// records stay readable); a lookup key still finds the values not yet re-indexed.
    pub fn with_retired(mut self, key: DataKey) -> Result<Keys> {
        let id = key.id;
        if id == self.field.id
            || id == self.lookup.id
            || self.retired.contains_key(&id)
            || self.retired_lookups.iter().any(|k| k.id == id)
        {
            return Err(Error::DuplicateKeyId(id));
        }
        match key.purpose {
            Purpose::Field => {
                self.retired.insert(id, key);
            }
            Purpose::Lookup => self.retired_lookups.push(key),
        }
        Ok(self)
    }

    /// Id of the key [`Keys::seal`] uses; a value sealed under another id is due for re-sealing.
    pub fn current_field_key_id(&self) -> u32 {
        self.field.id
    }

    /// Id of the key [`Keys::lookup`] uses.
    pub fn current_lookup_key_id(&self) -> u32 {
        self.lookup.id
    }

    /// The suite of the current keys: what new values are sealed and indexed with.
    pub fn suite(&self) -> Suite {
        self.field.suite
    }

    /// Encrypts `plaintext` for the column `field` into printable text for a TEXT column:
    /// `dv1:<key id>:<base64 of nonce ‖ ciphertext ‖ tag>`. The nonce is random, so sealing one
    /// value twice gives two different texts; the field name is associated data, so a value
    /// copied into another column no longer opens.
    pub fn seal(&self, field: &str, plaintext: &str) -> Result<String> {
        let key = &self.field;
        let blob = key.suite.seal(key.secret(), &field_aad(key.id, field), plaintext.as_bytes())?;
        Ok(format!("{SEALED_PREFIX}{}:{}", key.id, B64.encode(blob)))
    }

    /// Decrypts a value of the column `field`. A changed byte, a value from another column or a
    /// wrong key is [`Error::Unauthentic`]; a key not loaded is [`Error::UnknownKey`]. No error
    /// carries any of the plaintext, and the plaintext returned is zeroized when dropped.
    pub fn open(&self, field: &str, sealed: &str) -> Result<Zeroizing<String>> {
        let (id, body) = split_sealed(sealed).ok_or(Error::Malformed)?;
        let key = if id == self.field.id { &self.field } else { self.retired.get(&id).ok_or(Error::UnknownKey(id))? };
        let blob = B64.decode(body).map_err(|_| Error::Malformed)?;
        let mut plain = key.suite.open(key.secret(), &field_aad(id, field), &blob)?;
        let bytes = std::mem::take(&mut *plain);
        match String::from_utf8(bytes) {
            Ok(text) => Ok(Zeroizing::new(text)),
            Err(e) => {
                drop(Zeroizing::new(e.into_bytes()));
                Err(Error::NotText)
            }
        }
    }

    /// Encrypts a file's bytes for the column `field` into `dvb1` ‖ key id (4 bytes, big-endian)
    /// ‖ nonce ‖ ciphertext ‖ tag: the binary form of [`Keys::seal`], for blob columns (uploaded
    /// sheets, evidence files), without the growth of base64.
    pub fn seal_bytes(&self, field: &str, plaintext: &[u8]) -> Result<Vec<u8>> {
        let key = &self.field;
        let blob = key.suite.seal(key.secret(), &bytes_aad(key.id, field), plaintext)?;
        let mut out = Vec::with_capacity(SEALED_BYTES_PREFIX.len() + 4 + blob.len());
        out.extend_from_slice(SEALED_BYTES_PREFIX);
        out.extend_from_slice(&key.id.to_be_bytes());
        out.extend_from_slice(&blob);
        Ok(out)
    }

    /// Decrypts what [`Keys::seal_bytes`] made, with the same refusals as [`Keys::open`].
    pub fn open_bytes(&self, field: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let id = sealed_bytes_key_id(sealed).ok_or(Error::Malformed)?;
        let key = if id == self.field.id { &self.field } else { self.retired.get(&id).ok_or(Error::UnknownKey(id))? };
        key.suite.open(key.secret(), &bytes_aad(id, field), &sealed[SEALED_BYTES_PREFIX.len() + 4..])
    }

    /// Blind index of `value` in the column `field`: hex HMAC under the lookup key, so a household
    /// can be found or kept unique by ID number without decrypting every row. Stable for a given
    /// lookup key; callers normalise the value first (e.g. an ID number's final x to upper case).
    pub fn lookup(&self, field: &str, value: &str) -> String {
        blind(&self.lookup, field, value)
    }

    /// Every blind index `value` may be stored under: the current lookup key's first, then those
    /// of a rotation under way (values not yet re-sealed keep the lookup they were written with).
    pub fn lookups(&self, field: &str, value: &str) -> Vec<String> {
        std::iter::once(&self.lookup).chain(&self.retired_lookups).map(|key| blind(key, field, value)).collect()
    }
}

/// How sealed bytes begin: no file type ducha accepts (xlsx, csv, pdf, images) begins so.
const SEALED_BYTES_PREFIX: &[u8] = b"dvb1";

/// Associated data of sealed bytes: their own format, so text and bytes never open as each other.
fn bytes_aad(id: u32, field: &str) -> Vec<u8> {
    format!("dvb1:{id}:{field}").into_bytes()
}

/// The key id of sealed bytes, if `data` has their shape (prefix, id, room for nonce and tag).
pub fn sealed_bytes_key_id(data: &[u8]) -> Option<u32> {
    let rest = data.strip_prefix(SEALED_BYTES_PREFIX)?;
    if rest.len() < 4 + NONCE_LEN + TAG_LEN {
        return None;
    }
    let id: [u8; 4] = rest[..4].try_into().ok()?;
    Some(u32::from_be_bytes(id))
}

/// Whether `data` begins as sealed bytes do (a damaged one included: it is refused, not served).
pub fn looks_sealed_bytes(data: &[u8]) -> bool {
    data.starts_with(SEALED_BYTES_PREFIX)
}

/// The blind index of `value` in `field` under one lookup key.
fn blind(key: &DataKey, field: &str, value: &str) -> String {
    hex::encode(&key.suite.mac(key.secret(), &[b"ducha-vault/lookup/v1", field.as_bytes(), value.as_bytes()]))
}

/// Associated data of a sealed value: the format, the key id and the column. The id comes before
/// the field name and holds no colon, so the split is unambiguous.
fn field_aad(id: u32, field: &str) -> Vec<u8> {
    format!("{SEALED_PREFIX}{id}:{field}").into_bytes()
}

/// The key id and base64 body of a sealed value, or `None` if the shape is wrong.
fn split_sealed(text: &str) -> Option<(u32, &str)> {
    let (id, body) = text.strip_prefix(SEALED_PREFIX)?.split_once(':')?;
    if id.is_empty() || id.len() > 10 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((id.parse().ok()?, body))
}

/// The key id a sealed value names, if `text` is a well-formed sealed value (prefix, id, base64
/// long enough for nonce and tag). Lets a migration or a rotation pick what to (re-)seal.
pub fn sealed_key_id(text: &str) -> Option<u32> {
    let (id, body) = split_sealed(text)?;
    let blob = B64.decode(body).ok()?;
    (blob.len() >= NONCE_LEN + TAG_LEN).then_some(id)
}

/// Whether `text` is a sealed value rather than clear text.
pub fn is_sealed(text: &str) -> bool {
    sealed_key_id(text).is_some()
}
