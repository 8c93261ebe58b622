//! The driver task: owns sockets and the SIP user agent. (Being wired to the sans-IO user agent.)

use crate::account::AccountForm;
use crate::error::PhoneError;
use crate::event::PhoneEvent;
use tokio::sync::{broadcast, mpsc, oneshot};

type Reply<T> = oneshot::Sender<Result<T, PhoneError>>;

/// Commands from [`crate::Phone`] to the driver.
pub(crate) enum Command {
    Connect {
        form: Box<AccountForm>,
        reply: Reply<()>,
    },
    Disconnect {
        reply: Reply<()>,
    },
    Call {
        target: String,
        reply: Reply<u64>,
    },
    Answer {
        id: u64,
        reply: Reply<()>,
    },
    Decline {
        id: u64,
        reply: Reply<()>,
    },
    Hangup {
        id: u64,
        reply: Reply<()>,
    },
}

/// How the driver binds and behaves.
#[derive(Clone, Debug, Default)]
pub struct DriverOptions {
    /// Local IP to bind signaling sockets to. Default: the address the system would use to reach the server
    /// (so a loopback server gives a loopback Contact, and no other interface leaks into headers).
    pub bind_ip: Option<std::net::IpAddr>,
}

pub(crate) struct Driver {
    commands: mpsc::Receiver<Command>,
    events: broadcast::Sender<PhoneEvent>,
}

impl Driver {
    pub(crate) fn new(
        _options: DriverOptions,
        commands: mpsc::Receiver<Command>,
        events: broadcast::Sender<PhoneEvent>,
    ) -> Self {
        Driver { commands, events }
    }

    pub(crate) async fn run(mut self) {
        while let Some(cmd) = self.commands.recv().await {
            let not_yet =
                || PhoneError::Network("SIP signaling is not wired to this build yet".into());
            match cmd {
                Command::Connect { reply, .. } | Command::Disconnect { reply } => {
                    drop(reply.send(Err(not_yet())))
                }
                Command::Call { reply, .. } => drop(reply.send(Err(not_yet()))),
                Command::Answer { reply, .. }
                | Command::Decline { reply, .. }
                | Command::Hangup { reply, .. } => drop(reply.send(Err(not_yet()))),
            }
            let _ = self.events.send(PhoneEvent::Error {
                message: "SIP signaling is not wired to this build yet".into(),
            });
        }
    }
}
