//! Records every call of a [`crate::Phone`] in the [`CallHistory`], from the phone's own events.
//!
//! [`CallLog`] is the bookkeeping without I/O of its own: it is handed each [`PhoneEvent`] with the wall-clock time
//! it was seen and writes to the history it is given. A call is remembered from its first `call` event (its start
//! time, direction, peer and display name), its `ESTABLISHED` time is noted, and when it reaches a final state
//! (`FINISH`, `FAILED`, `BUSY`) one row is inserted with the connected duration and the result (state, SIP code,
//! reason). The call's final media statistics (the `stats` event with `"final": true`) are stored in that row
//! whichever of the two arrives first.
//!
//! [`HistoryRecorder`] runs a `CallLog` on its own thread, fed by a [`PhoneEvent`] receiver, so recording does not
//! depend on any window being open and SQLite writes never block the phone's tokio tasks.

use crate::event::{CallState, Direction, PhoneEvent};
use crate::history::{CallHistory, CallRecord, CallResult, HistoryError};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::broadcast;

/// How many recorded calls still wait for their final statistics; older ones are given up (calls without media
/// never get any).
const AWAITING_STATS: usize = 64;

/// A call seen but not finished yet.
#[derive(Debug, Clone)]
struct LiveCall {
    direction: Direction,
    peer: String,
    display_name: String,
    started_at_ms: i64,
    established_at_ms: Option<i64>,
}

/// What a [`CallLog`] step changed in the history. JSON: `{"change":"recorded","call":N,"row":N}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "change", rename_all = "lowercase")]
pub enum HistoryChange {
    /// A finished call was inserted as this row.
    Recorded {
        /// The call handle of the phone.
        call: u64,
        /// The history row id.
        row: i64,
    },
    /// The final statistics of a recorded call were stored in this row.
    Stats {
        /// The call handle of the phone.
        call: u64,
        /// The history row id.
        row: i64,
    },
}

/// Turns phone events into call history rows. Pure bookkeeping: time and the database are passed in.
#[derive(Debug, Default)]
pub struct CallLog {
    profile_id: String,
    live: HashMap<u64, LiveCall>,
    /// Final statistics that arrived while their call was still live.
    early_stats: HashMap<u64, String>,
    /// Recorded calls whose final statistics have not arrived yet: call handle → row id, oldest first.
    awaiting_stats: VecDeque<(u64, i64)>,
}

impl CallLog {
    /// An empty log; calls are recorded under profile `""` until [`CallLog::set_profile`].
    pub fn new() -> CallLog {
        CallLog::default()
    }

    /// The profile later calls are recorded under (the one the phone is connected with).
    pub fn set_profile(&mut self, profile_id: &str) {
        self.profile_id = profile_id.to_string();
    }

    /// How many calls are live (seen, not finished).
    pub fn live_calls(&self) -> usize {
        self.live.len()
    }

    /// Takes one phone event seen at `now_ms` (milliseconds since the Unix epoch).
    pub fn on_event(
        &mut self,
        history: &CallHistory,
        event: &PhoneEvent,
        now_ms: i64,
    ) -> Result<Option<HistoryChange>, HistoryError> {
        match event {
            PhoneEvent::Call {
                id,
                state,
                direction,
                peer,
                display_name,
                code,
                reason,
                ..
            } => self.on_call(
                history,
                CallUpdate {
                    id: *id,
                    state: *state,
                    direction: *direction,
                    peer,
                    display_name: display_name.as_deref(),
                    code: *code,
                    reason: reason.as_deref(),
                },
                now_ms,
            ),
            PhoneEvent::Stats {
                id,
                final_: true,
                stats,
            } => {
                let json = serde_json::to_string(stats).unwrap_or_default();
                self.on_final_stats(history, *id, json)
            }
            _ => Ok(None),
        }
    }

