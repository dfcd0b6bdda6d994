//! The tokens one payload yields, held until the whole payload has parsed (an error
//! object may follow the choices) and then emitted in order. The common single-token
//! event needs no allocation.

use std::borrow::Cow;

use super::{EventRef, Token};

/// The tokens of one payload, in order.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Batch<'a> {
    first: Option<Token<'a>>,
    rest: Vec<Token<'a>>,
}

impl<'a> Batch<'a> {
    /// Appends a token.
    pub(crate) fn push(&mut self, token: Token<'a>) {
        if self.first.is_none() {
            self.first = Some(token);
        } else {
            self.rest.push(token);
        }
    }

    /// Appends a token at `index` with nothing else set, built in place (a token is
    /// large: building it elsewhere and moving it in costs a `memcpy` call per token),
    /// and returns it to be filled in.
    pub(crate) fn push_at(&mut self, index: u32) -> &mut Token<'a> {
        if self.first.is_none() {
            return self.first.insert(Token::at(index));
        }
        self.rest.push(Token::at(index));
        let last = self.rest.len() - 1;
        &mut self.rest[last]
    }

    /// The last token pushed.
    pub(crate) fn last_mut(&mut self) -> Option<&mut Token<'a>> {
        match self.rest.last_mut() {
            Some(token) => Some(token),
            None => self.first.as_mut(),
        }
    }

    /// The only token, when exactly one was pushed.
    pub(crate) fn single(&self) -> Option<&Token<'a>> {
        self.first.as_ref().filter(|_| self.rest.is_empty())
    }

    /// Whether any token was pushed.
    pub(crate) fn is_empty(&self) -> bool {
        self.first.is_none()
    }

    /// Puts message-level `usage` on the first token, or on a new token at index 0.
    pub(crate) fn attach_usage(&mut self, usage: Option<Cow<'a, str>>) {
        if usage.is_none() {
            return;
        }
        match &mut self.first {
            Some(token) => token.usage = usage,
            None => self.push(Token {
                usage,
                ..Token::default()
            }),
        }
    }

    /// Consumes the batch, calling `f` on each token in order.
    pub(crate) fn for_each(self, f: impl FnMut(Token<'a>)) {
        self.first.into_iter().chain(self.rest).for_each(f);
    }

    /// Hands every token that carries something to `sink`, stamped with its event.
    pub(crate) fn emit<E, F>(&mut self, ev: &EventRef<'a>, sink: &mut F) -> Result<(), E>
    where
        F: FnMut(&Token<'_>) -> Result<(), E>,
    {
        for token in self.first.iter_mut().chain(self.rest.iter_mut()) {
            if token.carries_something() {
                token.event = ev.event;
                token.payload = ev.payload;
                sink(token)?;
            }
        }
        Ok(())
    }
}
