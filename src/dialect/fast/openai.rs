//! The first-tier reader of `openai` chat and completion chunks: the same walk as
//! `openai_chat::read_chunk` (same fields, same overwrite-on-repeat rules, same tokens),
//! written over the byte [`Cursor`] that gives up instead of failing. A chunk with an
//! `error` member gives up too: the generic path reports it.
//!
//! Each level's member loop starts from a given key, so that a payload repeating the
//! previous one's bytes up to the text (`choices[0].delta.content`, or
//! `choices[0].text`) is read from there on ([`Resume`]). A checkpoint is recorded only
//! where all that had been read is the first token's index.

use super::super::openai_chat::Shape;
use super::super::{Batch, Token, ToolCallDelta};
use super::{Checkpoint, Cursor, Resume};

/// What the walk does with checkpoints: `None` after resuming; else where the last one
/// was seen, if any.
type Seen = Option<Option<(usize, u32)>>;

/// The checkpoint tracking of a nested level: on only where `allowed`.
fn nested(seen: Seen, allowed: bool) -> Seen {
    seen.and(allowed.then_some(None))
}

/// Keeps the checkpoint a nested level found.
fn keep(seen: &mut Seen, inner: Seen) {
    if let (Some(outer), Some(found @ Some(_))) = (seen.as_mut(), inner) {
        *outer = found;
    }
}

/// The plain-reading kind of a chunk: its first token's text and nothing else.
const PLAIN_TEXT: u8 = 1;

/// The [`Resume`] tag of a shape.
fn tag(shape: Shape) -> u8 {
    match shape {
        Shape::Chat => 1,
        Shape::Completions => 2,
    }
}

/// Reads one chunk (not the `[DONE]` marker) into `batch`, or gives up with `None`
/// (`batch` then holds a partial reading, to be discarded).
pub(in super::super) fn read_chunk<'a>(
    payload: &'a str,
    shape: Shape,
    batch: &mut Batch<'a>,
    resume: &mut Resume,
) -> Option<()> {
    if let Some((pos, read)) = resume.matches(payload, tag(shape)) {
        return resumed(
            &mut Cursor::at(payload, pos),
            shape,
            batch,
            read.index?,
            resume,
        );
    }
    let mut c = Cursor::new(payload);
    if c.peek()? != b'{' {
        return None;
    }
    let mut seen = Some(None);
    let key = c.first_key()?;
    top_members(&mut c, shape, batch, key, &mut seen)?;
    if let Some(Some((pos, index))) = seen {
        let read = Checkpoint {
            index: Some(index),
            ..Checkpoint::default()
        };
        resume.record(payload, pos, tag(shape), read);
    }
    Some(())
}

/// Reads on from the checkpoint: the first token's text, then the rest of every level
/// (unless it is the recorded plain tail).
fn resumed<'a>(
    c: &mut Cursor<'a>,
    shape: Shape,
    batch: &mut Batch<'a>,
    index: u32,
    resume: &mut Resume,
) -> Option<()> {
    let token = batch.push_at(index);
    token.text = c.opt_str()?.unwrap_or_default();
    let (tail_at, tail) = (c.position(), c.rest());
    if resume.is_plain_tail(tail) {
        return Some(());
    }
    let mut seen = None;
    if shape == Shape::Chat {
        let key = c.next_key()?;
        delta_members(c, token, key, &mut seen)?;
    }
    let key = c.next_key()?;
    choice_members(c, shape, 0, token, key, &mut seen)?;
    let more = c.next_item()?;
    choice_items(c, shape, batch, 1, more, &mut seen)?;
    let key = c.next_key()?;
    top_members(c, shape, batch, key, &mut seen)?;
    // Plain: one token, holding no more than the checkpoint's index and this text.
    let plain = batch.single().is_some_and(|t| {
        t.index == index && pristine(t) && t.usage.is_none() && c.borrowed_before(&t.text, tail_at)
    });
    if plain {
        resume.record_plain_tail(tail, PLAIN_TEXT);
    }
    Some(())
}

/// The top-level members from `key` on, then the end of the payload.
fn top_members<'a>(
    c: &mut Cursor<'a>,
    shape: Shape,
    batch: &mut Batch<'a>,
    mut key: Option<&'a [u8]>,
    seen: &mut Seen,
) -> Option<()> {
    let mut usage = None;
    while let Some(k) = key {
        match k {
            b"choices" if c.peek()? == b'[' => {
                // A checkpoint needs the first token of the payload, with no usage yet.
                let mut inner = nested(*seen, batch.is_empty() && usage.is_none());
                let more = c.first_item()?;
                choice_items(c, shape, batch, 0, more, &mut inner)?;
                keep(seen, inner);
            }
            b"usage" => usage = c.raw_value()?,
            b"error" => return None,
            _ => c.skip()?,
        }
        key = c.next_key()?;
    }
    if !c.at_end() {
        return None;
    }
    batch.attach_usage(usage.map(Into::into));
    Some(())
}

