//! The `Phone` handle: the one API the desktop shell and the CLI use.
//!
//! Commands go to the driver task over a channel and come back with a result; state changes come out as
//! [`PhoneEvent`]s on a broadcast channel. The handle is cheap to clone.

use crate::account::AccountForm;
use crate::driver::{Command, Driver, DriverOptions};
use crate::error::PhoneError;
use crate::event::PhoneEvent;
use tokio::sync::{broadcast, mpsc, oneshot};

/// Handle to a running phone. Dropping every handle stops the driver.
#[derive(Clone)]
pub struct Phone {
    commands: mpsc::Sender<Command>,
    events: broadcast::Sender<PhoneEvent>,
}

impl Phone {
    /// Starts a phone on the current tokio runtime.
    pub fn start(options: DriverOptions) -> Phone {
        let (commands, rx) = mpsc::channel(64);
        let (events, _) = broadcast::channel(256);
        let driver = Driver::new(options, rx, events.clone());
        tokio::spawn(driver.run());
        Phone { commands, events }
    }

    /// A new receiver of every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<PhoneEvent> {
        self.events.subscribe()
    }

    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, PhoneError>>) -> Command,
    ) -> Result<T, PhoneError> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(make(tx))
            .await
            .map_err(|_| PhoneError::Stopped)?;
        rx.await.map_err(|_| PhoneError::Stopped)?
    }

    /// Validates the form, opens the transport and (when "register required") registers.
    /// Returns once the account is in place; registration progress arrives as events.
    pub async fn connect(&self, form: AccountForm) -> Result<(), PhoneError> {
        self.ask(|reply| Command::Connect {
            form: Box::new(form),
            reply,
        })
        .await
    }

    /// Unregisters (Expires: 0), ends calls and closes the account.
    pub async fn disconnect(&self) -> Result<(), PhoneError> {
        self.ask(|reply| Command::Disconnect { reply }).await
    }

    /// Places a call to `target` (a SIP URI, `user`, or `user@host`); returns the call handle.
    pub async fn call(&self, target: &str) -> Result<u64, PhoneError> {
        let target = target.to_owned();
        self.ask(|reply| Command::Call { target, reply }).await
    }

    /// Answers a ringing incoming call.
    pub async fn answer(&self, id: u64) -> Result<(), PhoneError> {
        self.ask(|reply| Command::Answer { id, reply }).await
    }

    /// Declines a ringing incoming call (603 Decline).
    pub async fn decline(&self, id: u64) -> Result<(), PhoneError> {
        self.ask(|reply| Command::Decline { id, reply }).await
    }

    /// Ends a call in any state: CANCEL before answer, BYE after.
    pub async fn hangup(&self, id: u64) -> Result<(), PhoneError> {
        self.ask(|reply| Command::Hangup { id, reply }).await
    }
}
