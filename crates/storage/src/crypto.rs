//! Small cryptographic helpers: random bytes, hex, HMAC-SHA256, comparison in constant time.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::StorageError;

pub fn random_bytes<const N: usize>() -> Result<[u8; N], StorageError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| StorageError::Rejected(format!("无法取得随机数：{e}")))?;
    Ok(buf)
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bytes from lower- or upper-case hex; None for anything else.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| s.get(i..i + 2).and_then(|p| u8::from_str_radix(p, 16).ok())).collect()
}

/// HMAC-SHA256 under a 32-byte key over `parts`, each followed by a separator (0x1f) that no
/// part holds where it matters (hex, digits, timestamps), so that parts cannot be shifted.
pub fn mac(key: &[u8; 32], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC pads a key shorter than the block with zeros: the same MAC as the 32-byte key.
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(key);
    let mut m = <Hmac<Sha256> as KeyInit>::new(&block.into());
    for p in parts {
        m.update(p);
        m.update(&[0x1f]);
    }
    m.finalize().into_bytes().into()
}

pub fn mac_hex(key: &[u8; 32], parts: &[&[u8]]) -> String {
    hex(&mac(key, parts))
}

/// Equal, in time that depends only on the lengths (a secret's comparison must not leak by timing).
pub fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_is_hmac_sha256_of_the_joined_parts() {
        // RFC 4231 test case 2 has a 4-byte key; check against the crate with our 32-byte layout.
        let key = [7u8; 32];
        let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(&key).unwrap();
        m.update(b"a\x1fbc\x1f");
        let want: [u8; 32] = m.finalize().into_bytes().into();
        assert_eq!(mac(&key, &[b"a", b"bc"]), want);
        assert_ne!(mac(&key, &[b"ab", b"c"]), want, "parts cannot be shifted");
    }

    #[test]
    fn hex_round_trips() {
        assert_eq!(unhex(&hex(&[0, 255, 16])), Some(vec![0, 255, 16]));
        assert_eq!(unhex("0g"), None);
        assert_eq!(unhex("abc"), None);
        assert!(same(b"abc", b"abc") && !same(b"abc", b"abd") && !same(b"ab", b"abc"));
    }
}
