//! The provider fixtures (`shared/fixtures/<dialect>/*.json` + body) through
//! [`TokenDecoder`]: each body fed whole, byte by byte and in pseudo-random chunkings
//! must aggregate to the fixture's `expected`, exactly as the fixtures README builds it.
//! The fixtures live at `$SELTZER_FIXTURES`, else `../shared/fixtures` beside the crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use jiter::JsonValue;

use super::{DecodeFailure, TokenDecoder};
use crate::dialect::{Dialect, Token};
use crate::sse::DEFAULT_MAX_EVENT_BYTES;

/// One fixture: its dialect, body and `expected` aggregate.
pub(super) struct Fixture {
    pub name: String,
    pub dialect: Dialect,
    pub body: Vec<u8>,
    pub expected: Aggregate,
}

/// A merged tool call: first id, first name, concatenated arguments.
type Call = (Option<String>, Option<String>, String);

/// The `expected` table of the fixtures README.
#[derive(Debug, Default, Clone, PartialEq)]
pub(super) struct Aggregate {
    pub text: BTreeMap<u32, String>,
    pub reasoning: BTreeMap<u32, String>,
    pub tool_calls: BTreeMap<u32, Call>,
    pub finish_reason: BTreeMap<u32, String>,
    pub usage: Option<Canon>,
    pub done: bool,
    pub error: Option<(Option<String>, String)>,
}

/// JSON with object keys sorted, for comparing "as JSON".
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Canon {
    Null,
    Bool(bool),
    Number(f64),
    Str(String),
    Array(Vec<Canon>),
    Object(BTreeMap<String, Canon>),
}

impl Canon {
    pub(super) fn parse(text: &str) -> Option<Self> {
        JsonValue::parse(text.as_bytes(), false)
            .ok()
            .map(|v| Self::from(&v))
    }
}

impl From<&JsonValue<'_>> for Canon {
    fn from(value: &JsonValue<'_>) -> Self {
        match value {
            JsonValue::Null => Self::Null,
            JsonValue::Bool(b) => Self::Bool(*b),
            #[allow(clippy::cast_precision_loss)]
            JsonValue::Int(i) => Self::Number(*i as f64),
            JsonValue::Float(f) => Self::Number(*f),
            JsonValue::Str(s) => Self::Str(s.to_string()),
            JsonValue::Array(items) => Self::Array(items.iter().map(Self::from).collect()),
            JsonValue::Object(members) => Self::Object(
                members
                    .iter()
                    .map(|(k, v)| (k.to_string(), Self::from(v)))
                    .collect(),
            ),
        }
    }
}

impl Aggregate {
    /// Adds one token as the README says.
    pub(super) fn add(&mut self, token: &Token<'_>) {
        assert!(token.carries_something(), "empty token emitted: {token:?}");
        assert!(!token.event.is_empty() && !token.payload.is_empty());
        if !token.text.is_empty() {
            self.text
                .entry(token.index)
                .or_default()
                .push_str(&token.text);
        }
        if let Some(r) = token.reasoning.as_deref().filter(|r| !r.is_empty()) {
            self.reasoning.entry(token.index).or_default().push_str(r);
        }
        for call in &token.tool_calls {
            let merged = self.tool_calls.entry(call.index).or_default();
            if merged.0.is_none() {
                merged.0 = call.id.as_deref().filter(|s| !s.is_empty()).map(Into::into);
            }
            if merged.1.is_none() {
                merged.1 = call
                    .name
                    .as_deref()
                    .filter(|s| !s.is_empty())
                    .map(Into::into);
            }
            merged.2.push_str(&call.arguments);
        }
        if let Some(reason) = &token.finish_reason {
            self.finish_reason.insert(token.index, reason.to_string());
        }
        if let Some(usage) = &token.usage {
            self.usage = Some(Canon::parse(usage).expect("usage is JSON"));
        }
    }
}

/// Where the fixtures are.
pub(super) fn fixtures_dir() -> PathBuf {
    std::env::var_os("SELTZER_FIXTURES").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures"),
        PathBuf::from,
    )
}

fn get<'v, 's>(object: &'v JsonValue<'s>, key: &str) -> &'v JsonValue<'s> {
    let JsonValue::Object(members) = object else {
        panic!("expected an object holding {key:?}");
    };
    members
        .iter()
        .find(|(k, _)| k == key)
        .map_or(&JsonValue::Null, |(_, v)| v)
}

fn opt_string(value: &JsonValue<'_>) -> Option<String> {
    match value {
        JsonValue::Str(s) => Some(s.to_string()),
        _ => None,
    }
}

fn per_index(value: &JsonValue<'_>) -> BTreeMap<u32, String> {
    let JsonValue::Object(members) = value else {
        return BTreeMap::new();
    };
    members
        .iter()
        .map(|(k, v)| (k.parse().unwrap(), opt_string(v).unwrap()))
        .collect()
}

fn expected_aggregate(expected: &JsonValue<'_>) -> Aggregate {
    let mut tool_calls = BTreeMap::new();
    if let JsonValue::Array(calls) = get(expected, "tool_calls") {
        for call in calls.iter() {
            let JsonValue::Int(index) = get(call, "index") else {
                panic!("tool call without index");
            };
            let arguments = opt_string(get(call, "arguments")).unwrap_or_default();
            tool_calls.insert(
                u32::try_from(*index).unwrap(),
                (
                    opt_string(get(call, "id")),
                    opt_string(get(call, "name")),
                    arguments,
                ),
            );
        }
    }
    let error = match get(expected, "error") {
        JsonValue::Null => None,
        err => Some((
            opt_string(get(err, "type")),
            opt_string(get(err, "message")).unwrap(),
        )),
    };
    Aggregate {
        text: per_index(get(expected, "text")),
        reasoning: per_index(get(expected, "reasoning")),
        tool_calls,
        finish_reason: per_index(get(expected, "finish_reason")),
        usage: match get(expected, "usage") {
            JsonValue::Null => None,
            usage => Some(Canon::from(usage)),
        },
        done: matches!(get(expected, "done"), JsonValue::Bool(true)),
        error,
    }
}

