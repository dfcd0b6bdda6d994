//! Small readers over a streaming [`JsonRead`] (jiter's [`Jiter`] or the fast
//! `scan::Scanner`) that the dialects share: strings borrowed from the payload when they
//! hold no escapes, optional fields that tolerate `null` or an unexpected type (skipped,
//! still validated), and raw JSON text of a value. Which fields matter is each dialect's
//! business.

use std::borrow::Cow;

use jiter::{Jiter, JiterResult, Peek};

use super::read::JsonRead;
use memchr::memchr;

use super::StreamError;

/// Whether `bytes` holds a backslash (a JSON escape); a plain loop for the short
/// strings most tokens are, `memchr` for long ones.
fn has_backslash(bytes: &[u8]) -> bool {
    if bytes.len() < 32 {
        bytes.contains(&b'\\')
    } else {
        memchr(b'\\', bytes).is_some()
    }
}

/// Reads the string whose opening quote `j` has just peeked at, borrowing it from
/// `payload` when it holds no escapes.
pub(crate) fn read_str<'a>(j: &mut impl JsonRead, payload: &'a str) -> JiterResult<Cow<'a, str>> {
    let quote = j.current_index();
    let raw_len = j.known_bytes()?.len();
    let inner_start = quote + 1;
    if let Some(inner) = payload.get(inner_start..inner_start + raw_len) {
        if !has_backslash(inner.as_bytes()) {
            return Ok(Cow::Borrowed(inner));
        }
    }
    // Escapes: decode the (already validated) string on its own.
    let quoted = payload
        .as_bytes()
        .get(quote..inner_start + raw_len + 1)
        .unwrap_or_default();
    let mut sub = Jiter::new(quoted);
    let decoded = sub
        .next_str()
        .map_err(|mut err| {
            err.index += quote;
            err
        })?
        .to_owned();
    Ok(Cow::Owned(decoded))
}

/// The next value when it is a string; any other value is skipped and gives `None`.
pub(crate) fn opt_str<'a>(
    j: &mut impl JsonRead,
    payload: &'a str,
) -> JiterResult<Option<Cow<'a, str>>> {
    let peek = j.peek()?;
    if peek == Peek::String {
        read_str(j, payload).map(Some)
    } else {
        j.known_skip(peek)?;
        Ok(None)
    }
}

/// The next value when it is a non-empty string; anything else gives `None`.
pub(crate) fn opt_text<'a>(
    j: &mut impl JsonRead,
    payload: &'a str,
) -> JiterResult<Option<Cow<'a, str>>> {
    Ok(opt_str(j, payload)?.filter(|s| !s.is_empty()))
}

/// The next value when it is an integer that fits a `u32`; anything else gives `None`.
pub(crate) fn opt_u32(j: &mut impl JsonRead) -> JiterResult<Option<u32>> {
    let peek = j.peek()?;
    if peek.is_num() {
        let bytes = j.known_number_bytes(peek)?;
        Ok(parse_u32(bytes))
    } else {
        j.known_skip(peek)?;
        Ok(None)
    }
}

/// The value of a JSON number's text when it is an integer that fits a `u32` (what
/// `str::parse::<u32>` gives for JSON number text, without the UTF-8 check).
pub(crate) fn parse_u32(bytes: &[u8]) -> Option<u32> {
    if bytes.is_empty() {
        return None;
    }
    bytes.iter().try_fold(0u32, |acc, &b| {
        let digit = b.checked_sub(b'0').filter(|d| *d < 10)?;
        acc.checked_mul(10)?.checked_add(u32::from(digit))
    })
}

/// The next value when it is a boolean; anything else gives `None`.
pub(crate) fn opt_bool(j: &mut impl JsonRead) -> JiterResult<Option<bool>> {
    let peek = j.peek()?;
    if matches!(peek, Peek::True | Peek::False) {
        j.known_bool(peek).map(Some)
    } else {
        j.known_skip(peek)?;
        Ok(None)
    }
}

/// The raw JSON text of the next value, or `None` when it is `null`.
pub(crate) fn raw_value<'a>(
    j: &mut impl JsonRead,
    payload: &'a str,
) -> JiterResult<Option<&'a str>> {
    let peek = j.peek()?;
    if peek == Peek::Null {
        j.known_null()?;
        return Ok(None);
    }
    let start = j.current_index();
    j.known_skip(peek)?;
    Ok(payload.get(start..j.current_index()))
}

/// A string as itself, a number as its JSON text (error codes come as either).
pub(crate) fn opt_code<'a>(
    j: &mut impl JsonRead,
    payload: &'a str,
) -> JiterResult<Option<Cow<'a, str>>> {
    let peek = j.peek()?;
    if peek == Peek::String {
        read_str(j, payload).map(Some)
    } else if peek.is_num() {
        let start = j.current_index();
        j.known_skip(peek)?;
        Ok(payload.get(start..j.current_index()).map(Cow::Borrowed))
    } else {
        j.known_skip(peek)?;
        Ok(None)
    }
}

