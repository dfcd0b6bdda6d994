//! The first-tier reader of Anthropic Messages events: fills the same `Fields` as
//! `anthropic::read_fields_with` (same members, same overwrite-on-repeat rules) over the
//! byte [`Cursor`] that gives up instead of failing. An event with an `error` member
//! gives up too: the generic path reads it.
//!
//! The top-level and `delta` member loops start from a given key, so that an event
//! repeating the previous one's bytes up to `delta.text` is read from there on
//! ([`Resume`]). A checkpoint is recorded only where all that had been read is `type`,
//! `index` and `delta.type`, strings without escapes.

use std::borrow::Cow;

use super::super::anthropic::Fields;
use super::{Checkpoint, Cursor, Resume};

/// What the walk does with checkpoints: `None` after resuming; else the last one seen,
/// if any, with what had been read by then.
type Seen = Option<Option<(usize, Checkpoint)>>;

/// The [`Resume`] tag of this shape.
const TAG: u8 = 3;

/// The plain-reading kind of a `content_block_delta` event's `text_delta`.
const TEXT_DELTA: u8 = 1;
/// The plain-reading kind of any other event.
const OTHER: u8 = 2;

/// The block index and text of a `content_block_delta` `text_delta` event that repeats
/// a recorded plain one but for its text; `None` for any other payload (read it with
/// [`read_fields`]).
#[inline(always)]
pub(in super::super) fn text_delta<'a>(
    payload: &'a str,
    resume: &Resume,
) -> Option<(u32, Cow<'a, str>)> {
    if resume.plain_kind() != TEXT_DELTA {
        return None;
    }
    let (pos, read) = resume.matches(payload, TAG)?;
    let mut c = Cursor::at(payload, pos);
    let text = c.opt_str()?;
    resume
        .is_plain_tail(c.rest())
        .then(|| (read.index.unwrap_or(0), text.unwrap_or_default()))
}

/// Reads one event's fields into `f`, or gives up with `None` (`f` then holds a partial
/// reading, to be discarded).
pub(in super::super) fn read_fields<'a>(
    payload: &'a str,
    f: &mut Fields<'a>,
    resume: &mut Resume,
) -> Option<()> {
    if let Some((pos, read)) = resume.matches(payload, TAG) {
        let span = |s: Option<(usize, usize)>| match s {
            Some((start, end)) => payload.get(start..end).map(|s| Some(Cow::Borrowed(s))),
            None => Some(None),
        };
        f.type_ = span(read.spans[0])?;
        f.delta_type = span(read.spans[1])?;
        f.index = read.index;
        let mut c = Cursor::at(payload, pos);
        f.delta_text = c.opt_str()?;
        let (tail_at, tail) = (c.position(), c.rest());
        if resume.is_plain_tail(tail) {
            return Some(());
        }
        let (type_, delta_type) = (f.type_.clone(), f.delta_type.clone());
        let key = c.next_key()?;
        delta_members(&mut c, f, key, &mut None)?;
        let key = c.next_key()?;
        top_members(&mut c, f, key, &mut None)?;
        // Plain: no more than the checkpoint's fields and this text.
        let plain = pristine(f)
            && f.type_ == type_
            && f.delta_type == delta_type
            && f.index == read.index
            && f.delta_text
                .as_ref()
                .is_some_and(|t| c.borrowed_before(t, tail_at));
        if plain {
            let is_text_delta = f.type_.as_deref() == Some("content_block_delta")
                && f.delta_type.as_deref() == Some("text_delta");
            resume.record_plain_tail(tail, if is_text_delta { TEXT_DELTA } else { OTHER });
        }
        return Some(());
    }
    let mut c = Cursor::new(payload);
    if c.peek()? != b'{' {
        return None;
    }
    let mut seen = Some(None);
    let key = c.first_key()?;
    top_members(&mut c, f, key, &mut seen)?;
    if let Some(Some((pos, read))) = seen {
        resume.record(payload, pos, TAG, read);
    }
    Some(())
}

