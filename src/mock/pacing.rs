//! When each token event is due: time to first token, inter-token interval, seeded
//! uniform jitter and an injected stall, as absolute deadlines from the request's start
//! (so pacing does not drift). Waiting for them is `stream.rs`'s job.

use std::time::Duration;

use tokio::time::Instant;

use super::config::Pacing;
use super::text::mix;

/// The deadlines of one response's token events.
#[derive(Debug, Clone)]
pub(crate) struct Schedule {
    start: Instant,
    ttft: Duration,
    itl: Duration,
    jitter_us: u64,
    seed: u64,
    /// Token events per step (the `n` choices of one step are due together).
    per_step: u64,
    /// `(after, extra)`: events from `after` on are `extra` later.
    stall: Option<(u64, Duration)>,
}

impl Schedule {
    /// The schedule of a response that started at `start`.
    pub fn new(start: Instant, pacing: &Pacing, seed: u64, per_step: u32) -> Self {
        let stall = match pacing.fault {
            Some(super::faults::Fault::Stall(after, ms)) => {
                Some((u64::from(after), Duration::from_millis(ms)))
            }
            _ => None,
        };
        Self {
            start,
            ttft: Duration::from_millis(pacing.ttft_ms),
            itl: Duration::from_micros(pacing.itl_us),
            jitter_us: pacing.jitter_ms.saturating_mul(1000),
            seed: mix(seed ^ 0x0071_77E2),
            per_step: u64::from(per_step.max(1)),
            stall,
        }
    }

    /// Whether no token ever waits (the fast path: no clock reads).
    pub fn is_immediate(&self) -> bool {
        self.ttft.is_zero() && self.itl.is_zero() && self.jitter_us == 0 && self.stall.is_none()
    }

    /// When token event `seq` (0-based, all choices counted) is due.
    pub fn due(&self, seq: u64) -> Instant {
        let step = seq / self.per_step;
        let steps = u32::try_from(step).unwrap_or(u32::MAX);
        let mut offset = self.ttft.saturating_add(self.itl.saturating_mul(steps));
        if self.jitter_us > 0 {
            let jitter = mix(self.seed ^ step) % self.jitter_us.saturating_add(1);
            offset = offset.saturating_add(Duration::from_micros(jitter));
        }
        if let Some((after, extra)) = self.stall {
            if seq >= after {
                offset = offset.saturating_add(extra);
            }
        }
        // Delays are capped (a day each), but `n * tokens` steps of them may not be.
        self.start
            .checked_add(offset)
            .unwrap_or_else(|| self.start + Duration::from_secs(365 * 86_400))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::config::MockConfig;
    use crate::mock::faults::Fault;

    fn pacing(ttft: u64, itl: u64, jitter: u64, fault: Option<Fault>) -> Pacing {
        let mut p = Pacing::resolve(&MockConfig::default(), &hyper::HeaderMap::new()).unwrap();
        (p.ttft_ms, p.itl_us, p.jitter_ms, p.fault) =
            (ttft, itl.saturating_mul(1000), jitter, fault);
        p
    }

    #[test]
    fn deadlines_follow_ttft_itl_and_stall() {
        let start = Instant::now();
        let s = Schedule::new(start, &pacing(100, 10, 0, Some(Fault::Stall(3, 500))), 1, 1);
        assert!(!s.is_immediate());
        assert_eq!(s.due(0) - start, Duration::from_millis(100));
        assert_eq!(s.due(2) - start, Duration::from_millis(120));
        assert_eq!(s.due(3) - start, Duration::from_millis(630));
    }

    #[test]
    fn jitter_is_bounded_and_seeded() {
        let start = Instant::now();
        let a = Schedule::new(start, &pacing(0, 10, 5, None), 7, 1);
        let b = Schedule::new(start, &pacing(0, 10, 5, None), 7, 1);
        for k in 0..100 {
            assert_eq!(a.due(k), b.due(k));
            let off = (a.due(k) - start)
                .checked_sub(Duration::from_millis(10 * k))
                .unwrap();
            assert!(off <= Duration::from_millis(5));
        }
    }

    #[test]
    fn huge_delays_do_not_overflow() {
        let start = Instant::now();
        let s = Schedule::new(
            start,
            &pacing(
                u64::MAX,
                u64::MAX,
                u64::MAX,
                Some(Fault::Stall(0, u64::MAX)),
            ),
            1,
            128,
        );
        assert!(s.due(u64::MAX) > start);
        let mut headers = hyper::HeaderMap::new();
        headers.insert(
            crate::mock::HEADER_JITTER_MS,
            hyper::header::HeaderValue::from_static("18446744073709551615"),
        );
        let p = Pacing::resolve(&MockConfig::default(), &headers).unwrap();
        assert_eq!(p.jitter_ms, crate::mock::config::MAX_DELAY_MS);
        assert!(Schedule::new(start, &p, 1, 1).due(u64::MAX) > start);
    }

    #[test]
    fn choices_of_one_step_are_due_together() {
        let start = Instant::now();
        let s = Schedule::new(start, &pacing(0, 10, 0, None), 1, 3);
        assert_eq!(s.due(0), s.due(2));
        assert_eq!(s.due(3) - start, Duration::from_millis(10));
        assert!(Schedule::new(start, &pacing(0, 0, 0, None), 1, 1).is_immediate());
    }
}
