//! HMAC-SHA-256 (RFC 2104) over SHA-256, for nonces and flow tokens the relay must recognise
//! as its own without remembering them.

use sha2::{Digest, Sha256};

/// SHA-256's block size in bytes.
const BLOCK: usize = 64;

/// A secret key drawn from the caller's RNG when the relay starts.
#[derive(Clone)]
pub(crate) struct Key([u8; 32]);

impl Key {
    /// A key from four random words.
    pub(crate) fn from_words(words: [u64; 4]) -> Key {
        let mut key = [0u8; 32];
        for (chunk, word) in key.chunks_exact_mut(8).zip(words) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        Key(key)
    }

    /// `HMAC-SHA-256(key, parts[0] || parts[1] || ...)`.
    pub(crate) fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut padded = [0u8; BLOCK];
        padded[..self.0.len()].copy_from_slice(&self.0);
        let mut inner = Sha256::new();
        inner.update(padded.map(|b| b ^ 0x36));
        for part in parts {
            inner.update(part);
        }
        let mut outer = Sha256::new();
        outer.update(padded.map(|b| b ^ 0x5c));
        outer.update(inner.finalize());
        outer.finalize().into()
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::users::hex;

    #[test]
    fn rfc4231_test_case_1() {
        // RFC 4231 test case 1: key = 0x0b * 20 (we zero-pad to 32, which HMAC does anyway).
        let mut raw = [0u8; 32];
        raw[..20].copy_from_slice(&[0x0b; 20]);
        let key = Key(raw);
        assert_eq!(
            hex(&key.mac(&[b"Hi There"])),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        // Split input gives the same MAC as joined input.
        assert_eq!(key.mac(&[b"Hi ", b"There"]), key.mac(&[b"Hi There"]));
    }
}