/// What a checkpoint at `c` keeps of `f`, read so far: `None` when a string to keep
/// is not borrowed from the payload.
fn checkpoint(c: &Cursor<'_>, f: &Fields<'_>) -> Option<(usize, Checkpoint)> {
    let spans = [
        c.span_of(f.type_.as_ref())?,
        c.span_of(f.delta_type.as_ref())?,
    ];
    let read = Checkpoint {
        index: f.index,
        spans,
    };
    Some((c.position(), read))
}

/// Whether nothing but `type`, `index` and `delta.type` (and `delta.text`, about to be
/// overwritten) has been read.
fn pristine(f: &Fields<'_>) -> bool {
    f.delta_thinking.is_none()
        && f.delta_partial_json.is_none()
        && f.delta_stop_reason.is_none()
        && f.block_type.is_none()
        && f.block_id.is_none()
        && f.block_name.is_none()
        && f.block_text.is_none()
        && f.message_usage.is_none()
        && f.usage.is_none()
        && f.error.is_none()
}

/// The top-level members from `key` on, then the end of the payload; `seen` (when
/// tracked) gets the last checkpoint.
fn top_members<'a>(
    c: &mut Cursor<'a>,
    f: &mut Fields<'a>,
    mut key: Option<&'a [u8]>,
    seen: &mut Seen,
) -> Option<()> {
    while let Some(k) = key {
        match k {
            b"type" => f.type_ = c.opt_str()?,
            b"index" => f.index = c.opt_u32()?,
            b"delta" if c.peek()? == b'{' => {
                let key = c.first_key()?;
                delta_members(c, f, key, seen)?;
            }
            b"content_block" => read_block(c, f)?,
            b"message" => read_message(c, f)?,
            b"usage" => f.usage = c.raw_value()?,
            b"error" => return None,
            _ => c.skip()?,
        }
        key = c.next_key()?;
    }
    c.at_end().then_some(())
}

#[inline]
fn delta_members<'a>(
    c: &mut Cursor<'a>,
    f: &mut Fields<'a>,
    mut key: Option<&'a [u8]>,
    seen: &mut Seen,
) -> Option<()> {
    while let Some(k) = key {
        match k {
            b"type" => f.delta_type = c.opt_str()?,
            b"text" => {
                if let Some(found) = seen.as_mut().filter(|_| pristine(f)) {
                    *found = checkpoint(c, f).or(*found);
                }
                f.delta_text = c.opt_str()?;
            }
            b"thinking" => f.delta_thinking = c.opt_str()?,
            b"partial_json" => f.delta_partial_json = c.opt_str()?,
            b"stop_reason" => f.delta_stop_reason = c.opt_str()?,
            _ => c.skip()?,
        }
        key = c.next_key()?;
    }
    Some(())
}

fn read_block<'a>(c: &mut Cursor<'a>, f: &mut Fields<'a>) -> Option<()> {
    if c.peek()? != b'{' {
        return c.skip();
    }
    let mut key = c.first_key()?;
    while let Some(k) = key {
        match k {
            b"type" => f.block_type = c.opt_str()?,
            b"id" => f.block_id = c.opt_text()?,
            b"name" => f.block_name = c.opt_text()?,
            b"text" => f.block_text = c.opt_str()?,
            _ => c.skip()?,
        }
        key = c.next_key()?;
    }
    Some(())
}

fn read_message<'a>(c: &mut Cursor<'a>, f: &mut Fields<'a>) -> Option<()> {
    if c.peek()? != b'{' {
        return c.skip();
    }
    let mut key = c.first_key()?;
    while let Some(k) = key {
        match k {
            b"usage" => f.message_usage = c.raw_value()?,
            _ => c.skip()?,
        }
        key = c.next_key()?;
    }
    Some(())
}