    fn on_call(
        &mut self,
        history: &CallHistory,
        update: CallUpdate<'_>,
        now_ms: i64,
    ) -> Result<Option<HistoryChange>, HistoryError> {
        let call = self.live.entry(update.id).or_insert_with(|| LiveCall {
            direction: update.direction,
            peer: update.peer.to_string(),
            display_name: String::new(),
            started_at_ms: now_ms,
            established_at_ms: None,
        });
        if let Some(name) = update.display_name.filter(|n| !n.is_empty()) {
            call.display_name = name.to_string();
        }
        if update.state == CallState::Established && call.established_at_ms.is_none() {
            call.established_at_ms = Some(now_ms);
        }
        if !matches!(
            update.state,
            CallState::Finish | CallState::Failed | CallState::Busy
        ) {
            return Ok(None);
        }
        let Some(call) = self.live.remove(&update.id) else {
            return Ok(None);
        };
        let stats_json = self.early_stats.remove(&update.id).unwrap_or_default();
        let has_stats = !stats_json.is_empty();
        let record = CallRecord {
            id: 0,
            profile_id: self.profile_id.clone(),
            direction: call.direction,
            peer: call.peer,
            display_name: call.display_name,
            started_at_ms: call.started_at_ms,
            duration_ms: call.established_at_ms.map_or(0, |at| {
                u64::try_from(now_ms.saturating_sub(at)).unwrap_or(0)
            }),
            result: CallResult {
                state: update.state,
                code: update.code,
                reason: update.reason.unwrap_or_default().to_string(),
            },
            stats_json,
        };
        let row = history.insert(&record)?;
        if !has_stats {
            if self.awaiting_stats.len() == AWAITING_STATS {
                self.awaiting_stats.pop_front();
            }
            self.awaiting_stats.push_back((update.id, row));
        }
        Ok(Some(HistoryChange::Recorded {
            call: update.id,
            row,
        }))
    }

    /// Takes the final statistics of call `id` (the JSON object of the `stats` event's `stats`).
    pub fn on_final_stats(
        &mut self,
        history: &CallHistory,
        id: u64,
        stats_json: String,
    ) -> Result<Option<HistoryChange>, HistoryError> {
        if let Some(pos) = self.awaiting_stats.iter().position(|&(call, _)| call == id) {
            let (_, row) = self.awaiting_stats.remove(pos).unwrap_or((id, 0));
            history.set_stats(row, &stats_json)?;
            return Ok(Some(HistoryChange::Stats { call: id, row }));
        }
        if self.live.contains_key(&id) {
            self.early_stats.insert(id, stats_json);
        }
        Ok(None)
    }

    /// Records the calls still live as ended now (the phone stopped under them).
    pub fn flush(
        &mut self,
        history: &CallHistory,
        now_ms: i64,
    ) -> Result<Vec<HistoryChange>, HistoryError> {
        let mut ids: Vec<u64> = self.live.keys().copied().collect();
        ids.sort_unstable();
        let mut changes = Vec::new();
        for id in ids {
            let Some((direction, peer)) = self.live.get(&id).map(|c| (c.direction, c.peer.clone()))
            else {
                continue;
            };
            let update = CallUpdate {
                id,
                state: CallState::Finish,
                direction,
                peer: &peer,
                display_name: None,
                code: None,
                reason: Some("ended when Dialtone stopped"),
            };
            if let Some(change) = self.on_call(history, update, now_ms)? {
                changes.push(change);
            }
        }
        Ok(changes)
    }
}

/// The fields of a `call` event the log uses.
struct CallUpdate<'a> {
    id: u64,
    state: CallState,
    direction: Direction,
    peer: &'a str,
    display_name: Option<&'a str>,
    code: Option<u16>,
    reason: Option<&'a str>,
}

/// Milliseconds since the Unix epoch, now.
fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Locks a mutex, carrying on after a panic elsewhere (every history write is one SQLite statement).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Records a phone's calls in the history on a thread of its own until the phone stops.
#[derive(Debug)]
pub struct HistoryRecorder {
    log: Arc<Mutex<CallLog>>,
    thread: Option<JoinHandle<()>>,
}

