//! seltzer: streamed LLM responses to tokens. Module declarations and the registration
//! of the Python extension `seltzer._core`; the work happens in the modules.

pub mod dialect;
pub mod mock;
pub mod ndjson;
pub mod sse;
pub mod token;
pub mod transport;

#[cfg(feature = "python")]
mod py;

/// The extension module `seltzer._core`.
#[cfg(feature = "python")]
#[pyo3::pymodule]
#[pyo3(name = "_core")]
fn core_module(m: &pyo3::Bound<'_, pyo3::types::PyModule>) -> pyo3::PyResult<()> {
    py::register(m)
}
