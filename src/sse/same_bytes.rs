//! [`same_bytes`]: equality of two short byte strings without a `memcmp` call. The
//! strings compared once per event (an event type, the end of a payload) are mostly
//! shorter than 33 bytes, where the call costs more than the comparison.

// Measured: left to the inliner, `same_bytes` stays a call of its own.
#![allow(
    clippy::inline_always,
    reason = "a call costs as much as the comparison"
)]

/// Whether `a` and `b` hold the same bytes; inline loads up to 32 bytes, `memcmp` above.
#[inline(always)]
pub fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    match a.len() {
        // Two overlapping words cover the whole of each string.
        8..=16 => words::<8>(a, b),
        17..=32 => words::<16>(a, b),
        0..=7 => a.iter().zip(b).all(|(x, y)| x == y),
        _ => a == b,
    }
}

/// Compares the first and the last `N` bytes of `a` and `b` (`N <= len <= 2N`).
#[inline(always)]
fn words<const N: usize>(a: &[u8], b: &[u8]) -> bool {
    a.first_chunk::<N>() == b.first_chunk::<N>() && a.last_chunk::<N>() == b.last_chunk::<N>()
}

#[cfg(test)]
mod tests {
    use super::same_bytes;

    #[test]
    fn agrees_with_slice_equality_at_every_length_and_position() {
        let base: Vec<u8> = (0u8..80).collect();
        for len in 0..70 {
            let a = &base[..len];
            assert!(same_bytes(a, a), "len {len}");
            assert!(!same_bytes(a, &base[..=len]), "len {len} vs {}", len + 1);
            for at in 0..len {
                let mut b = a.to_vec();
                b[at] ^= 0x80;
                assert!(!same_bytes(a, &b), "len {len}, byte {at} differs");
            }
        }
    }
}
