//! The table of live connections ("flows", RFC 5626 §3.1), keyed by peer, shared by the
//! connections we opened and the ones peers opened to us (RFC 3261 §18, RFC 5923 §1).
//!
//! Each flow is a task owning the socket; the table holds a command sender to it. Removing a
//! flow from the table drops the sender, which makes its task close the connection.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{mpsc, oneshot};

use super::{Peer, TransportError};

/// What a flow task is asked to write.
#[derive(Debug)]
pub(crate) enum Outgoing {
    /// A serialized SIP message.
    Message(Vec<u8>),
    /// An RFC 5626 keep-alive (CRLFCRLF, or a WebSocket Ping).
    KeepAlive,
}

/// A write request with its completion report.
#[derive(Debug)]
pub(crate) struct Command {
    pub(crate) what: Outgoing,
    pub(crate) done: oneshot::Sender<io::Result<()>>,
}

/// A handle on a live flow.
#[derive(Debug, Clone)]
pub(crate) struct Flow {
    id: u64,
    tx: mpsc::Sender<Command>,
}

impl Flow {
    /// Identity of the flow (distinguishes a replaced connection to the same peer).
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// Asks the flow's task to write `what` and waits until it is written.
    pub(crate) async fn send(&self, peer: Peer, what: Outgoing) -> Result<(), TransportError> {
        let (done, result) = oneshot::channel();
        self.tx
            .send(Command { what, done })
            .await
            .map_err(|_| TransportError::FlowClosed(peer))?;
        match result.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(source)) => Err(TransportError::Send { peer, source }),
            Err(_) => Err(TransportError::FlowClosed(peer)),
        }
    }
}

/// Live flows by peer, plus per-peer locks that serialize connection attempts.
#[derive(Debug, Default)]
pub(crate) struct FlowTable {
    flows: Mutex<HashMap<Peer, Flow>>,
    connecting: Mutex<HashMap<Peer, Arc<tokio::sync::Mutex<()>>>>,
    next_id: AtomicU64,
}

/// Locks a std mutex, ignoring poisoning (the maps stay consistent: every critical section is a
/// single insert/remove).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl FlowTable {
    /// The live flow to `peer`, if any (a flow whose task has ended is forgotten).
    pub(crate) fn get(&self, peer: Peer) -> Option<Flow> {
        let mut flows = lock(&self.flows);
        match flows.get(&peer) {
            Some(flow) if flow.tx.is_closed() => {
                flows.remove(&peer);
                None
            }
            Some(flow) => Some(flow.clone()),
            None => None,
        }
    }

    /// Registers a new flow to `peer` (replacing any previous one, whose task then ends) and
    /// returns its handle and the command receiver for its task.
    pub(crate) fn register(&self, peer: Peer) -> (Flow, mpsc::Receiver<Command>) {
        let (tx, rx) = mpsc::channel(64);
        let flow = Flow {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            tx,
        };
        if let Some(old) = lock(&self.flows).insert(peer, flow.clone()) {
            tracing::debug!("flow {} to {peer} replaced by flow {}", old.id, flow.id);
        }
        (flow, rx)
    }

    /// Forgets flow `id` to `peer` (only if it is still the registered one).
    pub(crate) fn remove(&self, peer: Peer, id: u64) {
        let mut flows = lock(&self.flows);
        if flows.get(&peer).is_some_and(|f| f.id == id) {
            flows.remove(&peer);
        }
    }

    /// Forgets whatever flow goes to `peer`, which closes it.
    pub(crate) fn remove_peer(&self, peer: Peer) {
        lock(&self.flows).remove(&peer);
    }

    /// The lock serializing connection attempts to `peer`.
    pub(crate) fn connect_lock(&self, peer: Peer) -> Arc<tokio::sync::Mutex<()>> {
        lock(&self.connecting).entry(peer).or_default().clone()
    }

    /// Gives back a lock from [`FlowTable::connect_lock`]; forgotten when nobody else holds it.
    pub(crate) fn release_connect_lock(&self, peer: Peer, held: Arc<tokio::sync::Mutex<()>>) {
        drop(held);
        let mut connecting = lock(&self.connecting);
        if connecting
            .get(&peer)
            .is_some_and(|l| Arc::strong_count(l) == 1)
        {
            connecting.remove(&peer);
        }
    }
}

/// Where a flow task reports its end.
pub(crate) struct FlowEnd {
    pub(crate) peer: Peer,
    pub(crate) local: SocketAddr,
    pub(crate) id: u64,
}
