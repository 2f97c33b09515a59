//! ZEGO's callback signature: `hex(sha1(concat(sort_as_strings([secret, timestamp, nonce]))))`.

use subtle::ConstantTimeEq;

use crate::Error;

/// The default timestamp window, in seconds, on each side of `now`.
pub const DEFAULT_TOLERANCE_SECONDS: u64 = 300;

/// The three values in the order ZEGO hashes them: sorted as byte strings.
fn sorted<'a>(secret: &'a str, timestamp: &'a str, nonce: &'a str) -> [&'a str; 3] {
    // Three compare-and-swaps (a general sort would add kilobytes to the wasm for three items).
    let [mut a, mut b, mut c] = [secret, timestamp, nonce];
    if b < a {
        std::mem::swap(&mut a, &mut b);
    }
    if c < b {
        std::mem::swap(&mut b, &mut c);
    }
    if b < a {
        std::mem::swap(&mut a, &mut b);
    }
    [a, b, c]
}

fn digest(secret: &str, timestamp: &str, nonce: &str) -> [u8; 20] {
    let parts = sorted(secret, timestamp, nonce).map(str::as_bytes);
    let total: usize = parts.iter().map(|p| p.len()).sum();
    // The signing string is short (one or two blocks mostly): it is laid out in blocks here
    // and given to the crate's compression function, without the streaming hasher's buffer
    // management, which costs as much again in wasm.
    let mut state = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    let mut block = [0u8; 64];
    let mut filled = 0;
    for mut rest in parts {
        while !rest.is_empty() {
            let n = rest.len().min(64 - filled);
            block[filled..filled + n].copy_from_slice(&rest[..n]);
            (filled, rest) = (filled + n, &rest[n..]);
            if filled == 64 {
                sha1::block_api::compress(&mut state, &[block]);
                filled = 0;
            }
        }
    }
    // Padding: 0x80, zeros, then the length in bits, big-endian, in the last 8 bytes.
    block[filled] = 0x80;
    block[filled + 1..].fill(0);
    if filled >= 56 {
        sha1::block_api::compress(&mut state, &[block]);
        block = [0; 64];
    }
    block[56..].copy_from_slice(&((total as u64) * 8).to_be_bytes());
    sha1::block_api::compress(&mut state, &[block]);
    let mut out = [0u8; 20];
    for (bytes, word) in out.chunks_exact_mut(4).zip(state) {
        bytes.copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// The signature ZEGO sends for `(secret, timestamp, nonce)`: 40 lowercase hex digits.
///
/// `timestamp` and `nonce` are the texts exactly as they appear in the callback.
///
/// ```
/// assert_eq!(
///     zego_callback::sign("secret", "1470820198", "123412"),
///     "5bd59fd62953a8059fb7eaba95720f66d19e4517"
/// );
/// ```
pub fn sign(secret: &str, timestamp: &str, nonce: &str) -> String {
    hex::encode(digest(secret, timestamp, nonce))
}

/// The string that is hashed: the three values sorted as strings and concatenated.
///
/// It contains the secret; it exists for debugging tools that show it to the secret's owner.
pub fn signing_string(secret: &str, timestamp: &str, nonce: &str) -> String {
    sorted(secret, timestamp, nonce).concat()
}

/// Whether `signature` is the signature of `(timestamp, nonce)` under any of `secrets`.
///
/// The comparison is in constant time and checks the length first, so a truncated signature
/// never matches. Hex digits are accepted in either case. An empty secret is an error, not a
/// secret that anyone can sign with.
pub fn verify_signature<S: AsRef<str>>(
    secrets: &[S],
    timestamp: &str,
    nonce: &str,
    signature: &str,
) -> Result<bool, Error> {
    check_secrets(secrets)?;
    let mut received = [0u8; 20];
    if signature.len() != 40 || hex::decode_to_slice(signature, &mut received).is_err() {
        return Ok(false);
    }
    Ok(secrets
        .iter()
        .any(|s| same_digest(&digest(s.as_ref(), timestamp, nonce), &received)))
}

/// Compares two digests in constant time, as three words (a comparison per byte costs
/// several times more in wasm).
fn same_digest(a: &[u8; 20], b: &[u8; 20]) -> bool {
    let words = |d: &[u8; 20]| {
        let (head, tail) = d.split_at(16);
        let (x, y) = head.split_at(8);
        let w64 = |c: &[u8]| u64::from_le_bytes(c.try_into().unwrap_or_default());
        (
            w64(x),
            w64(y),
            u32::from_le_bytes(tail.try_into().unwrap_or_default()),
        )
    };
    let ((a0, a1, a2), (b0, b1, b2)) = (words(a), words(b));
    bool::from(a0.ct_eq(&b0) & a1.ct_eq(&b1) & a2.ct_eq(&b2))
}

/// Rejects an empty list of secrets and any empty secret in it.
pub(crate) fn check_secrets<S: AsRef<str>>(secrets: &[S]) -> Result<(), Error> {
    if secrets.is_empty() || secrets.iter().any(|s| s.as_ref().is_empty()) {
        return Err(Error::EmptySecret);
    }
    Ok(())
}

/// Checks that `timestamp` is at most `tolerance` seconds before or after `now`.
pub fn check_window(timestamp: i64, now: i64, tolerance: u64) -> Result<(), Error> {
    if timestamp.abs_diff(now) > tolerance {
        return Err(Error::TimestampOutOfWindow {
            timestamp,
            now,
            tolerance,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zego_known_answer() {
        assert_eq!(
            signing_string("secret", "1470820198", "123412"),
            "1234121470820198secret"
        );
        assert_eq!(
            sign("secret", "1470820198", "123412"),
            "5bd59fd62953a8059fb7eaba95720f66d19e4517"
        );
    }

    #[test]
    fn digest_is_sha1_of_the_sorted_parts_at_every_length() {
        use sha1::{Digest, Sha1};
        // Lengths around the block and padding edges (55, 56, 63, 64, 119, 120, ...).
        for len in 0..300 {
            let secret: String = (0..len)
                .map(|i| char::from(b'a' + (i % 26) as u8))
                .collect();
            for (ts, nonce) in [("1470820198", "123412"), ("", ""), ("9", "Z")] {
                let expected: [u8; 20] = Sha1::digest(signing_string(&secret, ts, nonce)).into();
                assert_eq!(
                    digest(&secret, ts, nonce),
                    expected,
                    "secret of {len} bytes"
                );
            }
        }
    }

    #[test]
    fn sorts_any_order_of_three() {
        let (x, y, z) = ("a", "b", "c");
        for [p, q, r] in [
            [x, y, z],
            [x, z, y],
            [y, x, z],
            [y, z, x],
            [z, x, y],
            [z, y, x],
        ] {
            assert_eq!(sorted(p, q, r), [x, y, z]);
        }
        assert_eq!(sorted("b", "a", "a"), ["a", "a", "b"]);
    }

    #[test]
    fn sorts_as_strings_not_numbers() {
        assert_eq!(
            signing_string("secret", "1470820198", "99"),
            "147082019899secret"
        );
        assert_eq!(
            sign("secret", "1470820198", "99"),
            "4702a9c87c9a92ad11088b6c10ce1e734fa9a6b5"
        );
    }

    #[test]
    fn verifies_in_either_hex_case() {
        let sig = "5BD59FD62953A8059FB7EABA95720F66D19E4517";
        assert!(verify_signature(&["secret"], "1470820198", "123412", sig).unwrap());
    }

    #[test]
    fn test_verify_partial_signature() {
        let full = sign("secret", "1470820198", "123412");
        for len in [0, 1, 20, 39] {
            assert!(!verify_signature(&["secret"], "1470820198", "123412", &full[..len]).unwrap());
        }
        let longer = format!("{full}00");
        assert!(!verify_signature(&["secret"], "1470820198", "123412", &longer).unwrap());
    }

    #[test]
    fn any_of_several_secrets_verifies() {
        let sig = sign("new", "1", "2");
        assert!(verify_signature(&["old", "new"], "1", "2", &sig).unwrap());
        assert!(!verify_signature(&["old", "other"], "1", "2", &sig).unwrap());
    }

    #[test]
    fn empty_secrets_are_errors() {
        let none: [&str; 0] = [];
        assert_eq!(
            verify_signature(&none, "1", "2", "x"),
            Err(Error::EmptySecret)
        );
        assert_eq!(
            verify_signature(&["a", ""], "1", "2", "x"),
            Err(Error::EmptySecret)
        );
    }

    #[test]
    fn window_is_symmetric_and_inclusive() {
        assert!(check_window(1000, 1300, 300).is_ok());
        assert!(check_window(1600, 1300, 300).is_ok());
        assert_eq!(
            check_window(999, 1300, 300).unwrap_err().code(),
            "timestamp_out_of_window"
        );
        assert_eq!(
            check_window(1601, 1300, 300).unwrap_err().code(),
            "timestamp_out_of_window"
        );
    }
}
