//! The replay guard's rules: what a receiver remembers of each callback it accepts, and what
//! it decides when the same signed values come back.
//!
//! ZEGO signs only the secret, the timestamp and the nonce; the body is not signed. Whoever
//! captures one valid callback can send its `(timestamp, nonce, signature)` again with any
//! body, within the timestamp window. So a receiver claims each signed pair,
//! [`claim_key`], with a digest of the raw body ([`body_digest`]), for as long as a signed
//! timestamp stays acceptable ([`claim_ttl_seconds`]), and [`decide`]s each new arrival:
//!
//! | stored claim          | decision        | answer                                     |
//! |-----------------------|-----------------|--------------------------------------------|
//! | none (or expired)     | [`Claim::New`]  | claim it; handle the callback              |
//! | the same digest       | [`Claim::Same`] | a retry of the same callback: handle again |
//! | another digest        | [`Claim::Other`]| a replay: `replayed_nonce` (409)           |
//!
//! The guard's scope is whatever the signature binds: a secret that signs for one app only
//! can have that app's guard; a secret that signs for several apps (one secret for any app)
//! needs one guard across all of them, or a captured signature replays into each other app.
//!
//! The rules are pure functions: the Worker's `Nonces` objects, the npm module's
//! `ZegoCallbacks` and nonce stores (through the wasm) and a Rust server's [`NonceStore`]
//! (the [`MemoryNonceStore`], or one of its own) all take them from here.

use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};

use crate::Error;

mod store;

pub use store::{MemoryNonceStore, NonceStore, DEFAULT_MAX_ENTRIES};

/// What a claim found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Claim {
    /// Not claimed before: it is now, with this digest.
    New,
    /// Claimed with the same digest: a retry of the same callback, to be handled again.
    Same,
    /// Claimed with another digest: a replay.
    Other,
}

impl Claim {
    /// The decision's name: `new`, `same` or `other` (what the npm nonce stores answer).
    pub fn as_str(self) -> &'static str {
        match self {
            Claim::New => "new",
            Claim::Same => "same",
            Claim::Other => "other",
        }
    }

    /// Reads a decision's name.
    pub fn from_name(name: &str) -> Option<Claim> {
        match name {
            "new" => Some(Claim::New),
            "same" => Some(Claim::Same),
            "other" => Some(Claim::Other),
            _ => None,
        }
    }
}

/// Decides a claim from the digest stored under its key (if any, and not expired).
pub fn decide(stored: Option<&str>, digest: &str) -> Claim {
    match stored {
        None => Claim::New,
        Some(d) if d == digest => Claim::Same,
        Some(_) => Claim::Other,
    }
}

/// The digest a claim holds: SHA-1 of the raw body, lowercase hex.
pub fn body_digest(body: &[u8]) -> String {
    hex::encode(Sha1::digest(body))
}

/// The shortest claim kept, in seconds (also Workers KV's shortest `expirationTtl`).
pub const MIN_CLAIM_SECONDS: u64 = 60;

/// How long a claim is kept: twice the timestamp window (a signed timestamp is accepted
/// from `tolerance` before it to `tolerance` after it), at least [`MIN_CLAIM_SECONDS`].
pub fn claim_ttl_seconds(tolerance_seconds: u64) -> u64 {
    tolerance_seconds.saturating_mul(2).max(MIN_CLAIM_SECONDS)
}

/// The longest nonce a guard stores, in bytes.
pub const MAX_NONCE_BYTES: usize = 512;

/// The key a callback is claimed under: its signed timestamp (in seconds) and nonce, the
/// values its signature covers besides the secret. A retry ZEGO signs again with a new
/// timestamp is a new claim (and is handled again: the live-list rules are idempotent),
/// never a replay of the old one.
///
/// A nonce longer than [`MAX_NONCE_BYTES`] is refused.
pub fn claim_key(timestamp_secs: i64, nonce: &str) -> Result<String, Error> {
    if nonce.len() > MAX_NONCE_BYTES {
        return Err(Error::invalid(
            "nonce",
            format!(
                "{} bytes; the longest accepted is {MAX_NONCE_BYTES}",
                nonce.len()
            ),
        ));
    }
    Ok(format!("{timestamp_secs}:{nonce}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_digest_is_a_retry_another_a_replay() {
        assert_eq!(decide(None, "d1"), Claim::New);
        assert_eq!(decide(Some("d1"), "d1"), Claim::Same);
        assert_eq!(decide(Some("d1"), "d2"), Claim::Other);
        for claim in [Claim::New, Claim::Same, Claim::Other] {
            assert_eq!(Claim::from_name(claim.as_str()), Some(claim));
        }
        assert_eq!(Claim::from_name("NEW"), None);
    }

    #[test]
    fn body_digest_is_sha1_hex() {
        assert_eq!(
            body_digest(b"abc"),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
    }

    #[test]
    fn claims_outlive_both_sides_of_the_window() {
        assert_eq!(claim_ttl_seconds(300), 600);
        assert_eq!(claim_ttl_seconds(0), MIN_CLAIM_SECONDS);
        assert_eq!(claim_ttl_seconds(10), MIN_CLAIM_SECONDS);
        assert_eq!(claim_ttl_seconds(u64::MAX), u64::MAX);
    }

    #[test]
    fn the_key_is_the_signed_pair_and_nonces_are_bounded() {
        assert_eq!(claim_key(1470820198, "a:b").unwrap(), "1470820198:a:b");
        assert_ne!(claim_key(1, "23").unwrap(), claim_key(12, "3").unwrap());
        assert!(claim_key(1, &"n".repeat(MAX_NONCE_BYTES)).is_ok());
        let e = claim_key(1, &"n".repeat(MAX_NONCE_BYTES + 1)).unwrap_err();
        assert_eq!(e.field(), Some("nonce"));
    }
}
