//! Keeping a worker's claims alive: a thread with its own database
//! connection renews the leases on every row the worker holds, every
//! third of the lease, so the engine's event loop never waits on the
//! database for it. When the worker dies the thread dies with it, the
//! leases run out, and other workers claim the rows again.

use std::collections::BTreeMap;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use super::{Backend, QueueError};

/// The rows a worker holds: `Seq` → the claim's attempt number.
#[derive(Debug, Clone, Default)]
pub struct Held(Arc<Mutex<BTreeMap<i64, i64>>>);

impl Held {
    /// The worker claimed `seq` (attempt `attempt`).
    pub fn add(&self, seq: i64, attempt: i64) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(seq, attempt);
    }

    /// The attempt `seq` was claimed under, forgetting it.
    pub fn remove(&self, seq: i64) -> Option<i64> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&seq)
    }

    /// Whether the worker holds nothing.
    pub fn is_empty(&self) -> bool {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_empty()
    }

    fn seqs(&self) -> Vec<i64> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .copied()
            .collect()
    }
}

/// The renewing thread; dropping it stops the thread.
pub struct Renewer {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Renewer {
    /// Starts renewing `held`'s leases for `owner` over `conn`.
    pub fn start(
        mut conn: Box<dyn Backend>,
        owner: String,
        held: Held,
        lease: Duration,
    ) -> Result<Renewer, QueueError> {
        let (stop, stopped) = mpsc::channel::<()>();
        let every = lease / 3;
        let thread = std::thread::Builder::new()
            .name("parx-lease".into())
            .spawn(move || {
                loop {
                    match stopped.recv_timeout(every) {
                        Err(RecvTimeoutError::Timeout) => {}
                        _ => return,
                    }
                    let seqs = held.seqs();
                    if seqs.is_empty() {
                        continue;
                    }
                    if let Err(e) = conn.renew(&owner, &seqs, lease) {
                        // The rows will be claimed again elsewhere; this
                        // worker's results for them will be rejected.
                        eprintln!("parx: can not renew job leases: {e}");
                    }
                }
            })
            .map_err(|e| QueueError(format!("can not start the lease thread: {e}")))?;
        Ok(Renewer {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Renewer {
    fn drop(&mut self) {
        self.stop.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
