//! The location service (RFC 3261 §10.3, §16.5): bindings of an address-of-record to contacts,
//! each with the flow it was registered over (RFC 5626 §5.2: requests for a contact go back
//! over that flow — necessary for WebSocket clients, whose `.invalid` Contact cannot be
//! reached any other way, and for clients behind NAT).
//!
//! Storage sits behind [`LocationStore`]; [`MemoryLocationStore`] keeps bindings in memory. A
//! persistent store implements the same trait.

use std::collections::BTreeMap;
use std::time::Instant;

use dialtone_sip::transport::Peer;
use dialtone_sip_message::{NameAddr, Uri};

/// What identifies a binding within its address-of-record (RFC 3261 §10.3 step 7; RFC 5626
/// §6: `+sip.instance` with `reg-id` replaces the contact URI as the key).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BindingKey {
    /// An RFC 5626 registration: instance id and reg-id.
    Instance {
        /// The `+sip.instance` value, as written.
        instance: String,
        /// The `reg-id` value.
        reg_id: u32,
    },
    /// A plain registration: the contact URI, normalised for comparison (RFC 3261 §19.1.4:
    /// scheme and host case-insensitive, user case-sensitive, port and transport compared).
    Contact(String),
}

impl BindingKey {
    /// The key of a Contact header entry.
    pub fn of(contact: &NameAddr) -> BindingKey {
        let instance = contact.param("+sip.instance").flatten();
        let reg_id = contact
            .param("reg-id")
            .flatten()
            .and_then(|v| v.parse::<u32>().ok());
        match (instance, reg_id) {
            (Some(instance), Some(reg_id)) => BindingKey::Instance {
                instance: instance.to_owned(),
                reg_id,
            },
            _ => BindingKey::Contact(normalise(&contact.uri)),
        }
    }
}

fn normalise(uri: &Uri) -> String {
    format!(
        "{}:{}@{}:{}/{}",
        uri.scheme.as_str().to_ascii_lowercase(),
        uri.user.as_deref().unwrap_or(""),
        uri.host.to_ascii_lowercase(),
        uri.port.map_or(String::new(), |p| p.to_string()),
        uri.transport().unwrap_or("").to_ascii_lowercase()
    )
}

/// One registered contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The Contact as registered (URI and header parameters, `expires` removed).
    pub contact: NameAddr,
    /// The flow the REGISTER arrived over; requests for this contact are sent there.
    pub flow: Peer,
    /// When the binding lapses.
    pub expires_at: Instant,
    /// Call-ID of the REGISTER that made or last refreshed it.
    pub call_id: String,
    /// CSeq number of that REGISTER.
    pub cseq: u32,
}

impl Binding {
    /// Its key within the address-of-record.
    pub fn key(&self) -> BindingKey {
        BindingKey::of(&self.contact)
    }
}

/// Storage for bindings, by address-of-record (the user name: the relay serves one domain).
///
/// Implementations need not check expiry on writes; readers pass `now` and only see live
/// bindings. [`LocationStore::expire`] removes lapsed ones and returns them so the relay can
/// report them.
pub trait LocationStore {
    /// The live bindings of `aor` at `now`.
    fn bindings(&self, aor: &str, now: Instant) -> Vec<Binding>;
    /// Adds `binding`, replacing a binding of `aor` with the same [`BindingKey`].
    fn put(&mut self, aor: &str, binding: Binding);
    /// Removes the binding of `aor` with this key and returns it.
    fn remove(&mut self, aor: &str, key: &BindingKey) -> Option<Binding>;
    /// Removes every binding registered over `flow` (the connection closed) and returns them
    /// with their address-of-record.
    fn remove_flow(&mut self, flow: Peer) -> Vec<(String, Binding)>;
    /// Removes every binding lapsed at `now` and returns them with their address-of-record.
    fn expire(&mut self, now: Instant) -> Vec<(String, Binding)>;
    /// When the next binding lapses.
    fn next_expiry(&self) -> Option<Instant>;
}

/// Bindings in memory (lost when the relay stops).
#[derive(Debug, Default, Clone)]
pub struct MemoryLocationStore {
    aors: BTreeMap<String, Vec<Binding>>,
}

impl MemoryLocationStore {
    /// An empty store.
    pub fn new() -> MemoryLocationStore {
        MemoryLocationStore::default()
    }

    fn take_where(&mut self, mut pred: impl FnMut(&Binding) -> bool) -> Vec<(String, Binding)> {
        let mut out = Vec::new();
        for (aor, bindings) in &mut self.aors {
            let (gone, kept): (Vec<Binding>, Vec<Binding>) =
                std::mem::take(bindings).into_iter().partition(&mut pred);
            *bindings = kept;
            out.extend(gone.into_iter().map(|b| (aor.clone(), b)));
        }
        self.aors.retain(|_, b| !b.is_empty());
        out
    }
}

impl LocationStore for MemoryLocationStore {
    fn bindings(&self, aor: &str, now: Instant) -> Vec<Binding> {
        self.aors
            .get(aor)
            .map(|list| {
                list.iter()
                    .filter(|b| b.expires_at > now)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    fn put(&mut self, aor: &str, binding: Binding) {
        let list = self.aors.entry(aor.to_owned()).or_default();
        let key = binding.key();
        match list.iter_mut().find(|b| b.key() == key) {
            Some(existing) => *existing = binding,
            None => list.push(binding),
        }
    }

    fn remove(&mut self, aor: &str, key: &BindingKey) -> Option<Binding> {
        let list = self.aors.get_mut(aor)?;
        let index = list.iter().position(|b| &b.key() == key)?;
        let binding = list.remove(index);
        if list.is_empty() {
            self.aors.remove(aor);
        }
        Some(binding)
    }

    fn remove_flow(&mut self, flow: Peer) -> Vec<(String, Binding)> {
        self.take_where(|b| b.flow == flow)
    }

    fn expire(&mut self, now: Instant) -> Vec<(String, Binding)> {
        self.take_where(|b| b.expires_at <= now)
    }

    fn next_expiry(&self) -> Option<Instant> {
        self.aors.values().flatten().map(|b| b.expires_at).min()
    }
}
