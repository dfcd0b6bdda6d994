//! Opening connections ahead of a burst of requests. A benchmark's closed loop starts
//! all its streams at once: on new connections, the handshakes of the whole burst keep
//! the runtime busy for tens of milliseconds, while the first tokens of the earliest
//! streams wait on their sockets to be read (and stamped) late. Opened beforehand, the
//! connections wait in the pool instead.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Barrier;
use tokio::task::JoinSet;
use tokio::time::{timeout_at, Instant};

use super::client::{Client, Request};
use super::driven;
use super::error::TransportError;
use super::runtime;

impl Client {
    /// Sends `request` `count` times at once (fewer when the connection limit allows
    /// fewer) so that each opens a connection of its own: every response stays unread,
    /// holding its connection, until all have arrived (or `patience` runs out); then
    /// each is read to the end, which puts its connection back in the pool. Returns how
    /// many were answered, whatever their status. Failed sends are not errors: a
    /// connection that cannot be opened now is opened later by the request that needs it.
    ///
    /// # Errors
    /// A request that cannot be sent at all (a bad URL, method or header).
    pub async fn open_connections(
        &self,
        request: Request,
        count: usize,
        patience: Duration,
    ) -> Result<usize, TransportError> {
        let prepared = Arc::new(request.prepare()?);
        let count = self.free_slots().map_or(count, |free| count.min(free));
        if count == 0 {
            return Ok(0);
        }
        let deadline = Instant::now() + patience;
        let everyone = Arc::new(Barrier::new(count));
        let request = Arc::new(request);
        let mut tasks = JoinSet::new();
        for _ in 0..count {
            let (client, prepared) = (self.clone(), Arc::clone(&prepared));
            let (everyone, request) = (Arc::clone(&everyone), Arc::clone(&request));
            tasks.spawn(async move {
                let permit = client.slot(request.timeouts.pool, &prepared.shown).await;
                let sent = match &permit {
                    Ok(_) => {
                        let sent = client.attempt(&prepared, &request);
                        timeout_at(deadline, sent).await.ok().and_then(Result::ok)
                    }
                    Err(_) => None,
                };
                // Failures arrive too, so that the others need not wait for them.
                let _ = timeout_at(deadline, everyone.wait()).await;
                let mut response = sent?;
                loop {
                    match timeout_at(deadline, response.chunk()).await {
                        Ok(Ok(Some(_))) => {}
                        Ok(Ok(None)) => return Some(()),
                        _ => return None,
                    }
                }
            });
        }
        let mut answered = 0;
        while let Some(done) = tasks.join_next().await {
            if matches!(done, Ok(Some(()))) {
                answered += 1;
            }
        }
        Ok(answered)
    }

    /// [`Client::open_connections`], blocking this thread until it is done.
    ///
    /// # Errors
    /// As [`Client::open_connections`]; [`super::TransportErrorKind::Runtime`] when
    /// called from a runtime thread.
    pub fn open_connections_blocking(
        &self,
        request: Request,
        count: usize,
        patience: Duration,
    ) -> Result<usize, TransportError> {
        let client = self.clone();
        if self.is_caller_driven() {
            return driven::drive(client.open_connections(request, count, patience))?;
        }
        runtime::block_on(async move { client.open_connections(request, count, patience).await })
    }
}

#[cfg(test)]
#[path = "preconnect_tests.rs"]
mod tests;
