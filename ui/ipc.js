// The one file that talks to the desktop shell. Everything else in the UI calls these functions.
// Errors from the shell arrive as { code, message } so the UI never matches on free text.
"use strict";

window.dialtone = (() => {
  const tauri = window.__TAURI__;
  if (!tauri) {
    return {
      available: false,
      invoke: async () => { throw { code: "no_shell", message: "The Dialtone core is not reachable (open this page in the Dialtone app)." }; },
      onEvent: async () => () => {},
      onHistory: async () => () => {},
    };
  }
  const invoke = (cmd, args) => tauri.core.invoke(cmd, args).catch((e) => {
    throw (e && typeof e === "object" && "code" in e) ? e : { code: "internal", message: String(e) };
  });
  return {
    available: true,
    invoke,
    capabilities: () => invoke("capabilities"),
    validateAccount: (account) => invoke("validate_account", { account }),
    connect: (account) => invoke("connect", { account }),
    disconnect: () => invoke("disconnect"),
    call: (target) => invoke("call", { target }),
    answer: (id) => invoke("answer", { id }),
    decline: (id) => invoke("decline", { id }),
    hangup: (id) => invoke("hangup", { id }),
    hold: (id) => invoke("hold", { id }),
    resume: (id) => invoke("resume", { id }),
    transfer: (id, target) => invoke("transfer", { id, target }),
    attendedTransfer: (id, consult) => invoke("attended_transfer", { id, consult }),
    setDtmfMethod: (method) => invoke("set_dtmf_method", { method }),
    sendDtmf: (id, digits, method) => invoke("send_dtmf", { id, digits, method: method ?? null }),
    sendMessage: (target, text, call) => invoke("send_message", { target, text, call: call ?? null }),
    setPresence: (status, note, publish) => invoke("set_presence", { status: { status, note: note || null }, publish }),
    subscribePresence: (target) => invoke("subscribe_presence", { target }),
    unsubscribePresence: (id) => invoke("unsubscribe_presence", { id }),
    // Saved profiles (passwords go to the OS keyring, never back to the page), devices and call history.
    appStatus: () => invoke("app_status"),
    listProfiles: () => invoke("list_profiles"),
    saveProfile: (profile, password) => invoke("save_profile", { profile, password: password || null }),
    deleteProfile: (id) => invoke("delete_profile", { id }),
    connectProfile: (id, password) => invoke("connect_profile", { id, password: password || null }),
    listDevices: () => invoke("list_devices"),
    historyList: (limit, offset) => invoke("history_list", { limit, offset }),
    peerSuggestions: (prefix, limit) => invoke("peer_suggestions", { prefix, limit }),
    deleteHistoryEntry: (id) => invoke("delete_history_entry", { id }),
    mute: (id, muted) => invoke("mute", { id, muted }),
    switchMic: (id, device) => invoke("switch_mic", { id, device: device || null }),
    switchSpeaker: (id, device) => invoke("switch_speaker", { id, device: device || null }),
    // A call was recorded in the history (or its final statistics were).
    onHistory: (handler) => tauri.event.listen("history", (e) => handler(e.payload)),
    // Core events (registration, call, media, transfer, dtmf, message, presence, error...) arrive on the "phone"
    // frontend event, with the same JSON the CLI prints.
    onEvent: (handler) => tauri.event.listen("phone", (e) => handler(e.payload)),
  };
})();
