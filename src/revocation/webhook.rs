//! The webhook route: WorkOS events in, verified (`WorkOS-Signature`), then applied.
//!
//! WorkOS signs each delivery with the endpoint's secret: `WorkOS-Signature: t=<unix ms>,
//! v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>` (what `@workos-inc/node`'s
//! `webhooks.constructEvent` checks). A delivery is accepted only when a `v1` signature
//! matches (compared in constant time), its timestamp is within the tolerance (180 s either
//! way, as the Node SDK's default), and that exact signature was not seen before (a replay
//! inside the window). Anything else changes nothing and is answered `400` (no or a
//! malformed header, a body that is not an event) or `401` (wrong signature, outside the
//! window, replayed).

use crate::cache::SeenOnce;
use aws_lc_rs::hmac;
use std::time::Duration;

/// How far a delivery's timestamp may be from now (as `constructEvent`'s default).
pub(crate) const TOLERANCE: Duration = Duration::from_secs(180);

/// How many delivery signatures are remembered against replays (each for twice the
/// tolerance: it can be valid that long).
const SEEN_SIGNATURES: usize = 65_536;

/// The header WorkOS signs deliveries with.
pub(crate) const SIGNATURE_HEADER: &str = "workos-signature";

/// Why a delivery was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Refused {
    #[error("no WorkOS-Signature header")]
    MissingHeader,
    #[error("the WorkOS-Signature header is not `t=<ms>, v1=<hex>`")]
    MalformedHeader,
    #[error("the delivery's timestamp is outside the tolerance")]
    OutsideTolerance,
    #[error("no v1 signature matches")]
    BadSignature,
    #[error("this delivery was seen before")]
    Replayed,
}

impl Refused {
    /// `400` for a request that is not a delivery at all, `401` for one that is not
    /// WorkOS's.
    pub(crate) fn status(&self) -> http::StatusCode {
        match self {
            Self::MissingHeader | Self::MalformedHeader => http::StatusCode::BAD_REQUEST,
            _ => http::StatusCode::UNAUTHORIZED,
        }
    }
}

/// Verifies deliveries for one endpoint secret.
pub(crate) struct Verifier {
    key: hmac::Key,
    seen: SeenOnce,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("webhook::Verifier([redacted])")
    }
}

impl Verifier {
    /// A verifier for the endpoint's `secret`.
    pub(crate) fn new(secret: &str) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes()),
            seen: SeenOnce::new(SEEN_SIGNATURES, TOLERANCE * 2),
        }
    }

    /// Checks one delivery: its `WorkOS-Signature` header value and raw body, at
    /// `now_ms` (Unix milliseconds).
    pub(crate) fn verify(
        &self,
        header: Option<&str>,
        body: &[u8],
        now_ms: u64,
    ) -> Result<(), Refused> {
        let header = header.ok_or(Refused::MissingHeader)?;
        let mut timestamp = None;
        let mut signatures = Vec::new();
        for part in header.split(',') {
            let (name, value) = part
                .trim()
                .split_once('=')
                .ok_or(Refused::MalformedHeader)?;
            match name.trim() {
                "t" => timestamp = Some(value.trim()),
                "v1" => signatures.push(value.trim()),
                // Other schemes WorkOS may add later are not ours to check.
                _ => {}
            }
        }
        let t = timestamp.ok_or(Refused::MalformedHeader)?;
        if signatures.is_empty() {
            return Err(Refused::MalformedHeader);
        }
        let t_ms: u64 = t.parse().map_err(|_| Refused::MalformedHeader)?;
        if now_ms.abs_diff(t_ms) > TOLERANCE.as_millis() as u64 {
            return Err(Refused::OutsideTolerance);
        }
        let mut signed = Vec::with_capacity(t.len() + 1 + body.len());
        signed.extend_from_slice(t.as_bytes());
        signed.push(b'.');
        signed.extend_from_slice(body);
        let matched = signatures.iter().find(|hex| {
            base16ct::mixed::decode_vec(hex.as_bytes())
                .is_ok_and(|tag| hmac::verify(&self.key, &signed, &tag).is_ok())
        });
        let Some(signature) = matched else {
            return Err(Refused::BadSignature);
        };
        let digest = crate::cache::digest(format!("{t}.{signature}").as_bytes());
        if !self.seen.first_use(digest) {
            return Err(Refused::Replayed);
        }
        Ok(())
    }
}

