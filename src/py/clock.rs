//! Arrival times for Python: a Rust `Instant` as the `time.perf_counter_ns()` value of
//! the same moment, so that a token's `received_ns` compares with the caller's clock.
//! Both clocks are the system's monotonic clock; the offset between the two readings is
//! taken once, at the first conversion.

use std::sync::OnceLock;
use std::time::Instant;

use pyo3::prelude::*;

/// An `Instant` and `time.perf_counter_ns()` read back to back.
static ORIGIN: OnceLock<(Instant, u64)> = OnceLock::new();

/// `at` on Python's `time.perf_counter_ns()` clock; `None` if that clock is unreadable.
pub fn perf_counter_ns(py: Python<'_>, at: Instant) -> Option<u64> {
    let (origin, origin_ns) = if let Some(origin) = ORIGIN.get() {
        *origin
    } else {
        let read = py
            .import("time")
            .and_then(|time| time.call_method0("perf_counter_ns"))
            .and_then(|ns| ns.extract::<u64>())
            .ok()?;
        *ORIGIN.get_or_init(|| (Instant::now(), read))
    };
    let ns = match at.checked_duration_since(origin) {
        Some(after) => origin_ns.saturating_add(u64::try_from(after.as_nanos()).ok()?),
        None => origin_ns.saturating_sub(u64::try_from((origin - at).as_nanos()).ok()?),
    };
    Some(ns)
}
