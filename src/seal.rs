//! The iron `Fe26.2` seal: authenticated encryption of a JSON value into a cookie-safe
//! string, byte-compatible with [iron-session] 8 (`sealData` / `unsealData`), which is what
//! authkit-nextjs uses for its `wos-session` cookie and its OAuth `state`.
//!
//! A seal written here is read by iron-session and the other way round, given the same
//! password, so a Next.js app and a Leptos app can share one session cookie.
//!
//! # Format
//!
//! ```text
//! Fe26.2*<id>*<encSalt>*<b64url iv>*<b64url ciphertext>*<exp ms>*<macSalt>*<b64url mac>~2
//! ```
//!
//! - `encSalt`/`macSalt`: 32 random bytes as 64 lowercase hex characters. The *ASCII text*
//!   of the hex string is the PBKDF2 salt (as iron does).
//! - Keys: PBKDF2-HMAC-SHA1 of the password, 1 iteration, 32 bytes, one per salt.
//! - Encryption: AES-256-CBC with PKCS#7 padding and a random 16-byte IV over the JSON text.
//! - Integrity: HMAC-SHA256 over everything before `*<macSalt>`, compared in constant time
//!   (as its base64url text, exactly as iron compares it).
//! - `exp` is empty, or the expiry in milliseconds since the Unix epoch; a seal is rejected
//!   once `exp <= now - 60 s` (iron's clock-skew allowance).
//! - `~2` is iron-session's format version. A seal without it is the legacy v1 format,
//!   whose value is the payload's `persistent` field (an empty object when absent),
//!   as in iron-session.
//!
//! # Threat model
//!
//! The password is the real secret: whoever knows it can read and forge every session.
//! PBKDF2 with a single iteration is not a password hash here, only the key schedule iron
//! fixed; it must stay at 1 to read and write the cookies Node apps use. It is safe only
//! because the password is a long random string (at least 32 characters, enforced here and
//! by [`AuthKitConfig`](crate::AuthKitConfig)); never use a human-chosen password.
//!
//! Everything a client sends is checked before any decryption: the shape, the expiry, the
//! password id, then the MAC. Every malformed input yields a [`SealError`], never a panic.
//! Like iron, the version suffix is not covered by the MAC: stripping `~2` from a valid seal
//! turns it into a legacy seal whose value is its `persistent` field, usually `{}`, which
//! then fails to deserialize as a session.
//!
//! Error messages never contain payload data or passwords.
//!
//! [iron-session]: https://github.com/vvo/iron-session

use std::fmt::Write as _;
use std::num::NonZeroU32;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::cipher::{
    DecryptionContext, EncryptionContext, PaddedBlockDecryptingKey, PaddedBlockEncryptingKey,
    UnboundCipherKey, AES_256,
};
use aws_lc_rs::iv::FixedLength;
use aws_lc_rs::{constant_time, hmac, pbkdf2, rand};
use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, URL_SAFE_NO_PAD};
use base64::engine::{DecodePaddingMode, Engine as _};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::config::{PasswordMap, Secret, MIN_COOKIE_PASSWORD_LEN};

/// The first component of every seal.
const MAC_PREFIX: &str = "Fe26.2";
/// The format version iron-session appends after `~`.
const FORMAT_VERSION: &str = "2";
/// How long past its expiry a seal is still accepted (iron's `timestampSkewSec`), in ms.
const TIMESTAMP_SKEW_MS: u64 = 60_000;

const SALT_BYTES: usize = 32;
const SALT_HEX_LEN: usize = SALT_BYTES * 2;
const KEY_LEN: usize = 32;
const IV_LEN: usize = 16;
const BLOCK_LEN: usize = 16;
/// base64url (unpadded) length of a 32-byte HMAC-SHA256 tag.
const MAC_B64_LEN: usize = 43;
/// base64url length of a 16-byte IV, with padding (the longest form accepted).
const IV_B64_MAX_LEN: usize = 24;