/// The elements of `choices` from `position` on (`more`: one follows).
fn choice_items<'a>(
    c: &mut Cursor<'a>,
    shape: Shape,
    batch: &mut Batch<'a>,
    mut position: u32,
    mut more: bool,
    seen: &mut Seen,
) -> Option<()> {
    while more {
        if c.peek()? == b'{' {
            // Built in place: a token is large, and moving it costs a `memmove` call.
            let token = batch.push_at(position);
            let key = c.first_key()?;
            let mut inner = nested(*seen, position == 0);
            choice_members(c, shape, position, token, key, &mut inner)?;
            keep(seen, inner);
        } else {
            c.skip()?;
        }
        position = position.saturating_add(1);
        more = c.next_item()?;
    }
    Some(())
}

/// Whether nothing but the index (and text, about to be overwritten) has been read.
fn pristine(token: &Token<'_>) -> bool {
    token.finish_reason.is_none() && token.reasoning.is_none() && token.tool_calls.is_empty()
}

/// A choice's members from `key` on.
fn choice_members<'a>(
    c: &mut Cursor<'a>,
    shape: Shape,
    position: u32,
    token: &mut Token<'a>,
    mut key: Option<&'a [u8]>,
    seen: &mut Seen,
) -> Option<()> {
    while let Some(k) = key {
        match k {
            b"index" => token.index = c.opt_u32()?.unwrap_or(position),
            b"finish_reason" => token.finish_reason = c.opt_str()?,
            b"delta" if shape == Shape::Chat => {
                if c.peek()? == b'{' {
                    let key = c.first_key()?;
                    let mut inner = nested(*seen, pristine(token));
                    delta_members(c, token, key, &mut inner)?;
                    keep(seen, inner);
                } else {
                    c.skip()?;
                    token.set_reasoning(None);
                }
            }
            b"text" if shape == Shape::Completions => {
                if let Some(found) = seen.as_mut().filter(|_| pristine(token)) {
                    *found = Some((c.position(), token.index));
                }
                token.text = c.opt_str()?.unwrap_or_default();
            }
            _ => c.skip()?,
        }
        key = c.next_key()?;
    }
    Some(())
}

/// A delta's members from `key` on; then, as in the generic walk, each `delta` sets the
/// reasoning afresh.
fn delta_members<'a>(
    c: &mut Cursor<'a>,
    token: &mut Token<'a>,
    mut key: Option<&'a [u8]>,
    seen: &mut Seen,
) -> Option<()> {
    let mut reasoning_content = None;
    let mut reasoning = None;
    while let Some(k) = key {
        match k {
            b"content" => {
                let fresh = reasoning_content.is_none() && reasoning.is_none();
                if let Some(found) = seen.as_mut().filter(|_| fresh) {
                    *found = Some((c.position(), token.index));
                }
                token.text = c.opt_str()?.unwrap_or_default();
            }
            b"reasoning_content" => reasoning_content = c.opt_text()?,
            b"reasoning" => reasoning = c.opt_text()?,
            b"tool_calls" => read_tool_calls(c, &mut token.tool_calls)?,
            _ => c.skip()?,
        }
        key = c.next_key()?;
    }
    token.set_reasoning(reasoning_content.or(reasoning));
    Some(())
}

fn read_tool_calls<'a>(c: &mut Cursor<'a>, calls: &mut Vec<ToolCallDelta<'a>>) -> Option<()> {
    if c.peek()? != b'[' {
        return c.skip();
    }
    let mut position = 0u32;
    let mut more = c.first_item()?;
    while more {
        if c.peek()? == b'{' {
            calls.push(read_call(c, position)?);
        } else {
            c.skip()?;
        }
        position = position.saturating_add(1);
        more = c.next_item()?;
    }
    Some(())
}

fn read_call<'a>(c: &mut Cursor<'a>, position: u32) -> Option<ToolCallDelta<'a>> {
    let mut call = ToolCallDelta {
        index: position,
        ..ToolCallDelta::default()
    };
    let mut key = c.first_key()?;
    while let Some(k) = key {
        match k {
            b"index" => call.index = c.opt_u32()?.unwrap_or(position),
            b"id" => call.id = c.opt_text()?,
            b"function" if c.peek()? == b'{' => {
                let mut fkey = c.first_key()?;
                while let Some(fk) = fkey {
                    match fk {
                        b"name" => call.name = c.opt_text()?,
                        b"arguments" => call.arguments = c.opt_str()?.unwrap_or_default(),
                        _ => c.skip()?,
                    }
                    fkey = c.next_key()?;
                }
            }
            _ => c.skip()?,
        }
        key = c.next_key()?;
    }
    Some(call)
}
