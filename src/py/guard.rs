//! Panic containment: every entry point from Python runs inside `guard`, so that a bug
//! surfaces as a `SeltzerError` instead of pyo3's `PanicException` (a `BaseException`).

use std::panic::{catch_unwind, AssertUnwindSafe};

use pyo3::PyResult;

use super::errors::SeltzerError;

/// Runs `f`, turning a Rust panic into `SeltzerError("internal error: ...")`.
pub fn guard<T>(f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(ToString::to_string)
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            Err(SeltzerError::new_err(format!(
                "internal error in seltzer (please report it): {what}"
            )))
        }
    }
}