/// Every fixture, sorted by path.
pub(super) fn load_fixtures() -> Vec<Fixture> {
    let dir = fixtures_dir();
    let mut fixtures = Vec::new();
    let dialect_dirs = std::fs::read_dir(&dir).unwrap_or_else(|e| {
        panic!(
            "fixtures not found at {} ({e}); set SELTZER_FIXTURES",
            dir.display()
        )
    });
    let mut specs: Vec<PathBuf> = dialect_dirs
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).into_iter().flatten())
        .map(|f| f.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    specs.sort();
    for spec_path in specs {
        let spec_text = std::fs::read(&spec_path).unwrap();
        let spec = JsonValue::parse(&spec_text, false).unwrap();
        let name = opt_string(get(&spec, "dialect")).unwrap();
        let text_path = opt_string(get(&spec, "text_path"));
        let dialect = Dialect::new(&name, text_path.as_deref()).unwrap();
        let ext = if dialect.is_ndjson() { "ndjson" } else { "sse" };
        let body = std::fs::read(spec_path.with_extension(ext)).unwrap();
        fixtures.push(Fixture {
            name: spec_path.display().to_string(),
            dialect,
            body,
            expected: expected_aggregate(get(&spec, "expected")),
        });
    }
    assert!(
        fixtures.len() >= 30,
        "only {} fixtures in {}",
        fixtures.len(),
        dir.display()
    );
    fixtures
}

/// Feeds `chunks` then flushes, aggregating tokens; stops at a `StreamError`.
pub(super) fn run<'c>(dialect: &Dialect, chunks: impl IntoIterator<Item = &'c [u8]>) -> Aggregate {
    let mut agg = Aggregate::default();
    let mut decoder = TokenDecoder::new(dialect.clone(), DEFAULT_MAX_EVENT_BYTES);
    let mut outcome = Ok(());
    for chunk in chunks {
        outcome = decoder.feed(chunk, |t: &Token<'_>| {
            agg.add(t);
            Ok::<(), DecodeFailure>(())
        });
        if outcome.is_err() {
            break;
        }
    }
    if outcome.is_ok() {
        outcome = decoder.flush(|t: &Token<'_>| {
            agg.add(t);
            Ok::<(), DecodeFailure>(())
        });
    }
    match outcome {
        Ok(()) => {}
        Err(DecodeFailure::Stream(err)) => {
            // The error sticks.
            let again = decoder.feed(b"data: {}\n\n", |_: &Token<'_>| Ok::<(), DecodeFailure>(()));
            assert_eq!(again, Err(DecodeFailure::Stream(err.clone())));
            agg.error = Some((err.type_, err.message));
        }
        Err(other) => panic!("unexpected failure: {other}"),
    }
    agg.done = decoder.done();
    agg
}

/// Splits `body` into pieces of 1..=`max` bytes, pseudo-randomly from `seed`.
pub(super) fn chunked(body: &[u8], seed: u64, max: usize) -> Vec<&[u8]> {
    let mut state = seed | 1;
    let mut pieces = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        // xorshift64
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let len = usize::try_from(state % max as u64).unwrap() + 1;
        let (piece, after) = rest.split_at(len.min(rest.len()));
        pieces.push(piece);
        rest = after;
    }
    pieces
}

fn assert_matches(fixture: &Fixture, how: &str, got: &Aggregate) {
    let expected = &fixture.expected;
    let lenient_args = matches!(fixture.dialect, Dialect::Gemini | Dialect::Ollama);
    let mut got = got.clone();
    if lenient_args {
        // "arguments = args serialized as JSON (any serialization of the same object)".
        for ((_, want), (_, have)) in expected.tool_calls.iter().zip(got.tool_calls.iter_mut()) {
            if Canon::parse(&want.2).is_some() && Canon::parse(&want.2) == Canon::parse(&have.2) {
                have.2.clone_from(&want.2);
            }
        }
    }
    assert_eq!(&got, expected, "{} fed {how}", fixture.name);
}

#[test]
fn every_fixture_matches_expected_fed_whole_bytewise_and_chunked() {
    for fixture in load_fixtures() {
        let body = fixture.body.as_slice();
        assert_matches(&fixture, "whole", &run(&fixture.dialect, [body]));
        assert_matches(
            &fixture,
            "byte by byte",
            &run(&fixture.dialect, body.chunks(1)),
        );
        for seed in [1, 7, 42, 1234, 99_991] {
            for max in [3, 17, 256, 4096] {
                let pieces = chunked(body, seed, max);
                let how = format!("in chunks (seed {seed}, max {max})");
                assert_matches(&fixture, &how, &run(&fixture.dialect, pieces));
            }
        }
    }
}

#[test]
fn every_dialect_has_a_fixture() {
    let fixtures = load_fixtures();
    for name in crate::dialect::DIALECT_NAMES {
        assert!(
            fixtures.iter().any(|f| f.dialect.name() == name),
            "no fixture for {name}"
        );
    }
}
