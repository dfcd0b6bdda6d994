//! The generic `"json"` dialect and the RFC 6901 JSON pointer it reads text with: the
//! string at `text_path` in each SSE payload is the text; anything else (another type, a
//! missing path, non-JSON data) adds nothing, and `data: [DONE]` ends the stream. The
//! pointer is resolved by walking jiter's streaming parser, skipping what is off the path.

use std::borrow::Cow;
use std::fmt;

use jiter::{Jiter, JiterResult, Peek};

use super::json::read_str;
use super::{is_done_marker, Batch, StreamState, Token};

/// A parsed RFC 6901 JSON pointer, e.g. `/choices/0/delta/content`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPointer {
    source: String,
    tokens: Vec<String>,
}

/// Why a string is not an RFC 6901 JSON pointer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPointerError {
    /// The pointer given.
    pub pointer: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl fmt::Display for JsonPointerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not a JSON pointer: {}",
            self.pointer, self.reason
        )
    }
}

impl std::error::Error for JsonPointerError {}

impl JsonPointer {
    /// Parses `pointer`: `""` (the whole document) or `/`-separated reference tokens,
    /// with `~1` for `/` and `~0` for `~`.
    ///
    /// # Errors
    /// [`JsonPointerError`] when it neither is empty nor starts with `/`, or has a `~` not
    /// followed by `0` or `1`.
    pub fn parse(pointer: &str) -> Result<Self, JsonPointerError> {
        let fail = |reason| JsonPointerError {
            pointer: pointer.to_owned(),
            reason,
        };
        let tokens = match pointer.strip_prefix('/') {
            None if pointer.is_empty() => Vec::new(),
            None => return Err(fail("must be empty or start with '/'")),
            Some(rest) => rest
                .split('/')
                .map(|raw| unescape(raw).ok_or_else(|| fail("'~' must be followed by '0' or '1'")))
                .collect::<Result<_, _>>()?,
        };
        Ok(Self {
            source: pointer.to_owned(),
            tokens,
        })
    }

    /// The pointer as given.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The unescaped reference tokens.
    pub fn tokens(&self) -> &[String] {
        &self.tokens
    }

    /// The string at this pointer in `payload`, or `None` when the path is missing or
    /// leads to another type.
    ///
    /// # Errors
    /// The JSON error met while walking to the value.
    pub fn resolve_str<'a>(&self, payload: &'a str) -> JiterResult<Option<Cow<'a, str>>> {
        let mut j = Jiter::new(payload.as_bytes());
        for token in &self.tokens {
            if !step(&mut j, token)? {
                return Ok(None);
            }
        }
        if j.peek()? == Peek::String {
            read_str(&mut j, payload).map(Some)
        } else {
            Ok(None)
        }
    }
}

impl fmt::Display for JsonPointer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// RFC 6901: `~1` → `/`, then `~0` → `~`; any other `~` is invalid.
fn unescape(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '~' {
            match chars.next() {
                Some('0') => out.push('~'),
                Some('1') => out.push('/'),
                _ => return None,
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// Moves `j` onto the member or element `token` names; `false` when there is none.
fn step(j: &mut Jiter<'_>, token: &str) -> JiterResult<bool> {
    match j.peek()? {
        Peek::Object => {
            let mut key = j.known_object()?;
            while let Some(k) = key {
                if k == token {
                    return Ok(true);
                }
                j.next_skip()?;
                key = j.next_key()?;
            }
            Ok(false)
        }
        Peek::Array => {
            // RFC 6901: an array index is "0" or digits without a leading zero.
            let valid = token == "0" || (!token.starts_with('0') && !token.is_empty());
            let Some(target) = token.parse::<usize>().ok().filter(|_| valid) else {
                return Ok(false);
            };
            let mut peek = j.known_array()?;
            let mut position = 0;
            while let Some(p) = peek {
                if position == target {
                    return Ok(true);
                }
                j.known_skip(p)?;
                position += 1;
                peek = j.array_step()?;
            }
            Ok(false)
        }
        _ => Ok(false),
    }
}

/// Decodes one payload of the generic dialect.
pub(super) fn parse<'a>(
    pointer: &JsonPointer,
    payload: &'a str,
    state: &mut StreamState,
    batch: &mut Batch<'a>,
) {
    if is_done_marker(payload) {
        state.done = true;
    } else if let Ok(Some(text)) = pointer.resolve_str(payload) {
        // Non-JSON data is ignored, as is a path that is missing or not a string.
        batch.push(Token {
            text,
            ..Token::at(0)
        });
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::tests::decode_all;
    use super::super::Dialect;
    use super::*;

    fn at(pointer: &str, payload: &str) -> Option<String> {
        JsonPointer::parse(pointer)
            .unwrap()
            .resolve_str(payload)
            .ok()
            .flatten()
            .map(Cow::into_owned)
    }

    #[test]
    fn rfc6901_examples() {
        let doc = r#"{"foo": ["bar", "baz"], "": "0", "a/b": "1", "c%d": "2", "e^f": "3",
            "g|h": "4", "i\\j": "5", "k\"l": "6", " ": "7", "m~n": "8"}"#;
        assert_eq!(at("/foo/0", doc).as_deref(), Some("bar"));
        assert_eq!(at("/foo/1", doc).as_deref(), Some("baz"));
        assert_eq!(at("/", doc).as_deref(), Some("0"));
        assert_eq!(at("/a~1b", doc).as_deref(), Some("1"));
        assert_eq!(at("/c%d", doc).as_deref(), Some("2"));
        assert_eq!(at("/i\\j", doc).as_deref(), Some("5"));
        assert_eq!(at("/k\"l", doc).as_deref(), Some("6"));
        assert_eq!(at("/ ", doc).as_deref(), Some("7"));
        assert_eq!(at("/m~0n", doc).as_deref(), Some("8"));
        assert_eq!(at("", doc), None, "the whole document is not a string");
        assert_eq!(at("", r#""top""#).as_deref(), Some("top"));
    }

    #[test]
    fn missing_paths_and_bad_indexes_give_none() {
        let doc = r#"{"a": [{"b": "x"}], "n": 1}"#;
        assert_eq!(at("/a/0/b", doc).as_deref(), Some("x"));
        assert_eq!(at("/a/1/b", doc), None);
        assert_eq!(at("/a/01/b", doc), None);
        assert_eq!(at("/a/-", doc), None);
        assert_eq!(at("/n", doc), None);
        assert_eq!(at("/n/x", doc), None);
        assert_eq!(at("/zz", doc), None);
    }

    #[test]
    fn invalid_pointers_are_rejected() {
        assert!(JsonPointer::parse("a").is_err());
        assert!(JsonPointer::parse("/a~2").is_err());
        assert!(JsonPointer::parse("/a~").is_err());
        let err = JsonPointer::parse("x").unwrap_err();
        assert!(err.to_string().contains("start with '/'"), "{err}");
        assert_eq!(JsonPointer::parse("/a~1~0").unwrap().tokens(), ["a/~"]);
    }

    #[test]
    fn json_dialect_reads_the_pointer_and_done() {
        let dialect = Dialect::new("json", Some("/delta/text")).unwrap();
        let seen = decode_all(
            &dialect,
            &[
                r#"{"delta":{"text":"a"}}"#,
                "not json",
                r#"{"delta":{"text":7}}"#,
                r#"{"delta":{"text":"b"}}"#,
                "[DONE]",
                r#"{"delta":{"text":"late"}}"#,
            ],
        );
        assert_eq!(seen.text(0), "ab");
        assert!(seen.done);
        assert!(seen.decode_error.is_none());
    }
}