/// iron's base64url decoder accepts input with or without `=` padding and ignores the
/// unused trailing bits; this mirrors it. (The parts it decodes are covered by the MAC.)
const B64_DECODE: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Why a value could not be sealed or unsealed.
///
/// For a cookie, any unseal error means "no valid session": treat the visitor as signed
/// out and delete the cookie. The messages never include payload data or passwords.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// The sealed string does not have the 8 `*`-separated components of an iron seal.
    #[error("not an iron seal: it has {found} `*`-separated components instead of 8 (truncated or not a seal)")]
    ComponentCount {
        /// How many components were found.
        found: usize,
    },
    /// The first component is not `Fe26.2`.
    #[error("not an iron seal: it does not start with `Fe26.2`")]
    BadPrefix,
    /// The seal names a password id that is not configured.
    #[error("the seal was made with password id `{id}`, which is not configured (was it rotated out while cookies using it were still live?)")]
    UnknownPasswordId {
        /// The id named in the seal (letters, digits and `_` only; at most 32 shown).
        id: String,
    },
    /// The expiry component is not a whole number of milliseconds.
    #[error("the seal's expiry is not a whole number of milliseconds")]
    InvalidExpiry,
    /// The seal expired (more than 60 s ago).
    #[error("the seal expired at {expired_at_ms} ms since the Unix epoch")]
    Expired {
        /// When it expired, in ms since the Unix epoch.
        expired_at_ms: u64,
    },
    /// The integrity check failed: a different password sealed it, or it was altered.
    #[error(
        "the seal failed its integrity check: it was made with another password or was altered"
    )]
    BadMac,
    /// A component is not valid base64url.
    #[error("the seal's {part} is not valid base64url")]
    Base64 {
        /// `iv` or `ciphertext`.
        part: &'static str,
    },
    /// A component has the wrong length (the IV must be 16 bytes, the ciphertext a
    /// non-empty multiple of 16).
    #[error("the seal's {part} has an invalid length")]
    InvalidLength {
        /// `iv` or `ciphertext`.
        part: &'static str,
    },
    /// Decryption failed (bad padding).
    #[error("the seal could not be decrypted (bad padding)")]
    Decrypt,
    /// The decrypted payload is not UTF-8 text.
    #[error("the sealed payload is not UTF-8 text")]
    NotUtf8,
    /// The decrypted payload is not JSON of the expected shape.
    #[error("the sealed payload is not the expected JSON ({category} error at line {line}, column {column})")]
    Json {
        /// `syntax`, `data` (valid JSON of the wrong shape) or `eof`.
        category: &'static str,
        /// Line of the error in the payload.
        line: usize,
        /// Column of the error in the payload.
        column: usize,
    },
    /// The value could not be serialized to JSON.
    #[error("the value could not be serialized to JSON: {0}")]
    Serialize(#[source] serde_json::Error),
    /// The current password's id cannot appear in a seal.
    #[error("password id `{id}` cannot be used to seal: ids must be letters, digits or `_` (iron's rule)")]
    InvalidPasswordId {
        /// The offending id.
        id: String,
    },
    /// A password is shorter than iron's minimum of 32 characters.
    #[error("the password with id `{id}` is shorter than 32 characters (iron-session's minimum); use a long random string")]
    PasswordTooShort {
        /// The password's id.
        id: String,
    },
    /// The system random number generator failed.
    #[error("the system random number generator failed")]
    Random,
    /// The crypto library rejected an operation that cannot fail on valid input.
    #[error("the crypto library failed to {0}")]
    Crypto(&'static str),
}

impl SealError {
    fn json(e: &serde_json::Error) -> Self {
        use serde_json::error::Category;
        let category = match e.classify() {
            Category::Io => "io",
            Category::Syntax => "syntax",
            Category::Data => "data",
            Category::Eof => "eof",
        };
        // The message is not kept: serde puts offending values (tokens) in it.
        Self::Json {
            category,
            line: e.line(),
            column: e.column(),
        }
    }
}

/// Seals `value` as JSON with the current password of `passwords`, expiring after `ttl`
/// (`None` or zero: never, as authkit-nextjs seals sessions).
///
/// ```
/// use authkit_leptos::{seal, PasswordMap};
/// let passwords = PasswordMap::single("a-random-password-of-at-least-32-chars");
/// let sealed = seal::seal(&serde_json::json!({"hello": "world"}), &passwords, None)?;
/// assert!(sealed.starts_with("Fe26.2*1*") && sealed.ends_with("~2"));
/// let back: serde_json::Value = seal::unseal(&sealed, &passwords)?;
/// assert_eq!(back["hello"], "world");
/// # Ok::<(), seal::SealError>(())
/// ```
pub fn seal<T: Serialize + ?Sized>(
    value: &T,
    passwords: &PasswordMap,
    ttl: Option<Duration>,
) -> Result<String, SealError> {
    seal_at(value, passwords, ttl, now_ms())
}

/// [`seal`] with the current time given, in ms since the Unix epoch (for tests).
pub fn seal_at<T: Serialize + ?Sized>(
    value: &T,
    passwords: &PasswordMap,
    ttl: Option<Duration>,
    now_ms: u64,
) -> Result<String, SealError> {
    let json = serde_json::to_vec(value).map_err(SealError::Serialize)?;
    seal_bytes(json, passwords, ttl, now_ms)
}

/// Seals a JSON value (see [`seal`]). Object keys are written in the order the
/// [`Value`] holds them (sorted, with serde_json's default features); JSON readers,
/// iron-session included, do not depend on the order. Seal a struct to control it.
pub fn seal_json(
    value: &Value,
    passwords: &PasswordMap,
    ttl: Option<Duration>,
) -> Result<String, SealError> {
    seal(value, passwords, ttl)
}

/// Unseals a value sealed by [`seal`] or by iron-session's `sealData`, choosing the password
/// by the id in the seal.
pub fn unseal<T: DeserializeOwned>(sealed: &str, passwords: &PasswordMap) -> Result<T, SealError> {
    unseal_at(sealed, passwords, now_ms())
}

/// [`unseal`] with the current time given, in ms since the Unix epoch (for tests).
pub fn unseal_at<T: DeserializeOwned>(
    sealed: &str,
    passwords: &PasswordMap,
    now_ms: u64,
) -> Result<T, SealError> {
    with_plaintext_buffer(|buf| {
        let opened = open(sealed, passwords, now_ms, buf)?;
        if opened.legacy {
            let value = legacy_value(parse::<Value>(opened.text)?);
            serde_json::from_value(value).map_err(|e| SealError::json(&e))
        } else {
            parse(opened.text)
        }
    })
}

/// Plaintext buffers kept by a thread between unseals up to this capacity, in bytes (a
/// usual session cookie decrypts to 1–3 KiB, a big one's parts to about 3.5 KiB each).
const KEPT_BUFFER_BYTES: usize = 16 * 1024;

std::thread_local! {
    /// The buffer a seal's ciphertext is decoded and decrypted into, reused by the thread:
    /// a fresh 1–3 KiB allocation per request made glibc's allocator consolidate its free
    /// lists first (3 % of a first request, BENCHMARKS.md P1b).
    static PLAINTEXT: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` with the thread's plaintext buffer (a fresh one if it is in use), then
/// overwrites what the buffer held with zeros: a decrypted session (its tokens) does not
/// stay in memory after the unseal.
fn with_plaintext_buffer<R>(f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    PLAINTEXT.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            let result = f(&mut buf);
            buf.fill(0);
            buf.clear();
            if buf.capacity() > KEPT_BUFFER_BYTES {
                *buf = Vec::new();
            }
            result
        }
        Err(_) => {
            let mut buf = Vec::new();
            let result = f(&mut buf);
            buf.fill(0);
            // The buffer is freed next: keep the zeros from being optimised away.
            std::hint::black_box(&buf);
            result
        }
    })
}

/// Unseals to a JSON value (see [`unseal`]). Like iron-session, an empty or `null`
/// payload reads as `{}`.
pub fn unseal_json(sealed: &str, passwords: &PasswordMap) -> Result<Value, SealError> {
    unseal(sealed, passwords)
}

/// [`unseal_json`] with the current time given, in ms since the Unix epoch (for tests).
pub fn unseal_json_at(
    sealed: &str,
    passwords: &PasswordMap,
    now_ms: u64,
) -> Result<Value, SealError> {
    unseal_at(sealed, passwords, now_ms)
}

/// Milliseconds since the Unix epoch (0 if the clock is before it).
fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn parse<T: DeserializeOwned>(text: &str) -> Result<T, SealError> {
    // iron returns `{}` for an empty or `null` payload (`unseal(..) ?? {}`).
    let text = if text.is_empty() || text == "null" {
        "{}"
    } else {
        text
    };
    serde_json::from_str(text).map_err(|e| SealError::json(&e))
}

/// The legacy (v1) value: the payload's `persistent` object, else `{}`.
fn legacy_value(payload: Value) -> Value {
    match payload {
        Value::Object(mut map) => match map.remove("persistent") {
            Some(Value::Object(p)) => Value::Object(p),
            _ => Value::Object(serde_json::Map::new()),
        },
        _ => Value::Object(serde_json::Map::new()),
    }
}

fn check_password(id: &str, password: &Secret) -> Result<(), SealError> {
    // iron counts JavaScript string length, i.e. UTF-16 code units.
    if password.expose().encode_utf16().count() < MIN_COOKIE_PASSWORD_LEN {
        return Err(SealError::PasswordTooShort {
            id: printable_id(id),
        });
    }
    Ok(())
}

fn is_word_id(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// An id from untrusted input, safe to show in a message or log.
fn printable_id(id: &str) -> String {
    id.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(32)
        .collect()
}

fn derive_key(password: &[u8], salt: &[u8]) -> [u8; KEY_LEN] {
    let mut key = [0u8; KEY_LEN];
    pbkdf2::derive(
        pbkdf2::PBKDF2_HMAC_SHA1,
        NonZeroU32::MIN,
        salt,
        password,
        &mut key,
    );
    key
}

/// The base64url text of HMAC-SHA256(PBKDF2(password, salt), base).
fn mac_b64(password: &[u8], salt: &[u8], base: &[u8]) -> Result<[u8; MAC_B64_LEN], SealError> {
    let key = hmac::Key::new(hmac::HMAC_SHA256, &derive_key(password, salt));
    let tag = hmac::sign(&key, base);
    let mut out = [0u8; MAC_B64_LEN];
    match URL_SAFE_NO_PAD.encode_slice(tag.as_ref(), &mut out) {
        Ok(MAC_B64_LEN) => Ok(out),
        _ => Err(SealError::Crypto("encode the MAC")),
    }
}

/// Lowercase hexadecimal of a salt, with no allocation (base16ct, constant time).
fn hex_lower(bytes: &[u8; SALT_BYTES]) -> [u8; SALT_HEX_LEN] {
    let mut out = [0u8; SALT_HEX_LEN];
    // The output is exactly twice the input: the encoder cannot run out of room.
    let _ = base16ct::lower::encode(bytes, &mut out);
    out
}

fn seal_bytes(
    mut data: Vec<u8>,
    passwords: &PasswordMap,
    ttl: Option<Duration>,
    now_ms: u64,
) -> Result<String, SealError> {
    let (id, secret) = passwords.current();
    if !is_word_id(id) {
        return Err(SealError::InvalidPasswordId {
            id: printable_id(id),
        });
    }
    check_password(id, secret)?;
    let password = secret.expose().as_bytes();

    let mut random = [0u8; SALT_BYTES * 2 + IV_LEN];
    rand::fill(&mut random).map_err(|_| SealError::Random)?;
    let (enc_salt, rest) = random.split_at(SALT_BYTES);
    let (mac_salt, iv) = rest.split_at(SALT_BYTES);
    let (Ok(enc_salt), Ok(mac_salt), Ok(iv)) = (
        <&[u8; SALT_BYTES]>::try_from(enc_salt),
        <&[u8; SALT_BYTES]>::try_from(mac_salt),
        <[u8; IV_LEN]>::try_from(iv),
    ) else {
        return Err(SealError::Crypto("split the random bytes"));
    };
    let enc_salt = hex_lower(enc_salt);
    let mac_salt = hex_lower(mac_salt);

    let cipher_key = UnboundCipherKey::new(&AES_256, &derive_key(password, &enc_salt))
        .and_then(PaddedBlockEncryptingKey::cbc_pkcs7)
        .map_err(|_| SealError::Crypto("create the AES key"))?;
    data.reserve(BLOCK_LEN);
    cipher_key
        .less_safe_encrypt(&mut data, EncryptionContext::Iv128(FixedLength::from(iv)))
        .map_err(|_| SealError::Crypto("encrypt"))?;

    let ttl_ms = ttl.map_or(0, |t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX));
    // iron: `ttl ? now + ttl : ""`.
    let exp = (ttl_ms != 0).then(|| now_ms.saturating_add(ttl_ms));

    let ct_b64_len = data.len().div_ceil(3) * 4;
    let mut out = String::with_capacity(
        MAC_PREFIX.len() + id.len() + 2 * SALT_HEX_LEN + 24 + ct_b64_len + 20 + MAC_B64_LEN + 10,
    );
    out.push_str(MAC_PREFIX);
    out.push('*');
    out.push_str(id);
    out.push('*');
    // Hex digits are ASCII.
    out.extend(enc_salt.iter().map(|&b| char::from(b)));
    out.push('*');
    URL_SAFE_NO_PAD.encode_string(iv, &mut out);
    out.push('*');
    URL_SAFE_NO_PAD.encode_string(&data, &mut out);
    out.push('*');
    if let Some(exp) = exp {
        // Writing to a String cannot fail.
        let _ = write!(out, "{exp}");
    }
    let mac = mac_b64(password, &mac_salt, out.as_bytes())?;
    out.push('*');
    out.extend(mac_salt.iter().map(|&b| char::from(b)));
    out.push('*');
    out.extend(mac.iter().map(|&b| char::from(b)));
    out.push('~');
    out.push_str(FORMAT_VERSION);
    Ok(out)
}

/// A verified, decrypted payload.
struct Opened<'a> {
    text: &'a str,
    legacy: bool,
}

/// JavaScript's `parseInt(text, 10)` where it gives an integer: leading white space, an
/// optional sign, then the longest run of ASCII digits (`None` where JavaScript gives `NaN`).
fn js_parse_int(text: &str) -> Option<i64> {
    let text = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let end = digits
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(digits.len());
    if end == 0 {
        return None;
    }
    // Longer runs than fit are not 2 either way.
    let value: i64 = digits[..end].parse().unwrap_or(i64::MAX);
    Some(if negative { -value } else { value })
}

/// Checks and decrypts a seal, in iron's order: shape, prefix, expiry, password, MAC,
/// then decryption. The plaintext lives in `buf`.
fn open<'b>(
    sealed: &str,
    passwords: &PasswordMap,
    now_ms: u64,
    buf: &'b mut Vec<u8>,
) -> Result<Opened<'b>, SealError> {
    // As iron-session's `parseSeal`: `seal.split("~")`, the second piece read with
    // `parseInt(piece, 10)`; exactly 2 is the current format, anything else (no suffix,
    // `~3`, `~x`) is read as the legacy format. `~2x` and `~2~y` are therefore version 2.
    let (body, legacy) = match memchr::memchr(b'~', sealed.as_bytes()) {
        None => (sealed, true),
        Some(at) => {
            let rest = &sealed[at + 1..];
            let piece = rest.split('~').next().unwrap_or_default();
            (&sealed[..at], js_parse_int(piece) != Some(2))
        }
    };

    // `body.split('*')` into eight parts; the separators found with SIMD (the ciphertext
    // makes the body 1–3 KiB).
    let mut parts = [""; 8];
    let mut found = 0usize;
    let mut start = 0usize;
    for star in memchr::memchr_iter(b'*', body.as_bytes()) {
        if let Some(slot) = parts.get_mut(found) {
            *slot = &body[start..star];
        }
        found += 1;
        start = star + 1;
    }
    if let Some(slot) = parts.get_mut(found) {
        *slot = &body[start..];
    }
    found += 1;
    if found != parts.len() {
        return Err(SealError::ComponentCount { found });
    }
    let [prefix, id, enc_salt, iv_b64, ct_b64, exp, mac_salt, mac] = parts;
    // The MAC covers the first six components and their separators.
    let base_len =
        prefix.len() + id.len() + enc_salt.len() + iv_b64.len() + ct_b64.len() + exp.len() + 5;
    let base = body
        .get(..base_len)
        .ok_or(SealError::ComponentCount { found })?;

    if prefix != MAC_PREFIX {
        return Err(SealError::BadPrefix);
    }
    if !exp.is_empty() {
        if !exp.bytes().all(|b| b.is_ascii_digit()) {
            return Err(SealError::InvalidExpiry);
        }
        // JavaScript numbers do not overflow: saturate (a far-future expiry).
        let exp = exp.bytes().fold(0u64, |acc, d| {
            acc.saturating_mul(10).saturating_add(u64::from(d - b'0'))
        });
        if now_ms
            .checked_sub(TIMESTAMP_SKEW_MS)
            .is_some_and(|limit| exp <= limit)
        {
            return Err(SealError::Expired { expired_at_ms: exp });
        }
    }
    let secret = passwords
        .get(id)
        .ok_or_else(|| SealError::UnknownPasswordId {
            id: printable_id(id),
        })?;
    check_password(id, secret)?;
    let password = secret.expose().as_bytes();

    let expected = mac_b64(password, mac_salt.as_bytes(), base.as_bytes())?;
    constant_time::verify_slices_are_equal(&expected, mac.as_bytes())
        .map_err(|_| SealError::BadMac)?;

    if iv_b64.len() > IV_B64_MAX_LEN {
        return Err(SealError::InvalidLength { part: "iv" });
    }
    let mut iv = [0u8; IV_B64_MAX_LEN / 4 * 3];
    let iv_len = B64_DECODE
        .decode_slice(iv_b64, &mut iv)
        .map_err(|_| SealError::Base64 { part: "iv" })?;
    let Some(Ok(iv)) = iv.get(..iv_len).map(<[u8; IV_LEN]>::try_from) else {
        return Err(SealError::InvalidLength { part: "iv" });
    };

    // What iron and this module write is unpadded canonical base64url: the SIMD decoder
    // takes it; anything else iron also accepts goes through the lenient one.
    buf.clear();
    if base64_simd::URL_SAFE_NO_PAD
        .decode_append(ct_b64, buf)
        .is_err()
    {
        buf.clear();
        B64_DECODE
            .decode_vec(ct_b64, buf)
            .map_err(|_| SealError::Base64 { part: "ciphertext" })?;
    }
    if buf.is_empty() || !buf.len().is_multiple_of(BLOCK_LEN) {
        return Err(SealError::InvalidLength { part: "ciphertext" });
    }
    let cipher_key = UnboundCipherKey::new(&AES_256, &derive_key(password, enc_salt.as_bytes()))
        .and_then(PaddedBlockDecryptingKey::cbc_pkcs7)
        .map_err(|_| SealError::Crypto("create the AES key"))?;
    let plain = cipher_key
        .decrypt(buf, DecryptionContext::Iv128(FixedLength::from(iv)))
        .map_err(|_| SealError::Decrypt)?;
    let text = std::str::from_utf8(plain).map_err(|_| SealError::NotUtf8)?;
    Ok(Opened { text, legacy })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PW: &str = "0123456789abcdef0123456789abcdef";
    const PW2: &str = "a-completely-different-password-of-40-ch";
    const NOW: u64 = 1_750_000_000_000;

    fn single() -> PasswordMap {
        PasswordMap::single(PW)
    }

    fn parts(sealed: &str) -> Vec<String> {
        let body = sealed.strip_suffix("~2").unwrap();
        body.split('*').map(str::to_owned).collect()
    }

    /// Re-MACs a seal body whose first six components were changed, so tests can reach
    /// the checks that come after the MAC.
    fn remac(p: &[String], password: &str) -> String {
        let base = p[..6].join("*");
        let mac = mac_b64(password.as_bytes(), p[6].as_bytes(), base.as_bytes()).unwrap();
        format!("{base}*{}*{}~2", p[6], std::str::from_utf8(&mac).unwrap())
    }

    /// As iron's decoder: a ciphertext written with `=` padding or with non-zero unused
    /// trailing bits still opens (the fast decoder refuses both; the lenient one takes
    /// them), and one that is not base64url at all is a `Base64` error.
    #[test]
    fn ciphertext_decoding_is_as_lenient_as_iron() {
        let value = json!({"accessToken": "at", "n": 12345});
        let sealed = seal_at(&value, &single(), None, NOW).unwrap();
        let mut p = parts(&sealed);
        let ct = p[4].clone();
        assert_ne!(
            ct.len() % 4,
            0,
            "this ciphertext's base64 has a partial last group"
        );
        p[4] = format!("{ct}{}", "=".repeat(4 - ct.len() % 4));
        assert_eq!(
            unseal_json_at(&remac(&p, PW), &single(), NOW).unwrap(),
            value
        );
        // Set an unused low bit of the last character (its 6 bits are not all used).
        let (head, last) = ct.split_at(ct.len() - 1);
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let index = alphabet.find(last).unwrap();
        p[4] = format!("{head}{}", &alphabet[(index | 1)..=(index | 1)]);
        assert_ne!(p[4], ct);
        assert_eq!(
            unseal_json_at(&remac(&p, PW), &single(), NOW).unwrap(),
            value
        );
        p[4] = format!("{head}!");
        assert!(matches!(
            unseal_json_at(&remac(&p, PW), &single(), NOW),
            Err(SealError::Base64 { part: "ciphertext" })
        ));
    }

    #[test]
    fn round_trips_with_the_iron_layout() {
        let value = json!({"accessToken": "at", "n": 1, "ü": "日本語 🎉"});
        let sealed = seal_at(&value, &single(), None, NOW).unwrap();
        let p = parts(&sealed);
        assert_eq!(p.len(), 8);
        assert_eq!(p[0], "Fe26.2");
        assert_eq!(p[1], "1");
        for salt in [&p[2], &p[6]] {
            assert_eq!(salt.len(), 64);
            assert!(salt
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        }
        assert_eq!(p[3].len(), 22, "16-byte IV, unpadded base64url");
        assert_eq!(p[5], "", "no ttl, no expiry");
        assert_eq!(p[7].len(), 43);
        assert!(!sealed.contains('='));
        assert_eq!(unseal_json_at(&sealed, &single(), NOW).unwrap(), value);
    }

    #[test]
    fn every_seal_is_fresh() {
        let a = seal_at(&json!({}), &single(), None, NOW).unwrap();
        let b = seal_at(&json!({}), &single(), None, NOW).unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn ttl_sets_the_expiry_and_skew_is_allowed() {
        let sealed = seal_at(
            &json!({"a": 1}),
            &single(),
            Some(Duration::from_secs(600)),
            NOW,
        )
        .unwrap();
        assert_eq!(parts(&sealed)[5], (NOW + 600_000).to_string());
        let exp = NOW + 600_000;
        assert!(unseal_json_at(&sealed, &single(), exp).is_ok());
        assert!(unseal_json_at(&sealed, &single(), exp + 60_000 - 1).is_ok());
        assert!(matches!(
            unseal_json_at(&sealed, &single(), exp + 60_000),
            Err(SealError::Expired { expired_at_ms }) if expired_at_ms == exp
        ));
        // A zero ttl means no expiry, as in iron.
        let sealed = seal_at(&json!({}), &single(), Some(Duration::ZERO), NOW).unwrap();
        assert_eq!(parts(&sealed)[5], "");
        assert!(unseal_json_at(&sealed, &single(), u64::MAX).is_ok());
    }

    #[test]
    fn expiry_near_the_epoch_does_not_underflow() {
        let sealed = seal_at(&json!({}), &single(), Some(Duration::from_millis(1)), 0).unwrap();
        assert!(unseal_json_at(&sealed, &single(), 59_000).is_ok());
    }

    #[test]
    fn wrong_password_fails_the_mac() {
        let sealed = seal_at(&json!({"a": 1}), &single(), None, NOW).unwrap();
        let other = PasswordMap::single(PW2);
        assert!(matches!(
            unseal_json_at(&sealed, &other, NOW),
            Err(SealError::BadMac)
        ));
    }

    #[test]
    fn rotation_seals_with_the_largest_id_and_reads_by_id() {
        let old = seal_at(&json!({"v": "old"}), &single(), None, NOW).unwrap();
        let both = PasswordMap::from_entries([("1", PW), ("2", PW2)]).unwrap();
        let new = seal_at(&json!({"v": "new"}), &both, None, NOW).unwrap();
        assert_eq!(parts(&new)[1], "2");
        assert_eq!(unseal_json_at(&old, &both, NOW).unwrap()["v"], "old");
        assert_eq!(unseal_json_at(&new, &both, NOW).unwrap()["v"], "new");
        match unseal_json_at(&new, &single(), NOW) {
            Err(SealError::UnknownPasswordId { id }) => assert_eq!(id, "2"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn empty_id_is_looked_up_as_default() {
        let map = PasswordMap::from_entries([("default", PW)]).unwrap();
        let sealed = seal_at(&json!({"a": 1}), &map, None, NOW).unwrap();
        let mut p = parts(&sealed);
        p[1] = String::new();
        let resealed = remac(&p, PW);
        assert_eq!(unseal_json_at(&resealed, &map, NOW).unwrap()["a"], 1);
    }

    #[test]
    fn short_passwords_and_bad_ids_are_refused() {
        let short = PasswordMap::single("short");
        assert!(matches!(
            seal_at(&json!({}), &short, None, NOW),
            Err(SealError::PasswordTooShort { .. })
        ));
        let bad_id = PasswordMap::from_entries([("a*b", PW)]).unwrap();
        assert!(matches!(
            seal_at(&json!({}), &bad_id, None, NOW),
            Err(SealError::InvalidPasswordId { .. })
        ));
    }

    #[test]
    fn legacy_seal_without_suffix_returns_persistent() {
        let sealed = seal_at(
            &json!({"persistent": {"a": 1}, "other": 2}),
            &single(),
            None,
            NOW,
        )
        .unwrap();
        let legacy = sealed.strip_suffix("~2").unwrap();
        assert_eq!(
            unseal_json_at(legacy, &single(), NOW).unwrap(),
            json!({"a": 1})
        );
        // Without `persistent`, the legacy value is `{}`.
        let sealed = seal_at(&json!({"a": 1}), &single(), None, NOW).unwrap();
        let legacy = sealed.strip_suffix("~2").unwrap();
        assert_eq!(unseal_json_at(legacy, &single(), NOW).unwrap(), json!({}));
        // Other versions read as legacy, as iron-session reads them.
        let v3 = format!("{legacy}~3");
        assert_eq!(unseal_json_at(&v3, &single(), NOW).unwrap(), json!({}));
    }

    #[test]
    fn version_suffixes_are_read_as_iron_session_reads_them() {
        let data = json!({"a": 1, "persistent": {"p": true}});
        let sealed = seal_at(&data, &single(), None, NOW).unwrap();
        let body = sealed.strip_suffix("~2").unwrap();
        // parseInt("2x") and parseInt("2") of "2~y".split("~")[1] are 2: version 2.
        for v2 in ["~2", "~2x", "~2~y", "~ 2", "~+2", "~02", "~2.5", "~2~"] {
            assert_eq!(
                unseal_json_at(&format!("{body}{v2}"), &single(), NOW).unwrap(),
                data,
                "{v2}"
            );
        }
        // Anything else is the legacy format: its `persistent` field.
        for legacy in ["", "~", "~3", "~x2", "~-2", "~~2", "~99999999999999999999"] {
            assert_eq!(
                unseal_json_at(&format!("{body}{legacy}"), &single(), NOW).unwrap(),
                json!({"p": true}),
                "{legacy:?}"
            );
        }
    }

    #[test]
    fn js_parse_int_matches_javascript() {
        for (text, expected) in [
            ("2", Some(2)),
            ("2x", Some(2)),
            ("  -7y", Some(-7)),
            ("+3", Some(3)),
            ("", None),
            ("x", None),
            ("-", None),
            ("\u{feff}4", Some(4)),
        ] {
            assert_eq!(js_parse_int(text), expected, "{text:?}");
        }
    }

    #[test]
    fn null_payload_reads_as_empty_object() {
        let sealed = seal_at(&json!(null), &single(), None, NOW).unwrap();
        assert_eq!(unseal_json_at(&sealed, &single(), NOW).unwrap(), json!({}));
    }

    #[test]
    fn typed_unseal_reports_shape_errors_without_values() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Wanted {
            n: u64,
        }
        let sealed = seal_at(&json!({"n": "secret-token-value"}), &single(), None, NOW).unwrap();
        let err = unseal_at::<Wanted>(&sealed, &single(), NOW).unwrap_err();
        assert!(
            matches!(
                err,
                SealError::Json {
                    category: "data",
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(!err.to_string().contains("secret-token-value"));
        assert!(!format!("{err:?}").contains("secret-token-value"));
    }

    #[test]
    fn checks_run_in_irons_order() {
        let sealed = seal_at(&json!({"a": 1}), &single(), None, NOW).unwrap();
        let p = parts(&sealed);
        let with = |i: usize, v: &str| {
            let mut q = p.clone();
            q[i] = v.to_owned();
            format!("{}~2", q.join("*"))
        };
        let check = |s: &str| unseal_json_at(s, &single(), NOW).unwrap_err();
        assert!(matches!(check(&with(0, "Fe26.1")), SealError::BadPrefix));
        assert!(matches!(check(&with(5, "12x")), SealError::InvalidExpiry));
        assert!(matches!(check(&with(5, "-1")), SealError::InvalidExpiry));
        assert!(matches!(check(&with(5, "1000")), SealError::Expired { .. }));
        assert!(matches!(
            check(&with(1, "9")),
            SealError::UnknownPasswordId { .. }
        ));
        assert!(matches!(check(&with(7, "AAAA")), SealError::BadMac));
        // A huge (but digit-only) expiry is far future, as a JavaScript number would be.
        let mut q = p.clone();
        q[5] = "9".repeat(40);
        assert!(unseal_json_at(&remac(&q, PW), &single(), NOW).is_ok());
        // Past the MAC: components the MAC covers but that do not decode.
        let mut q = p.clone();
        q[3] = "!!!!".into();
        assert!(matches!(
            check(&remac(&q, PW)),
            SealError::Base64 { part: "iv" }
        ));
        q[3] = "AAAA".into();
        assert!(matches!(
            check(&remac(&q, PW)),
            SealError::InvalidLength { part: "iv" }
        ));
        q[3] = "A".repeat(30);
        assert!(matches!(
            check(&remac(&q, PW)),
            SealError::InvalidLength { part: "iv" }
        ));
        let mut q = p.clone();
        q[4] = "AAAA".into();
        assert!(matches!(
            check(&remac(&q, PW)),
            SealError::InvalidLength { part: "ciphertext" }
        ));
        q[4] = String::new();
        assert!(matches!(
            check(&remac(&q, PW)),
            SealError::InvalidLength { part: "ciphertext" }
        ));
        q[4] = "a.b".into();
        assert!(matches!(
            check(&remac(&q, PW)),
            SealError::Base64 { part: "ciphertext" }
        ));
        // Another IV decrypts the ciphertext to garbage with (most likely) bad padding
        // or non-UTF-8 text; either way it is an error, never a panic.
        let mut q = p.clone();
        q[3] = "AAAAAAAAAAAAAAAAAAAAAA".into();
        q[4] = URL_SAFE_NO_PAD.encode([0u8; 32]);
        assert!(matches!(
            check(&remac(&q, PW)),
            SealError::Decrypt | SealError::NotUtf8 | SealError::Json { .. }
        ));
    }

    #[test]
    fn padded_base64_is_accepted_like_iron() {
        let sealed = seal_at(&json!({"a": 1}), &single(), None, NOW).unwrap();
        let mut p = parts(&sealed);
        p[3].push_str("==");
        assert_eq!(
            unseal_json_at(&remac(&p, PW), &single(), NOW).unwrap()["a"],
            1
        );
    }

    #[test]
    fn the_component_count_is_what_splitting_on_stars_gives() {
        for n in [1usize, 2, 7, 9, 12] {
            let input = vec!["x"; n].join("*") + "~2";
            match unseal_json_at(&input, &single(), NOW) {
                Err(SealError::ComponentCount { found }) => assert_eq!(found, n, "{input}"),
                other => panic!("{input}: {other:?}"),
            }
        }
    }

    #[test]
    fn the_plaintext_buffer_is_emptied_and_stays_bounded() {
        let big = "x".repeat(2 * KEPT_BUFFER_BYTES);
        for (value, kept) in [(json!({"a": 1}), true), (json!({ "big": big }), false)] {
            let sealed = seal_at(&value, &single(), None, NOW).unwrap();
            assert_eq!(unseal_json_at(&sealed, &single(), NOW).unwrap(), value);
            PLAINTEXT.with(|buf| {
                let buf = buf.borrow();
                assert!(buf.is_empty());
                assert_eq!(buf.capacity() > 0, kept, "{}", buf.capacity());
                assert!(buf.capacity() <= KEPT_BUFFER_BYTES);
            });
        }
    }

    #[test]
    fn an_unseal_inside_an_unseal_gets_its_own_buffer() {
        let sealed = seal_at(&json!({"a": 1}), &single(), None, NOW).unwrap();
        with_plaintext_buffer(|outer| {
            outer.extend_from_slice(b"outer");
            assert_eq!(unseal_json_at(&sealed, &single(), NOW).unwrap()["a"], 1);
            assert_eq!(outer.as_slice(), b"outer");
        });
    }

    #[test]
    fn garbage_never_panics() {
        let good = seal_at(
            &json!({"user": "Zoë 山田 🎉"}),
            &single(),
            Some(Duration::from_secs(60)),
            NOW,
        )
        .unwrap();
        let mut inputs: Vec<String> = vec![
            String::new(),
            "~".into(),
            "~2".into(),
            "~~".into(),
            "*".into(),
            "*******".into(),
            "********".into(),
            "*******~2".into(),
            "Fe26.2*******~2".into(),
            "Fe26.2*1*é*é*é*é*é*é~2".into(),
            "Fe26.2*1*🎉*🎉*🎉*🎉*🎉*🎉".into(),
            "Fe26.2*1******".into(),
            "\u{0}\u{0}\u{0}".into(),
            "é".repeat(1000),
            "*".repeat(100_000),
            "A".repeat(1 << 20),
            format!(
                "Fe26.2*1*{}*{}*{}**{}*{}~2",
                "a".repeat(64),
                "A".repeat(22),
                "A".repeat(1 << 20),
                "a".repeat(64),
                "A".repeat(43)
            ),
        ];
        // Every truncation.
        for (i, _) in good.char_indices() {
            inputs.push(good[..i].to_owned());
        }
        // Every single-character substitution, including multibyte ones.
        for (i, c) in good.char_indices() {
            for r in ['A', '*', '~', '0', 'é', '🎉', '\u{0}'] {
                if r != c {
                    let mut s = good[..i].to_owned();
                    s.push(r);
                    s.push_str(&good[i + c.len_utf8()..]);
                    inputs.push(s);
                }
            }
        }
        let stripped = good.strip_suffix("~2").unwrap();
        for input in &inputs {
            let result = unseal_json_at(input, &single(), NOW);
            if input.split('~').next() == Some(stripped) {
                // Only the version suffix changed (the MAC does not cover it, as in iron):
                // iron-session reads anything but a leading 2 as the legacy format, whose
                // value is `persistent`, here `{}`.
                let value = result.unwrap();
                let data = json!({"user": "Zoë 山田 🎉"});
                assert!(value == json!({}) || value == data, "{input:.80}: {value}");
            } else {
                assert!(result.is_err(), "accepted a corrupted seal: {input:.80}");
            }
            let _ = unseal_at::<u64>(input, &single(), NOW);
        }
        assert!(unseal_json_at(&good, &single(), NOW).is_ok());
    }

    #[test]
    fn errors_do_not_echo_untrusted_ids() {
        let sealed = seal_at(&json!({}), &single(), None, NOW).unwrap();
        let mut p = parts(&sealed);
        p[1] = "evil\nid\u{1b}[31m_".repeat(10);
        let input = format!("{}~2", p.join("*"));
        match unseal_json_at(&input, &single(), NOW) {
            Err(SealError::UnknownPasswordId { id }) => {
                assert!(
                    id.len() <= 32 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                );
            }
            other => panic!("{other:?}"),
        }
    }
}

/// Property tests (#11 R1): any JSON value seals and unseals to itself (`null` reads as
/// `{}`, as in iron-session), under any password map, and a seal never unseals under another password.
#[cfg(test)]
mod property_tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::Value;

    fn json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            // Finite floats only: JSON has no NaN or infinity.
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            any::<String>().prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                prop::collection::btree_map(any::<String>(), inner, 0..8)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn any_json_round_trips(value in json(), password in "[ -~]{32,64}", id in 0u32..5) {
            // Ids 0..=4 beside an older "1": the seal names the newest, unsealing picks it.
            let map = PasswordMap::from_entries([
                ("1".to_owned(), "an-older-password-of-32-characters!!".to_owned()),
                (id.to_string(), password.clone()),
            ])
            .unwrap();
            let sealed = seal_json(&value, &map, None).unwrap();
            // iron-session reads a `null` payload as `{}` (`unseal(..) ?? {}`); so does this.
            let expected = if value.is_null() { serde_json::json!({}) } else { value.clone() };
            prop_assert_eq!(&unseal_json(&sealed, &map).unwrap(), &expected);
            // The value is not readable in the seal, and another password cannot open it.
            let other = PasswordMap::single(password + "x");
            prop_assert!(unseal_json(&sealed, &other).is_err());
        }
    }
}