/// Enters the next value when it is an array, giving the peek at its first element; any
/// other value is skipped and reads as an empty array.
pub(crate) fn enter_array(j: &mut impl JsonRead) -> JiterResult<Option<Peek>> {
    let peek = j.peek()?;
    if peek == Peek::Array {
        j.known_array()
    } else {
        j.known_skip(peek)?;
        Ok(None)
    }
}

/// The fields of an error object: `type`, `code`, `message`, `status`.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct ErrorFields<'a> {
    /// `type` (most providers).
    pub type_: Option<Cow<'a, str>>,
    /// `code`, a string or a number's JSON text.
    pub code: Option<Cow<'a, str>>,
    /// `message`.
    pub message: Option<Cow<'a, str>>,
    /// `status` (gemini).
    pub status: Option<Cow<'a, str>>,
    /// The error was a bare string rather than an object.
    pub bare: Option<Cow<'a, str>>,
}

impl ErrorFields<'_> {
    /// Whether the value read was `null` (or otherwise said nothing).
    pub(crate) fn is_empty(&self) -> bool {
        self.type_.is_none()
            && self.code.is_none()
            && self.message.is_none()
            && self.status.is_none()
            && self.bare.is_none()
    }

    /// The [`StreamError`]: typed by `type` (gemini: `status`), else by `code`.
    pub(crate) fn into_stream_error(self, use_status: bool) -> StreamError {
        let Self {
            type_,
            code,
            message,
            status,
            bare,
        } = self;
        let (type_, message) = match bare {
            Some(bare) => (None, bare),
            None if use_status => (status.or(code), message.unwrap_or_default()),
            None => (type_.or(code), message.unwrap_or_default()),
        };
        StreamError {
            type_: type_.map(Cow::into_owned),
            message: message.into_owned(),
        }
    }
}

/// The members of an error object.
const ERROR: Keys = Keys(&["type", "code", "message", "status"]);

/// Reads an error value: an object with `type` / `code` / `message` / `status`, or a
/// bare string (its message); `null` reads as empty.
pub(crate) fn read_error<'a>(
    j: &mut impl JsonRead,
    payload: &'a str,
) -> JiterResult<ErrorFields<'a>> {
    let mut fields = ErrorFields::default();
    let peek = j.peek()?;
    if peek == Peek::String {
        fields.bare = Some(read_str(j, payload)?);
        return Ok(fields);
    }
    let mut key = ERROR.enter(j)?;
    while let Some(k) = key {
        match k {
            "type" => fields.type_ = opt_str(j, payload)?,
            "code" => fields.code = opt_code(j, payload)?,
            "message" => fields.message = opt_str(j, payload)?,
            "status" => fields.status = opt_str(j, payload)?,
            _ => j.next_skip()?,
        }
        key = ERROR.next(j)?;
    }
    Ok(fields)
}

/// Whether `a == b`, without a call to `memcmp`: member names are a few bytes long, and
/// most candidates differ in length.
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// The member names a reader cares about; keys are matched on their raw bytes (no
/// decoding, no UTF-8 check), and only keys holding escapes are decoded first.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Keys(pub &'static [&'static str]);

/// What [`Keys`] returns for a member name not in its list.
pub(crate) const OTHER: &str = "";

impl Keys {
    #[inline]
    fn lookup(self, raw: &[u8]) -> &'static str {
        let found = self.0.iter().find(|name| same_bytes(name.as_bytes(), raw));
        match found {
            Some(name) => name,
            // Names hold no escapes: only an escaped key can still match.
            None if has_backslash(raw) => self.lookup_escaped(raw),
            None => OTHER,
        }
    }

    #[cold]
    fn lookup_escaped(self, raw: &[u8]) -> &'static str {
        let mut quoted = Vec::with_capacity(raw.len() + 2);
        quoted.push(b'"');
        quoted.extend_from_slice(raw);
        quoted.push(b'"');
        let mut sub = Jiter::new(&quoted);
        match sub.next_str() {
            Ok(name) => self
                .0
                .iter()
                .find(|n| **n == name)
                .copied()
                .unwrap_or(OTHER),
            Err(_) => OTHER,
        }
    }

    /// Enters the object that must come next (an error otherwise); its first key.
    #[inline]
    pub(crate) fn first(self, j: &mut impl JsonRead) -> JiterResult<Option<&'static str>> {
        Ok(j.next_object_bytes()?.map(|raw| self.lookup(raw)))
    }

    /// Enters the next value when it is an object, giving its first key; any other value
    /// is skipped and reads as an empty object.
    #[inline]
    pub(crate) fn enter(self, j: &mut impl JsonRead) -> JiterResult<Option<&'static str>> {
        let peek = j.peek()?;
        if peek == Peek::Object {
            self.first(j)
        } else {
            j.known_skip(peek)?;
            Ok(None)
        }
    }

    /// The object's next key, or `None` at its end.
    #[inline]
    pub(crate) fn next(self, j: &mut impl JsonRead) -> JiterResult<Option<&'static str>> {
        Ok(j.next_key_bytes()?.map(|raw| self.lookup(raw)))
    }
}
