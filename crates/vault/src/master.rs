use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use zeroize::Zeroizing;

use crate::error::{Error, Result, random};
use crate::hex;
use crate::keys::{DataKey, Purpose};
use crate::suite::Suite;

/// Prefix of a wrapped data key, so a stored value says what it is and which format it uses.
const WRAPPED_PREFIX: &str = "dk1:";

/// The key that wraps every data key. It lives outside the database (a 0600 file or an
/// environment value), so a copied database alone opens nothing. Boxed so that moving it never
/// leaves copies on the stack; zeroized on drop.
pub struct MasterKey {
    pub(crate) bytes: Box<Zeroizing<[u8; 32]>>,
}

impl MasterKey {
    /// 32 fresh random bytes from the operating system.
    pub fn generate() -> Result<MasterKey> {
        let mut bytes = Box::new(Zeroizing::new([0u8; 32]));
        random(&mut bytes[..])?;
        Ok(MasterKey { bytes })
    }

    /// Parses one line of 64 hex characters (surrounding whitespace allowed). The error never
    /// repeats the value: it may be a nearly right key.
    pub fn from_env_value(value: &str) -> Result<MasterKey> {
        let mut bytes = Box::new(Zeroizing::new([0u8; 32]));
        hex::decode_into(value.trim(), &mut bytes[..]).ok_or(Error::BadMasterKey)?;
        Ok(MasterKey { bytes })
    }

    /// Reads a key file written by [`MasterKey::write_new`]. On unix a file that group or others
    /// may read or write is refused before it is read: a key anyone on the host can copy protects
    /// nothing.
    pub fn from_file(path: impl AsRef<Path>) -> Result<MasterKey> {
        let path = path.as_ref();
        let io = |source| Error::KeyFileIo { path: path.to_owned(), source };
        let file = File::open(path).map_err(io)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = file.metadata().map_err(io)?.permissions().mode() & 0o7777;
            if mode & 0o077 != 0 {
                return Err(Error::KeyFileTooOpen { path: path.to_owned(), mode });
            }
        }
        // Capacity fixed up front so reading never reallocates and leaves an unzeroized copy.
        let mut text = Zeroizing::new(String::with_capacity(256));
        file.take(200).read_to_string(&mut text).map_err(io)?;
        MasterKey::from_env_value(&text)
    }

    /// Writes the key as one hex line to a new file, mode 0600 from its creation on unix. An
    /// existing file is never overwritten: that would orphan every key it wrapped.
    pub fn write_new(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(|source| match source.kind() {
            std::io::ErrorKind::AlreadyExists => Error::KeyFileExists(path.to_owned()),
            _ => Error::KeyFileIo { path: path.to_owned(), source },
        })?;
        let mut line = Zeroizing::new(hex::encode(&self.bytes[..]));
        line.push('\n');
        let io = |source| Error::KeyFileIo { path: path.to_owned(), source };
        file.write_all(line.as_bytes()).map_err(io)?;
        file.sync_all().map_err(io)
    }

    /// Seals a data key's secret for storage, under a key-encryption key of its suite and
    /// purpose, with the id, suite and purpose as associated data: a wrapped key copied onto
    /// another id, suite or purpose no longer opens.
    pub fn wrap(&self, key: &DataKey) -> Result<String> {
        let (suite, purpose) = (key.suite(), key.purpose());
        let kek = self.kek(suite, purpose);
        let blob = suite.seal(&kek[..], &wrap_aad(key.id(), suite, purpose), key.secret())?;
        Ok(format!("{WRAPPED_PREFIX}{}", B64.encode(blob)))
    }

    /// The inverse of [`MasterKey::wrap`]; the caller says which id, suite and purpose it expects,
    /// and anything else (another master, another id, a changed byte) is refused.
    pub fn unwrap(&self, id: u32, suite: Suite, purpose: Purpose, wrapped: &str) -> Result<DataKey> {
        let rejected = Error::WrappedKeyRejected { id };
        let blob = wrapped.strip_prefix(WRAPPED_PREFIX).and_then(|b| B64.decode(b).ok());
        let Some(blob) = blob else { return Err(rejected) };
        let kek = self.kek(suite, purpose);
        let secret = suite.open(&kek[..], &wrap_aad(id, suite, purpose), &blob).map_err(|_| rejected)?;
        DataKey::from_secret(id, suite, purpose, secret).ok_or(Error::WrappedKeyRejected { id })
    }

    /// HMAC of the master with a fixed label, truncated to the cipher's key length: one
    /// key-encryption key per suite and purpose, none of them the master itself.
    fn kek(&self, suite: Suite, purpose: Purpose) -> Zeroizing<Vec<u8>> {
        let label: [&[u8]; 3] = [b"ducha-vault/kek/v1", suite.name().as_bytes(), purpose.name().as_bytes()];
        let full = Zeroizing::new(suite.mac(&self.bytes[..], &label));
        Zeroizing::new(full[..suite.cipher_key_len()].to_vec())
    }
}

/// Associated data of a wrapped key; colons cannot occur in any of its fields.
fn wrap_aad(id: u32, suite: Suite, purpose: Purpose) -> Vec<u8> {
    format!("{WRAPPED_PREFIX}{id}:{}:{}", suite.name(), purpose.name()).into_bytes()
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(..)")
    }
}