/// `t=<now_ms>, v1=<signature>` for `body` with `secret`, as WorkOS signs (for tests and
/// for `authkit_leptos::testing`).
#[cfg(any(test, feature = "testing"))]
pub(crate) fn sign(secret: &str, body: &[u8], now_ms: u64) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let mut signed = format!("{now_ms}.").into_bytes();
    signed.extend_from_slice(body);
    let tag = hmac::sign(&key, &signed);
    format!(
        "t={now_ms}, v1={}",
        base16ct::lower::encode_string(tag.as_ref())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test";
    const NOW: u64 = 1_764_900_000_000;
    const BODY: &[u8] = br#"{"id":"event_1","event":"session.revoked","data":{"id":"session_1"}}"#;

    #[test]
    fn a_delivery_signed_with_the_secret_passes_once() {
        let v = Verifier::new(SECRET);
        let header = sign(SECRET, BODY, NOW);
        assert_eq!(v.verify(Some(&header), BODY, NOW + 1_000), Ok(()));
        assert_eq!(
            v.verify(Some(&header), BODY, NOW + 2_000),
            Err(Refused::Replayed)
        );
        // WorkOS retrying the same event re-signs it: a new timestamp passes.
        let again = sign(SECRET, BODY, NOW + 5_000);
        assert_eq!(v.verify(Some(&again), BODY, NOW + 5_000), Ok(()));
    }

    #[test]
    fn forged_retimed_and_malformed_deliveries_are_refused() {
        let v = Verifier::new(SECRET);
        let header = sign(SECRET, BODY, NOW);
        let other_body = br#"{"id":"event_1","event":"session.revoked","data":{"id":"session_2"}}"#;
        assert_eq!(
            v.verify(Some(&header), other_body, NOW),
            Err(Refused::BadSignature)
        );
        assert_eq!(
            v.verify(Some(&sign("whsec_other", BODY, NOW)), BODY, NOW),
            Err(Refused::BadSignature)
        );
        // Re-timed: the signature covers the timestamp.
        let retimed = header.replace(&NOW.to_string(), &(NOW + 1).to_string());
        assert_eq!(
            v.verify(Some(&retimed), BODY, NOW),
            Err(Refused::BadSignature)
        );
        // Too old, or from the future.
        assert_eq!(
            v.verify(Some(&header), BODY, NOW + 181_000),
            Err(Refused::OutsideTolerance)
        );
        assert_eq!(
            v.verify(Some(&header), BODY, NOW - 181_000),
            Err(Refused::OutsideTolerance)
        );
        assert_eq!(v.verify(None, BODY, NOW), Err(Refused::MissingHeader));
        for bad in ["", "t=1", "v1=ab", "t=x, v1=ab", "garbage", "t=1; v1=2"] {
            assert!(
                matches!(
                    v.verify(Some(bad), BODY, NOW),
                    Err(Refused::MalformedHeader | Refused::OutsideTolerance)
                ),
                "{bad}"
            );
        }
        assert_eq!(
            v.verify(Some(&format!("t={NOW}, v1=zz")), BODY, NOW),
            Err(Refused::BadSignature)
        );
    }

    #[test]
    fn statuses_say_which_side_is_wrong() {
        assert_eq!(Refused::MalformedHeader.status(), 400);
        assert_eq!(Refused::BadSignature.status(), 401);
        assert_eq!(Refused::Replayed.status(), 401);
    }
}