impl HistoryRecorder {
    /// Starts recording the calls `events` reports into `history`. `on_change` is called after each change (to
    /// refresh a history view); write failures are logged and recording goes on.
    pub fn spawn(
        history: Arc<Mutex<CallHistory>>,
        mut events: broadcast::Receiver<PhoneEvent>,
        on_change: impl Fn(HistoryChange) + Send + 'static,
    ) -> std::io::Result<HistoryRecorder> {
        let log = Arc::new(Mutex::new(CallLog::new()));
        let thread_log = Arc::clone(&log);
        let thread = std::thread::Builder::new()
            .name("dialtone-history".into())
            .spawn(move || loop {
                let result = match events.blocking_recv() {
                    Ok(event) => {
                        let history = lock(&history);
                        lock(&thread_log)
                            .on_event(&history, &event, now_ms())
                            .map(|change| change.into_iter().collect::<Vec<_>>())
                    }
                    // Missed events: the calls they concerned are recorded when their next event comes.
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!("call history missed {n} phone events");
                        Ok(Vec::new())
                    }
                    Err(broadcast::error::RecvError::Closed) => {
                        let history = lock(&history);
                        if let Err(e) = lock(&thread_log).flush(&history, now_ms()) {
                            tracing::warn!("could not record the calls still live at exit: {e}");
                        }
                        break;
                    }
                };
                match result {
                    Ok(changes) => changes.into_iter().for_each(&on_change),
                    Err(e) => tracing::warn!("could not record a call in the history: {e}"),
                }
            })?;
        Ok(HistoryRecorder {
            log,
            thread: Some(thread),
        })
    }

    /// Calls from now on are recorded under this profile id.
    pub fn set_profile(&self, profile_id: &str) {
        lock(&self.log).set_profile(profile_id);
    }

    /// Waits until the phone has stopped and every call is recorded.
    pub fn join(mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(id: u64, state: CallState, code: Option<u16>, reason: Option<&str>) -> PhoneEvent {
        PhoneEvent::Call {
            id,
            state,
            direction: Direction::Outgoing,
            peer: "sip:bob@127.0.0.1:5080".into(),
            display_name: None,
            code,
            reason: reason.map(str::to_string),
            held: None,
            replaces: None,
        }
    }

    #[test]
    fn answered_call_gets_duration_result_and_final_stats() {
        let history = CallHistory::open_in_memory().expect("history");
        let mut log = CallLog::new();
        log.set_profile("p1");
        for (state, at) in [
            (CallState::Pending, 1_000),
            (CallState::Ring, 1_200),
            (CallState::Established, 2_000),
            (CallState::Hold, 5_000),
            (CallState::Established, 6_000),
        ] {
            assert_eq!(
                log.on_event(&history, &call(7, state, None, None), at)
                    .expect("event"),
                None
            );
        }
        let change = log
            .on_event(&history, &call(7, CallState::Finish, None, None), 9_500)
            .expect("finish");
        let Some(HistoryChange::Recorded { call: 7, row }) = change else {
            panic!("not recorded: {change:?}")
        };
        let stats = log
            .on_final_stats(&history, 7, r#"{"mos":4.3}"#.into())
            .expect("stats");
        assert_eq!(stats, Some(HistoryChange::Stats { call: 7, row }));
        let record = history.get(row).expect("get").expect("row");
        assert_eq!(record.profile_id, "p1");
        assert_eq!(record.started_at_ms, 1_000);
        assert_eq!(record.duration_ms, 7_500);
        assert_eq!(record.result.state, CallState::Finish);
        assert_eq!(record.stats_json, r#"{"mos":4.3}"#);
        assert_eq!(log.live_calls(), 0);
        // A second final stats event for the same call changes nothing.
        assert_eq!(
            log.on_final_stats(&history, 7, "{}".into()).expect("again"),
            None
        );
    }

    fn stats(mos: f64) -> dialtone_media::MediaStats {
        dialtone_media::MediaStats {
            codec: "ulaw".into(),
            packets_sent: 250,
            bytes_sent: 43_000,
            packets_received: 248,
            bytes_received: 42_656,
            packets_lost: 2,
            packets_late: 0,
            jitter_ms: 1.5,
            rtt_ms: Some(0.4),
            jitter_buffer_ms: 40.0,
            concealed_frames: 2,
            remote_packets_lost: Some(0),
            remote_jitter_ms: Some(0.8),
            dtmf_sent: 0,
            dtmf_received: 0,
            malformed_rtp: 0,
            malformed_rtcp: 0,
            stray_packets: 0,
            undecodable_packets: 0,
            srtp: false,
            srtp_auth_failures: 0,
            srtp_replays: 0,
            r_factor: 92.0,
            mos,
        }
    }

    #[test]
    fn only_the_final_stats_event_is_stored() {
        let history = CallHistory::open_in_memory().expect("history");
        let mut log = CallLog::new();
        log.on_event(&history, &call(2, CallState::Established, None, None), 0)
            .expect("up");
        let live = PhoneEvent::Stats {
            id: 2,
            final_: false,
            stats: stats(4.1),
        };
        assert_eq!(log.on_event(&history, &live, 500).expect("live"), None);
        let change = log
            .on_event(&history, &call(2, CallState::Finish, None, None), 3_000)
            .expect("finish");
        let Some(HistoryChange::Recorded { row, .. }) = change else {
            panic!("{change:?}")
        };
        assert_eq!(history.get(row).expect("get").expect("row").stats_json, "");
        let last = PhoneEvent::Stats {
            id: 2,
            final_: true,
            stats: stats(4.35),
        };
        assert_eq!(
            log.on_event(&history, &last, 3_100).expect("final"),
            Some(HistoryChange::Stats { call: 2, row })
        );
        let stored: serde_json::Value =
            serde_json::from_str(&history.get(row).expect("get").expect("row").stats_json)
                .expect("stats are JSON");
        assert_eq!(stored["mos"], serde_json::json!(4.35));
        assert_eq!(stored["codec"], serde_json::json!("ulaw"));
        assert_eq!(stored["packets_received"], serde_json::json!(248));
    }

    #[test]
    fn busy_call_has_no_duration_and_keeps_code_and_stats_arriving_first() {
        let history = CallHistory::open_in_memory().expect("history");
        let mut log = CallLog::new();
        log.on_event(&history, &call(3, CallState::Pending, None, None), 100)
            .expect("pending");
        // Final stats before the final state are kept for the row.
        assert_eq!(
            log.on_final_stats(&history, 3, r#"{"packets_sent":0}"#.into())
                .expect("stats"),
            None
        );
        let change = log
            .on_event(
                &history,
                &call(3, CallState::Busy, Some(486), Some("Busy Here")),
                900,
            )
            .expect("busy");
        let Some(HistoryChange::Recorded { row, .. }) = change else {
            panic!("{change:?}")
        };
        let record = history.get(row).expect("get").expect("row");
        assert_eq!(record.duration_ms, 0);
        assert_eq!(record.result.code, Some(486));
        assert_eq!(record.result.reason, "Busy Here");
        assert_eq!(record.stats_json, r#"{"packets_sent":0}"#);
    }

    #[test]
    fn incoming_display_name_kept_and_unknown_stats_ignored() {
        let history = CallHistory::open_in_memory().expect("history");
        let mut log = CallLog::new();
        let ring = PhoneEvent::Call {
            id: 1,
            state: CallState::Ring,
            direction: Direction::Incoming,
            peer: "sip:carol@127.0.0.1".into(),
            display_name: Some("Carol".into()),
            code: None,
            reason: None,
            held: None,
            replaces: None,
        };
        log.on_event(&history, &ring, 10).expect("ring");
        assert_eq!(
            log.on_final_stats(&history, 99, "{}".into())
                .expect("stats"),
            None
        );
        let changes = log.flush(&history, 20).expect("flush");
        assert_eq!(changes.len(), 1);
        let rows = history.list(10, 0).expect("list");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].direction, Direction::Incoming);
        assert_eq!(rows[0].display_name, "Carol");
        assert_eq!(rows[0].duration_ms, 0);
    }

    #[test]
    fn recorder_thread_records_from_a_broadcast() {
        let history = Arc::new(Mutex::new(CallHistory::open_in_memory().expect("history")));
        let (tx, rx) = broadcast::channel(16);
        let (changes_tx, changes_rx) = std::sync::mpsc::channel();
        let recorder = HistoryRecorder::spawn(Arc::clone(&history), rx, move |c| {
            let _ = changes_tx.send(c);
        })
        .expect("spawn");
        recorder.set_profile("work");
        // The profile is set before the first event is sent, so it is the one recorded.
        tx.send(call(5, CallState::Pending, None, None))
            .expect("send");
        tx.send(call(5, CallState::Failed, Some(404), Some("Not Found")))
            .expect("send");
        let change = changes_rx
            .recv_timeout(std::time::Duration::from_secs(5))
            .expect("a change");
        assert!(matches!(change, HistoryChange::Recorded { call: 5, .. }));
        drop(tx);
        recorder.join();
        let rows = lock(&history).list(10, 0).expect("list");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].profile_id, "work");
        assert_eq!(rows[0].result.code, Some(404));
    }
}
