//! A value owned by the process that built it: each of the transport's runtimes.
//! fork(2) copies memory, not threads, so a forked child must never use or drop its
//! parent's copy (a runtime would wait forever on workers that do not exist there, or
//! on a thread of the parent that was running it): the child forgets it and builds its
//! own on first use.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// A value and the process that built it; see the module docs.
pub(crate) struct PerProcess<T>(Mutex<Option<(u32, T)>>);

impl<T> PerProcess<T> {
    /// Nothing built yet.
    pub const fn new() -> Self {
        Self(Mutex::new(None))
    }

    fn lock(&self) -> MutexGuard<'_, Option<(u32, T)>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `view` of this process's value, which `start` builds first when there is none
    /// (forgetting one inherited through fork).
    ///
    /// # Errors
    /// `start`'s error; nothing is kept then.
    pub fn get_or_start<R, E>(
        &self,
        start: impl FnOnce() -> Result<T, E>,
        view: impl FnOnce(&T) -> R,
    ) -> Result<R, E> {
        let mut slot = self.lock();
        let pid = std::process::id();
        if let Some((owner, value)) = slot.as_ref() {
            if *owner == pid {
                return Ok(view(value));
            }
        }
        if let Some(inherited) = slot.take() {
            std::mem::forget(inherited);
        }
        let value = start()?;
        let seen = view(&value);
        *slot = Some((pid, value));
        Ok(seen)
    }

    /// `view` of this process's value, if it has built one.
    pub fn get<R>(&self, view: impl FnOnce(&T) -> R) -> Option<R> {
        let slot = self.lock();
        let (owner, value) = slot.as_ref()?;
        (*owner == std::process::id()).then(|| view(value))
    }

    /// Takes this process's value out (the next use builds a new one); one inherited
    /// through fork is forgotten, and `None` returned.
    pub fn take(&self) -> Option<T> {
        let (owner, value) = self.lock().take()?;
        if owner == std::process::id() {
            Some(value)
        } else {
            std::mem::forget(value);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_once_viewed_and_taken() {
        let slot = PerProcess::<u32>::new();
        assert_eq!(slot.get(|v| *v), None);
        let first = slot.get_or_start(|| Ok::<_, ()>(7), |v| *v);
        assert_eq!(first, Ok(7));
        assert_eq!(slot.get_or_start(|| Err(()), |v| *v + 1), Ok(8));
        assert_eq!(slot.take(), Some(7));
        assert_eq!(slot.get_or_start(|| Err("no"), |v| *v), Err("no"));
        assert_eq!(slot.take(), None);
    }
}
