use std::fmt;
use std::str::FromStr;

use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{Aead, AeadCore, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, AesGcm};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use sm3::Sm3;
use zeroize::Zeroizing;

use crate::error::{Error, Result, random};

/// SM4 in the generic GCM of `aes-gcm` (GCM works over any 128-bit block cipher), with the usual
/// 96-bit nonce and 128-bit tag: SM4-GCM as RFC 8998 describes it (its vector is a test here).
pub(crate) type Sm4Gcm = AesGcm<sm4::Sm4, U12>;

/// Bytes of the random nonce in front of every sealed value and wrapped key.
pub(crate) const NONCE_LEN: usize = 12;
/// Bytes of the GCM tag behind every ciphertext.
pub(crate) const TAG_LEN: usize = 16;

/// The family of algorithms: one choice for the whole installation, so that an assessment can be
/// told "all national algorithms" or "all international ones" without exceptions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Suite {
    /// AES-256-GCM, HMAC-SHA-256, SHA-256.
    Intl,
    /// SM4-GCM (128-bit key), HMAC-SM3, SM3: GB/T 32907, GB/T 32905.
    Sm,
}

impl Suite {
    /// The name used in configuration and stored beside wrapped keys.
    pub fn name(self) -> &'static str {
        match self {
            Suite::Intl => "intl",
            Suite::Sm => "sm",
        }
    }

    /// Key length of the suite's cipher: 32 bytes for AES-256, 16 for SM4.
    pub fn cipher_key_len(self) -> usize {
        match self {
            Suite::Intl => 32,
            Suite::Sm => 16,
        }
    }

    /// The suite's hash (SHA-256 or SM3), for the audit chain and fingerprints.
    pub fn hash(self, bytes: &[u8]) -> [u8; 32] {
        match self {
            Suite::Intl => Sha256::digest(bytes).into(),
            Suite::Sm => Sm3::digest(bytes).into(),
        }
    }

    /// The suite's HMAC over `parts`, each preceded by its length (8 bytes, big-endian), so that
    /// ("ab", "c") and ("a", "bc") never give the same tag.
    pub fn mac(self, key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
        match self {
            Suite::Intl => mac_with::<Hmac<Sha256>>(key, parts),
            Suite::Sm => mac_with::<Hmac<Sm3>>(key, parts),
        }
    }

    /// Plain HMAC over one message, as the standards define it; kept for the known-answer tests.
    #[cfg(test)]
    pub(crate) fn hmac_plain(self, key: &[u8], message: &[u8]) -> [u8; 32] {
        fn run<M: Mac + KeyInit>(key: &[u8], message: &[u8]) -> [u8; 32] {
            let mut m = <M as KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length");
            m.update(message);
            m.finalize().into_bytes().as_slice().try_into().expect("32-byte tag")
        }
        match self {
            Suite::Intl => run::<Hmac<Sha256>>(key, message),
            Suite::Sm => run::<Hmac<Sm3>>(key, message),
        }
    }

    /// Encrypts under a fresh random nonce; returns nonce ‖ ciphertext ‖ tag.
    pub(crate) fn seal(self, key: &[u8], aad: &[u8], msg: &[u8]) -> Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        random(&mut nonce)?;
        match self {
            Suite::Intl => seal_with::<Aes256Gcm>(key, nonce, aad, msg),
            Suite::Sm => seal_with::<Sm4Gcm>(key, nonce, aad, msg),
        }
    }

    /// Opens nonce ‖ ciphertext ‖ tag; any mismatch (key, associated data, one flipped bit) is
    /// [`Error::Unauthentic`], and GCM checks the tag before it decrypts anything.
    pub(crate) fn open(self, key: &[u8], aad: &[u8], blob: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        if blob.len() < NONCE_LEN + TAG_LEN {
            return Err(Error::Malformed);
        }
        let (nonce, ct) = blob.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().expect("split at the nonce length");
        match self {
            Suite::Intl => open_with::<Aes256Gcm>(key, nonce, aad, ct),
            Suite::Sm => open_with::<Sm4Gcm>(key, nonce, aad, ct),
        }
    }
}

fn mac_with<M: Mac + KeyInit>(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut m = <M as KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length");
    for part in parts {
        m.update(&(part.len() as u64).to_be_bytes());
        m.update(part);
    }
    m.finalize().into_bytes().as_slice().try_into().expect("both suites' HMACs give 32 bytes")
}

fn seal_with<C>(key: &[u8], nonce: [u8; NONCE_LEN], aad: &[u8], msg: &[u8]) -> Result<Vec<u8>>
where
    C: Aead + KeyInit + AeadCore<NonceSize = U12>,
{
    let cipher = C::new_from_slice(key).map_err(|_| Error::Unauthentic)?;
    let ct = cipher.encrypt(&nonce.into(), Payload { msg, aad }).map_err(|_| Error::TooLong)?;
    let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    Ok(out)
}

fn open_with<C>(key: &[u8], nonce: [u8; NONCE_LEN], aad: &[u8], ct: &[u8]) -> Result<Zeroizing<Vec<u8>>>
where
    C: Aead + KeyInit + AeadCore<NonceSize = U12>,
{
    let cipher = C::new_from_slice(key).map_err(|_| Error::Unauthentic)?;
    cipher.decrypt(&nonce.into(), Payload { msg: ct, aad }).map(Zeroizing::new).map_err(|_| Error::Unauthentic)
}

impl FromStr for Suite {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "intl" => Ok(Suite::Intl),
            "sm" => Ok(Suite::Sm),
            _ => Err(Error::UnknownSuite(s.to_owned())),
        }
    }
}

impl fmt::Display for Suite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
