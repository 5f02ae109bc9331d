//! ducha's vault: the one place personal data is encrypted at rest (issue 22). ID numbers, phone
//! numbers, bank accounts and health facts of poor households are sealed here before the storage
//! crate writes them, and opened here after it reads them; this crate knows no database.
//!
//! Two suites, chosen by the operator: `intl` (AES-256-GCM, HMAC-SHA-256, SHA-256) and `sm`
//! (SM4-GCM, HMAC-SM3, SM3), the national algorithms that GB/T 39786-2021 assessments expect.
//! Every primitive is RustCrypto's; nothing here is hand-written cipher code.
//!
//! Keys form two layers: one [`MasterKey`] (a 0600 file or an environment value, never in the
//! database) wraps the [`DataKey`]s, which the database may store wrapped. A [`Keys`] set holds
//! the unwrapped data keys and seals, opens and computes blind lookups.
#![forbid(unsafe_code)]

mod error;
mod hex;
mod keys;
mod master;
mod suite;

#[cfg(test)]
mod tests;

pub use error::{Error, Result};
pub use keys::{DataKey, Keys, Purpose, is_sealed, looks_sealed_bytes, sealed_bytes_key_id, sealed_key_id};
pub use master::MasterKey;
pub use suite::Suite;
pub use zeroize::Zeroizing;
