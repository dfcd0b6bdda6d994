//! Fault injection: the faults a server (config) or a request (header `x-mock-fault`)
//! can ask for, and their syntax. Where in a stream each one acts is `stream.rs`'s job;
//! what the provider's own error looks like is each wire format's.
//!
//! Token positions are 0-based counts of token events already sent: `drop@3` sends three
//! token events and closes the connection; `malformed@3` breaks the fourth token event.

use std::fmt;
use std::str::FromStr;

/// The largest `oversize@N:BYTES` event served (64 MiB), so a request cannot make the
/// server allocate without bound.
pub const MAX_OVERSIZE_BYTES: usize = 64 * 1024 * 1024;

/// One injected fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// `status:CODE`: answer with this HTTP status and the provider's JSON error body
    /// (`Retry-After` on 429 and 503).
    Status(u16),
    /// `error-event@N`: the provider's own in-stream error event after N token events.
    ErrorEvent(u32),
    /// `drop@N`: close the connection after N token events, without the last chunk.
    Drop(u32),
    /// `drop-mid@N`: send half of token event N (0-based), then close.
    DropMid(u32),
    /// `drop-utf8@N`: token event N carries a multi-byte character; close inside it.
    DropUtf8(u32),
    /// `stall@N:MS`: after N token events, send nothing for MS milliseconds, then go on.
    Stall(u32, u64),
    /// `malformed@N`: token event N (0-based) is broken JSON (its closing brace removed).
    Malformed(u32),
    /// `bad-utf8@N`: token event N's text is followed by the invalid bytes `FF FE`.
    BadUtf8(u32),
    /// `oversize@N:BYTES`: token event N is padded (a `mock_padding` field) to BYTES bytes.
    Oversize(u32, usize),
    /// `content-type`: an event-stream body labelled `application/json`.
    ContentType,
    /// `no-done`: the stream ends cleanly but without its terminal marker.
    NoDone,
}

/// A fault spec that does not parse; says what was given and what is accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultParseError(pub String);

impl fmt::Display for FaultParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid fault {:?}: expected status:CODE, error-event@N, drop@N, drop-mid@N, \
             drop-utf8@N, stall@N:MS, malformed@N, bad-utf8@N, oversize@N:BYTES, \
             content-type or no-done",
            self.0
        )
    }
}

impl std::error::Error for FaultParseError {}

impl FromStr for Fault {
    type Err = FaultParseError;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let err = || FaultParseError(spec.to_owned());
        let spec_t = spec.trim();
        match spec_t {
            "content-type" => return Ok(Self::ContentType),
            "no-done" => return Ok(Self::NoDone),
            _ => {}
        }
        if let Some(code) = spec_t.strip_prefix("status:") {
            let code: u16 = code.parse().map_err(|_| err())?;
            return if (400..=599).contains(&code) {
                Ok(Self::Status(code))
            } else {
                Err(err())
            };
        }
        let (name, arg) = spec_t.split_once('@').ok_or_else(err)?;
        let (n, extra) = match arg.split_once(':') {
            Some((n, extra)) => (n, Some(extra)),
            None => (arg, None),
        };
        let n: u32 = n.parse().map_err(|_| err())?;
        let fault = match (name, extra) {
            ("error-event", None) => Self::ErrorEvent(n),
            ("drop", None) => Self::Drop(n),
            ("drop-mid", None) => Self::DropMid(n),
            ("drop-utf8", None) => Self::DropUtf8(n),
            ("malformed", None) => Self::Malformed(n),
            ("bad-utf8", None) => Self::BadUtf8(n),
            ("stall", Some(ms)) => Self::Stall(
                n,
                ms.parse::<u64>()
                    .map_err(|_| err())?
                    .min(super::config::MAX_DELAY_MS),
            ),
            ("oversize", Some(bytes)) => {
                let bytes: usize = bytes.parse().map_err(|_| err())?;
                if bytes > MAX_OVERSIZE_BYTES {
                    return Err(err());
                }
                Self::Oversize(n, bytes)
            }
            _ => return Err(err()),
        };
        Ok(fault)
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Status(code) => write!(f, "status:{code}"),
            Self::ErrorEvent(n) => write!(f, "error-event@{n}"),
            Self::Drop(n) => write!(f, "drop@{n}"),
            Self::DropMid(n) => write!(f, "drop-mid@{n}"),
            Self::DropUtf8(n) => write!(f, "drop-utf8@{n}"),
            Self::Stall(n, ms) => write!(f, "stall@{n}:{ms}"),
            Self::Malformed(n) => write!(f, "malformed@{n}"),
            Self::BadUtf8(n) => write!(f, "bad-utf8@{n}"),
            Self::Oversize(n, bytes) => write!(f, "oversize@{n}:{bytes}"),
            Self::ContentType => f.write_str("content-type"),
            Self::NoDone => f.write_str("no-done"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spec_round_trips() {
        for spec in [
            "status:429",
            "status:503",
            "error-event@5",
            "drop@0",
            "drop-mid@2",
            "drop-utf8@1",
            "stall@3:250",
            "malformed@4",
            "bad-utf8@0",
            "oversize@1:70000",
            "content-type",
            "no-done",
        ] {
            let fault: Fault = spec.parse().unwrap();
            assert_eq!(fault.to_string(), spec);
        }
    }

    #[test]
    fn bad_specs_are_errors_not_panics() {
        for spec in [
            "",
            "drop",
            "drop@",
            "drop@x",
            "stall@1",
            "status:200",
            "status:abc",
            "oversize@1",
            "oversize@1:999999999999",
            "explode@3",
            "drop@1:2",
            "@@@",
        ] {
            assert!(spec.parse::<Fault>().is_err(), "{spec}");
        }
    }
}
