use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use proptest::prelude::*;
use sm4::cipher::BlockCipherEncrypt;

use crate::suite::Sm4Gcm;
use crate::*;

fn h(text: &str) -> Vec<u8> {
    let mut out = vec![0u8; text.len() / 2];
    crate::hex::decode_into(text, &mut out).expect("test hex");
    out
}

fn keys(suite: Suite) -> Keys {
    Keys::new(
        DataKey::generate(1, suite, Purpose::Field).unwrap(),
        DataKey::generate(2, suite, Purpose::Lookup).unwrap(),
    )
    .unwrap()
}

/// A fresh path in the temp directory, removed when dropped.
struct TempPath(PathBuf);

impl TempPath {
    fn new(name: &str) -> TempPath {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        TempPath(std::env::temp_dir().join(format!("ducha-vault-{}-{n}-{name}", std::process::id())))
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

// ---- Known answers from the published standards ----

/// GB/T 32907-2016 appendix A.1 (also GM/T 0002-2012): one block, key = plaintext.
#[test]
fn sm4_single_block_gbt_32907_appendix_a() {
    let key = h("0123456789abcdeffedcba9876543210");
    let cipher = sm4::Sm4::new_from_slice(&key).unwrap();
    let mut block: [u8; 16] = key.clone().try_into().unwrap();
    let mut arr = block.into();
    cipher.encrypt_block(&mut arr);
    block = arr.into();
    assert_eq!(block.to_vec(), h("681edf34d206965e86b3e94f536e4246"));
}

/// GB/T 32905-2016 appendix A, examples 1 and 2.
#[test]
fn sm3_gbt_32905_appendix_a() {
    assert_eq!(Suite::Sm.hash(b"abc").to_vec(), h("66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"));
    assert_eq!(
        Suite::Sm.hash("abcd".repeat(16).as_bytes()).to_vec(),
        h("debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732")
    );
}

/// FIPS 180-2 appendix B.1, so the other suite's hash is pinned too.
#[test]
fn sha256_fips_180_abc() {
    assert_eq!(
        Suite::Intl.hash(b"abc").to_vec(),
        h("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    );
}

/// McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", test case 16 (AES-256, 96-bit
/// IV, associated data, 60-byte plaintext), as repeated in NIST's GCM test vectors.
#[test]
fn aes_256_gcm_mcgrew_viega_test_case_16() {
    let key = h("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
    let nonce: [u8; 12] = h("cafebabefacedbaddecaf888").try_into().unwrap();
    let aad = h("feedfacedeadbeeffeedfacedeadbeefabaddad2");
    let pt = h("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72\
                1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39");
    let expected = h("522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa\
                      8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662\
                      76fc6ece0f4e1768cddf8853bb2d551b");
    let cipher = Aes256Gcm::new_from_slice(&key).unwrap();
    let ct = cipher.encrypt(&nonce.into(), Payload { msg: &pt, aad: &aad }).unwrap();
    assert_eq!(ct, expected);
    // The crate's own path (nonce in front) opens it.
    let mut blob = nonce.to_vec();
    blob.extend_from_slice(&ct);
    assert_eq!(*Suite::Intl.open(&key, &aad, &blob).unwrap(), pt);
}

/// RFC 8998 appendix A.1: SM4-GCM, which checks that the generic GCM over SM4 is the standard
/// composition and not merely self-consistent.
#[test]
fn sm4_gcm_rfc_8998_appendix_a1() {
    let key = h("0123456789abcdeffedcba9876543210");
    let nonce: [u8; 12] = h("00001234567800000000abcd").try_into().unwrap();
    let aad = h("feedfacedeadbeeffeedfacedeadbeefabaddad2");
    let pt = h("aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbccccccccccccccccdddddddddddddddd\
                eeeeeeeeeeeeeeeeffffffffffffffffeeeeeeeeeeeeeeeeaaaaaaaaaaaaaaaa");
    let expected = h("17f399f08c67d5ee19d0dc9969c4bb7d5fd46fd3756489069157b282bb200735\
                      d82710ca5c22f0ccfa7cbf93d496ac15a56834cbcf98c397b4024a2691233b8d\
                      83de3541e4c2b58177e065a9bf7b62ec");
    let cipher = Sm4Gcm::new_from_slice(&key).unwrap();
    assert_eq!(cipher.encrypt(&nonce.into(), Payload { msg: &pt, aad: &aad }).unwrap(), expected);
}

/// RFC 4231 test case 2 (key "Jefe").
#[test]
fn hmac_sha256_rfc_4231_case_2() {
    assert_eq!(
        Suite::Intl.hmac_plain(b"Jefe", b"what do ya want for nothing?").to_vec(),
        h("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    );
}

/// HMAC-SM3 on the same input; no standard publishes one, so this value was cross-checked against
/// OpenSSL 3.0's HMAC-SM3.
#[test]
fn hmac_sm3_matches_openssl() {
    assert_eq!(
        Suite::Sm.hmac_plain(b"Jefe", b"what do ya want for nothing?").to_vec(),
        h("2e87f1d16862e6d964b50a5200bf2b10b764faa9680a296a2405f24bec39f882")
    );
}

#[test]
fn mac_parts_are_length_framed() {
    for suite in [Suite::Intl, Suite::Sm] {
        assert_ne!(suite.mac(b"k", &[b"ab", b"c"]), suite.mac(b"k", &[b"a", b"bc"]));
        assert_eq!(suite.mac(b"k", &[b"ab", b"c"]), suite.mac(b"k", &[b"ab", b"c"]));
    }
    assert_ne!(Suite::Intl.mac(b"k", &[b"x"]), Suite::Sm.mac(b"k", &[b"x"]));
}

// ---- Suite names ----

#[test]
fn suite_parses_its_two_names_only() {
    assert_eq!("intl".parse::<Suite>().unwrap(), Suite::Intl);
    assert_eq!("sm".parse::<Suite>().unwrap(), Suite::Sm);
    assert_eq!(" SM ".parse::<Suite>().unwrap(), Suite::Sm);
    let err = "aes".parse::<Suite>().unwrap_err().to_string();
    assert!(err.contains("未知的加密套件") && err.contains("aes"), "{err}");
    assert_eq!(Suite::Sm.to_string(), "sm");
}

// ---- Sealing ----

#[test]
fn round_trip_on_both_suites() {
    for suite in [Suite::Intl, Suite::Sm] {
        let keys = keys(suite);
        for value in ["", "110101199003074514", "13800138000", "患有慢性病，需长期服药"] {
            let sealed = keys.seal("id_number", value).unwrap();
            assert!(is_sealed(&sealed), "{sealed}");
            assert!(sealed.starts_with("dv1:1:"));
            assert!(!sealed.contains(value) || value.is_empty());
            assert_eq!(keys.open("id_number", &sealed).unwrap().as_str(), value);
        }
    }
}

#[test]
fn tampered_value_is_refused_without_plaintext_in_the_error() {
    for suite in [Suite::Intl, Suite::Sm] {
        let keys = keys(suite);
        let secret = "110101199003074514";
        let sealed = keys.seal("id_number", secret).unwrap();
        // One flipped character of the text: refused whatever it hits.
        for i in 0..sealed.len() {
            let mut bytes = sealed.clone().into_bytes();
            bytes[i] ^= 0x01;
            let Ok(tampered) = String::from_utf8(bytes) else { continue };
            let err = keys.open("id_number", &tampered).expect_err("tampered value opened");
            assert!(!err.to_string().contains(secret) && !format!("{err:?}").contains(secret));
        }
        // One flipped bit of the decoded bytes (nonce, ciphertext or tag): a failed tag check.
        let (head, body) = sealed.rsplit_once(':').unwrap();
        let blob = B64.decode(body).unwrap();
        for i in 0..blob.len() {
            let mut b = blob.clone();
            b[i] ^= 0x80;
            let tampered = format!("{head}:{}", B64.encode(&b));
            assert!(matches!(keys.open("id_number", &tampered), Err(Error::Unauthentic)), "byte {i}");
        }
    }
}

#[test]
fn value_of_one_field_does_not_open_as_another() {
    for suite in [Suite::Intl, Suite::Sm] {
        let keys = keys(suite);
        let sealed = keys.seal("id_number", "110101199003074514").unwrap();
        assert!(matches!(keys.open("phone", &sealed), Err(Error::Unauthentic)));
    }
}

#[test]
fn seals_differ_while_lookup_is_stable() {
    for suite in [Suite::Intl, Suite::Sm] {
        let keys = keys(suite);
        let a = keys.seal("id_number", "110101199003074514").unwrap();
        let b = keys.seal("id_number", "110101199003074514").unwrap();
        assert_ne!(a, b);
        let l1 = keys.lookup("id_number", "110101199003074514");
        assert_eq!(l1, keys.lookup("id_number", "110101199003074514"));
        assert_eq!(l1.len(), 64);
        assert_ne!(l1, keys.lookup("phone", "110101199003074514"));
        assert_ne!(l1, keys.lookup("id_number", "110101199003074515"));
    }
}

#[test]
fn unknown_key_id_is_its_own_error() {
    let keys1 = keys(Suite::Sm);
    let keys2 = Keys::new(
        DataKey::generate(7, Suite::Sm, Purpose::Field).unwrap(),
        DataKey::generate(8, Suite::Sm, Purpose::Lookup).unwrap(),
    )
    .unwrap();
    let sealed = keys2.seal("phone", "13800138000").unwrap();
    assert!(matches!(keys1.open("phone", &sealed), Err(Error::UnknownKey(7))));
    // The lookup key's id does not open anything either.
    let as_lookup = sealed.replacen("dv1:7:", "dv1:2:", 1);
    assert!(matches!(keys1.open("phone", &as_lookup), Err(Error::UnknownKey(2))));
}

#[test]
fn retired_keys_open_old_values_and_the_current_key_seals() {
    let old = keys(Suite::Intl);
    let sealed_old = old.seal("phone", "13800138000").unwrap();
    let (field, lookup) = (old.field, old.lookup);
    let new = Keys::new(DataKey::generate(3, Suite::Intl, Purpose::Field).unwrap(), lookup)
        .unwrap()
        .with_retired(field)
        .unwrap();
    assert_eq!(new.open("phone", &sealed_old).unwrap().as_str(), "13800138000");
    let sealed_new = new.seal("phone", "13800138000").unwrap();
    assert_eq!(sealed_key_id(&sealed_old), Some(1));
    assert_eq!(sealed_key_id(&sealed_new), Some(3));
    assert_eq!(new.current_field_key_id(), 3);
}

#[test]
fn a_rotation_across_suites_opens_and_finds_what_the_old_keys_made() {
    let old = keys(Suite::Intl);
    let sealed_old = old.seal("id_number", "110101199003074514").unwrap();
    let lookup_old = old.lookup("id_number", "110101199003074514");
    let new = Keys::new(
        DataKey::generate(5, Suite::Sm, Purpose::Field).unwrap(),
        DataKey::generate(6, Suite::Sm, Purpose::Lookup).unwrap(),
    )
    .unwrap()
    .with_retired(old.field)
    .unwrap()
    .with_retired(old.lookup)
    .unwrap();
    assert_eq!(new.suite(), Suite::Sm);
    assert_eq!(new.open("id_number", &sealed_old).unwrap().as_str(), "110101199003074514");
    let lookups = new.lookups("id_number", "110101199003074514");
    assert_eq!(lookups.len(), 2);
    assert_eq!(lookups[0], new.lookup("id_number", "110101199003074514"), "the current lookup first");
    assert_ne!(lookups[0], lookup_old, "HMAC-SM3 under a new key");
    assert_eq!(lookups[1], lookup_old, "values not yet re-sealed are still found");
    assert_eq!(sealed_key_id(&new.seal("id_number", "110101199003074514").unwrap()), Some(5));
}

#[test]
fn keys_check_purposes_and_ids() {
    let f = || DataKey::generate(1, Suite::Sm, Purpose::Field).unwrap();
    let l = |id| DataKey::generate(id, Suite::Sm, Purpose::Lookup).unwrap();
    assert!(matches!(Keys::new(l(1), l(2)), Err(Error::WrongPurpose { id: 1, .. })));
    assert!(matches!(Keys::new(f(), l(1)), Err(Error::DuplicateKeyId(1))));
    let keys = Keys::new(f(), l(2)).unwrap();
    assert!(matches!(keys.with_retired(f()), Err(Error::DuplicateKeyId(1))));
}

#[test]
fn clear_values_are_not_taken_for_sealed_ones() {
    for clear in
        ["", "110101199003074514", "13800138000", "dv1:", "dv1:1:", "dv1:x:AAAA", "dv1:1:not base64!", "dv1:1:AAAA"]
    {
        assert!(!is_sealed(clear), "{clear}");
    }
    assert!(is_sealed(&keys(Suite::Sm).seal("f", "").unwrap()));
}

// ---- Key wrapping ----

#[test]
fn wrapped_key_round_trips_and_is_bound_to_master_id_suite_and_purpose() {
    for suite in [Suite::Intl, Suite::Sm] {
        for purpose in [Purpose::Field, Purpose::Lookup] {
            let master = MasterKey::generate().unwrap();
            let key = DataKey::generate(5, suite, purpose).unwrap();
            let wrapped = master.wrap(&key).unwrap();
            assert!(wrapped.starts_with("dk1:"));
            let back = master.unwrap(5, suite, purpose, &wrapped).unwrap();
            assert_eq!(back.secret(), key.secret());
            assert_eq!((back.id(), back.suite(), back.purpose()), (5, suite, purpose));

            let other = MasterKey::generate().unwrap();
            assert!(matches!(other.unwrap(5, suite, purpose, &wrapped), Err(Error::WrappedKeyRejected { id: 5 })));
            assert!(matches!(master.unwrap(6, suite, purpose, &wrapped), Err(Error::WrappedKeyRejected { id: 6 })));
            let other_suite = if suite == Suite::Sm { Suite::Intl } else { Suite::Sm };
            assert!(master.unwrap(5, other_suite, purpose, &wrapped).is_err());
            let other_purpose = if purpose == Purpose::Field { Purpose::Lookup } else { Purpose::Field };
            assert!(master.unwrap(5, suite, other_purpose, &wrapped).is_err());
            assert!(master.unwrap(5, suite, purpose, "dk1:AAAA").is_err());
        }
    }
}

#[test]
fn unwrapped_keys_seal_what_the_original_opens() {
    let master = MasterKey::generate().unwrap();
    let field = DataKey::generate(1, Suite::Sm, Purpose::Field).unwrap();
    let lookup = DataKey::generate(2, Suite::Sm, Purpose::Lookup).unwrap();
    let (wf, wl) = (master.wrap(&field).unwrap(), master.wrap(&lookup).unwrap());
    let original = Keys::new(field, lookup).unwrap();
    let reloaded = Keys::new(
        master.unwrap(1, Suite::Sm, Purpose::Field, &wf).unwrap(),
        master.unwrap(2, Suite::Sm, Purpose::Lookup, &wl).unwrap(),
    )
    .unwrap();
    let sealed = reloaded.seal("bank_account", "6222020200112233445").unwrap();
    assert_eq!(original.open("bank_account", &sealed).unwrap().as_str(), "6222020200112233445");
    assert_eq!(original.lookup("bank_account", "x"), reloaded.lookup("bank_account", "x"));
}

// ---- Master key ----

#[test]
fn master_key_file_round_trip_and_no_overwrite() {
    let path = TempPath::new("master.key");
    let master = MasterKey::generate().unwrap();
    master.write_new(&path.0).unwrap();
    let text = std::fs::read_to_string(&path.0).unwrap();
    assert_eq!(text.len(), 65);
    assert!(text.ends_with('\n'));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path.0).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let back = MasterKey::from_file(&path.0).unwrap();
    assert_eq!(back.bytes, master.bytes);
    assert_eq!(MasterKey::from_env_value(&text).unwrap().bytes, master.bytes);

    let again = MasterKey::generate().unwrap();
    assert!(matches!(again.write_new(&path.0), Err(Error::KeyFileExists(_))));
    assert_eq!(MasterKey::from_file(&path.0).unwrap().bytes, master.bytes);
}

#[cfg(unix)]
#[test]
fn master_key_file_readable_by_others_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let path = TempPath::new("open.key");
    MasterKey::generate().unwrap().write_new(&path.0).unwrap();
    for mode in [0o644, 0o640, 0o604, 0o620] {
        std::fs::set_permissions(&path.0, std::fs::Permissions::from_mode(mode)).unwrap();
        let err = MasterKey::from_file(&path.0).unwrap_err();
        assert!(matches!(err, Error::KeyFileTooOpen { mode: m, .. } if m == mode));
        let msg = err.to_string();
        assert!(msg.contains("chmod 600") && msg.contains(&format!("{mode:04o}")), "{msg}");
    }
    std::fs::set_permissions(&path.0, std::fs::Permissions::from_mode(0o400)).unwrap();
    assert!(MasterKey::from_file(&path.0).is_ok());
}

#[test]
fn bad_master_key_values_are_refused_without_echo() {
    let nearly = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg";
    for bad in ["", "abc", nearly, &"00".repeat(33)] {
        let err = MasterKey::from_env_value(bad).unwrap_err();
        assert!(matches!(err, Error::BadMasterKey));
        assert!(bad.is_empty() || !err.to_string().contains(bad));
    }
    assert!(MasterKey::from_env_value(&"AB".repeat(32)).is_ok());
    let missing = TempPath::new("missing.key");
    assert!(matches!(MasterKey::from_file(&missing.0), Err(Error::KeyFileIo { .. })));
}

#[test]
fn debug_never_shows_secrets() {
    let master = MasterKey::from_env_value(&"ab".repeat(32)).unwrap();
    assert_eq!(format!("{master:?}"), "MasterKey(..)");
    let key = DataKey::generate(9, Suite::Intl, Purpose::Field).unwrap();
    let secret_hex = crate::hex::encode(key.secret());
    let shown = format!("{key:?} {key:#?}");
    assert!(shown.contains("id: 9") && !shown.contains(&secret_hex) && !shown.contains("secret"), "{shown}");
    let keys = keys(Suite::Sm);
    let shown = format!("{keys:?}");
    for k in [&keys.field, &keys.lookup] {
        let s = crate::hex::encode(k.secret());
        assert!(!shown.contains(&s));
        assert!(!shown.contains(&format!("{:?}", k.secret())), "{shown}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_text_round_trips_and_any_bit_flip_is_refused(
        value in ".{0,80}",
        field in "[a-z_]{1,20}",
        sm in any::<bool>(),
        flip in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let keys = keys(if sm { Suite::Sm } else { Suite::Intl });
        let sealed = keys.seal(&field, &value).unwrap();
        prop_assert!(is_sealed(&sealed));
        let opened = keys.open(&field, &sealed).unwrap();
        prop_assert_eq!(opened.as_str(), value.as_str());
        let (head, body) = sealed.rsplit_once(':').unwrap();
        let mut blob = B64.decode(body).unwrap();
        let i = flip.index(blob.len());
        blob[i] ^= 1 << bit;
        let tampered = format!("{head}:{}", B64.encode(&blob));
        prop_assert!(matches!(keys.open(&field, &tampered), Err(Error::Unauthentic)));
    }
}

#[test]
fn files_seal_as_bytes_and_open_only_as_bytes_of_their_column() {
    for suite in [Suite::Intl, Suite::Sm] {
        let keys = keys(suite);
        let file = b"PK\x03\x04 a sheet with 110101199003074514 in it".to_vec();
        let sealed = keys.seal_bytes("import_file", &file).unwrap();
        assert!(sealed.starts_with(b"dvb1") && !sealed.windows(18).any(|w| w == b"110101199003074514"));
        assert_eq!(sealed_bytes_key_id(&sealed), Some(1));
        assert_eq!(keys.open_bytes("import_file", &sealed).unwrap().as_slice(), file.as_slice());
        assert!(matches!(keys.open_bytes("evidence", &sealed), Err(Error::Unauthentic)), "another column");
        let mut flipped = sealed.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(matches!(keys.open_bytes("import_file", &flipped), Err(Error::Unauthentic)));
        assert!(matches!(keys.open_bytes("import_file", &sealed[..10]), Err(Error::Malformed)));
        assert!(!looks_sealed_bytes(&file) && looks_sealed_bytes(&sealed));
    }
}
