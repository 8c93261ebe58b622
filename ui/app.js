// Phone UI logic: saved profiles, the connection form, calls, history, chat and presence. Talks to the core only
// through ipc.js and shows only what the core reports.
"use strict";

const $ = (id) => document.getElementById(id);
const api = window.dialtone;
const ui = {
  form: $("connect-form"), errors: $("form-errors"), connect: $("connect"), disconnect: $("disconnect"),
  reg: $("reg-status"), accountName: $("account-name"), statusLine: $("status-line"), notice: $("notice"),
  profileList: $("profile-list"), profilesEmpty: $("profiles-empty"), newProfile: $("new-profile"),
  formTitle: $("conn-title"), saveProfile: $("save-profile"), deleteProfile: $("delete-profile"),
  keyringBox: $("keyring-box"), keyringNote: $("keyring-note"), askEachTime: $("ask-each-time"),
  passwordMode: $("password-mode"), devicesNote: $("devices-note"),
  callStatus: $("call-status"), callTimer: $("call-timer"), callee: $("callee"), suggestions: $("callee-suggestions"),
  call: $("call"), answer: $("answer"), decline: $("decline"), hangup: $("hangup"), hold: $("hold"), mute: $("mute"),
  incoming: $("incoming"), incomingName: $("incoming-name"), incomingUri: $("incoming-uri"),
  callMic: $("call-mic"), callSpeaker: $("call-speaker"), deviceStatus: $("device-status"),
  transferTarget: $("transfer-target"), transfer: $("transfer"), consultTarget: $("consult-target"),
  consult: $("consult"), completeTransfer: $("complete-transfer"), transferStatus: $("transfer-status"),
  keypad: $("keypad"), dtmfStatus: $("dtmf-status"), mosGraph: $("mos-graph"), statsNote: $("stats-note"),
  historyList: $("history-list"), historyEmpty: $("history-empty"), historyFilter: $("history-filter"),
  contactList: $("contact-list"), chatTitle: $("chat-title"), unread: $("unread"),
  messageTo: $("message-to"), messageText: $("message-text"), sendMessage: $("send-message"), messageLog: $("message-log"),
  presenceStatus: $("presence-status"), presenceNote: $("presence-note"), presencePublish: $("presence-publish"),
  setPresence: $("set-presence"), watchTarget: $("watch-target"), watch: $("watch"), presenceList: $("presence-list"),
  pwDialog: $("password-dialog"), pwTitle: $("password-dialog-title"), pwInput: $("password-dialog-input"),
};

// Form field name (as the core names it in errors) -> input id.
const fieldIds = {
  name: "profile-name", serverUrl: "server-url", login: "login", authName: "auth-name", password: "password",
  domain: "domain", outboundProxy: "outbound-proxy", port: "port", transport: "transport",
  displayName: "display-name", registerRequired: "register-required", tlsCaFile: "tls-ca-file", tlsPin: "tls-pin",
  audioCodecs: "audio-codecs", dtmf: "dtmf-method", "devices.microphone": "dev-mic", "devices.speaker": "dev-speaker",
  "devices.ringer": "dev-ringer", passwordMode: "password-mode",
};

const state = {
  connected: false, registration: "UNREGISTERED", account: "",
  features: new Set(),      // controls this build supports (from `capabilities`)
  keyring: { available: true, message: "" },
  profiles: [], editing: null, // the profile id the form edits (null: a new one)
  devices: [],
  calls: new Map(),         // call id -> last `call` event
  connectedAt: new Map(),   // call id -> Date.now() when first ESTABLISHED
  muted: new Set(),         // call ids whose microphone is muted
  stats: new Map(),         // call id -> { last, mos: [..] }
  current: null,            // the call the Phone screen is about
  consult: null, placingConsult: false,
  messages: new Map(),      // message handle -> its line
  results: new Map(),       // message handle -> a result that arrived before the send returned
  conversations: new Map(), // contact key -> { uri, name, lines: [{dir, text, mark}], unread }
  chatWith: null,           // the contact key shown
  watched: new Map(),       // subscription id -> { target, key, li, status, note }
  early: new Map(),         // subscription id -> events that overtook the subscribe command's reply
  history: [],
  suggest: { items: [], active: -1, seq: 0 },
};

const ENDED = ["FINISH", "FAILED", "BUSY"];
const callStateText = {
  PENDING: "Calling…", TRYING: "Trying…", RING: "Ringing", RING_MEDIA: "Ringing (early media)",
  ESTABLISHED: "In call", HOLD: "On hold", BUSY: "Busy", FINISH: "Call ended", FAILED: "Call failed",
};
const heldText = { local: "you hold the call", remote: "the other party holds the call", both: "held by both" };
const regText = {
  REGISTERING: "Registering…", REGISTERED: "Registered", UNREGISTERED: "Not registered", FAILED: "Registration failed",
};

const isLive = (c) => !!c && !ENDED.includes(c.state);
const isUp = (c) => !!c && (c.state === "ESTABLISHED" || c.state === "HOLD");
const weHold = (c) => !!c && c.state === "HOLD" && (c.held === "local" || c.held === "both");
const can = (feature) => state.features.has(feature);
const currentCall = () => (state.current != null ? state.calls.get(state.current) : null);

function setStatus(text) { ui.statusLine.textContent = text; }
function withCode(code, reason) {
  if (code && reason) return `${code} ${reason}`;
  return reason || (code ? String(code) : "");
}
// A contact key: the address without scheme, parameters, brackets and case, so replies land in one conversation.
function contactKey(uri) {
  let s = String(uri || "").trim().replace(/^<|>$/g, "").toLowerCase();
  s = s.replace(/^(sips?|tel|callto):/, "");
  return s.split(";")[0];
}
function fmtDuration(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
  const mm = String(m).padStart(2, "0"), ss = String(s).padStart(2, "0");
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}
function el(tag, props, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (k === "class") e.className = v;
    else if (k === "dataset") Object.assign(e.dataset, v);
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c != null) e.append(c);
  return e;
}

// ---- Tabs ---------------------------------------------------------------------------------------------------
const tabs = [...document.querySelectorAll("[role=tab]")];
function showView(name, focusTab) {
  for (const t of tabs) {
    const on = t.dataset.view === name;
    t.setAttribute("aria-selected", String(on));
    t.tabIndex = on ? 0 : -1;
    $(t.getAttribute("aria-controls")).hidden = !on;
    if (on && focusTab) t.focus();
  }
  if (name === "history") loadHistory();
  if (name === "chat") { markRead(state.chatWith); renderChat(); }
}
for (const t of tabs) {
  t.addEventListener("click", () => showView(t.dataset.view));
  t.addEventListener("keydown", (e) => {
    const i = tabs.indexOf(t);
    const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[e.key];
    if (next === undefined) return;
    e.preventDefault();
    showView(tabs[(next + tabs.length) % tabs.length].dataset.view, true);
  });
}
document.addEventListener("keydown", (e) => {
  // Alt+1..4 switch screens from anywhere.
  if (e.altKey && /^[1-4]$/.test(e.key)) { e.preventDefault(); showView(tabs[Number(e.key) - 1].dataset.view, true); }
});
const currentView = () => (tabs.find((t) => t.getAttribute("aria-selected") === "true") || tabs[0]).dataset.view;

// ---- Errors -------------------------------------------------------------------------------------------------
function showFieldErrors(list) {
  for (const id of Object.values(fieldIds)) $(id).removeAttribute("aria-invalid");
  ui.errors.textContent = list.map((e) => e.message).join("\n");
  for (const e of list) {
    const id = fieldIds[e.field];
    if (id) $(id).setAttribute("aria-invalid", "true");
  }
}
function showKeyringProblem(message) {
  ui.keyringNote.textContent = message;
  ui.keyringBox.hidden = !message;
}
function showError(e) {
  if (e && (e.code === "invalid_account" || e.code === "invalid_profile") && Array.isArray(e.fields)) {
    showFieldErrors(e.fields);
    setStatus("Please correct the highlighted fields.");
  } else if (e && (e.code === "keyring_unavailable" || e.code === "keyring")) {
    showKeyringProblem(e.message);
    setStatus(e.message);
  } else {
    setStatus(`Error: ${e && e.message ? e.message : String(e)}`);
  }
}
async function attempt(fn) {
  try { return await fn(); } catch (e) { showError(e); return undefined; }
}

// ---- Profiles and the connection form ---------------------------------------------------------------------------
function readForm() {
  const v = (k) => $(fieldIds[k]).value.trim();
  const port = v("port");
  return {
    serverUrl: v("serverUrl"), login: v("login"), authName: v("authName"), password: $(fieldIds.password).value,
    domain: v("domain"), outboundProxy: v("outboundProxy"), port: port === "" ? null : Number(port),
    transport: v("transport"), displayName: $(fieldIds.displayName).value, registerRequired: $(fieldIds.registerRequired).checked,
    tlsCaFile: v("tlsCaFile"), tlsPin: v("tlsPin"),
  };
}
function readProfile() {
  const form = readForm();
  delete form.password;
  const pick = (id) => $(id).value || null;
  return {
    ...form,
    id: state.editing || "",
    name: $("profile-name").value.trim(),
    audioCodecs: $("audio-codecs").value.split(/[,\s]+/).map((c) => c.trim()).filter(Boolean),
    videoCodecs: (state.profiles.find((p) => p.id === state.editing) || {}).videoCodecs || [],
    dtmf: $("dtmf-method").value,
    devices: { microphone: pick("dev-mic"), speaker: pick("dev-speaker"), ringer: pick("dev-ringer") },
    passwordMode: ui.passwordMode.value,
  };
}
function setSelect(select, value) {
  const v = value || "";
  if (v && ![...select.options].some((o) => o.value === v)) {
    // A saved device that is not plugged in now stays selectable, marked as missing.
    select.append(el("option", { value: v }, `${v} (not connected)`));
  }
  select.value = v;
}
function fillForm(p) {
  state.editing = p ? p.id : null;
  const set = (k, v) => { $(fieldIds[k]).value = v ?? ""; };
  set("name", p ? p.name : ""); set("serverUrl", p ? p.serverUrl : ""); set("login", p ? p.login : "");
  set("authName", p ? p.authName : ""); set("domain", p ? p.domain : ""); set("outboundProxy", p ? p.outboundProxy : "");
  set("port", p && p.port != null ? p.port : ""); set("transport", p ? p.transport : "udp");
  set("displayName", p ? p.displayName : ""); set("tlsCaFile", p ? p.tlsCaFile : ""); set("tlsPin", p ? p.tlsPin : "");
  $("register-required").checked = p ? p.registerRequired : true;
  $("audio-codecs").value = p ? (p.audioCodecs || []).join(", ") : "";
  $("dtmf-method").value = p ? p.dtmf : "auto";
  setSelect($("dev-mic"), p && p.devices.microphone);
  setSelect($("dev-speaker"), p && p.devices.speaker);
  setSelect($("dev-ringer"), p && p.devices.ringer);
  ui.passwordMode.value = p ? p.passwordMode : (state.keyring.available ? "remember" : "askEachTime");
  $("password").value = "";
  $("password").placeholder = p && p.passwordMode === "remember" ? "(kept in the keyring; type to change)" : "";
  ui.formTitle.textContent = p ? `Edit profile: ${p.name}` : "New profile";
  ui.deleteProfile.hidden = !p;
  showFieldErrors([]);
  showKeyringProblem(state.keyring.available || ui.passwordMode.value === "askEachTime" ? "" : state.keyring.message);
  renderProfiles();
}
function renderProfiles() {
  // Re-render only when something changed, so a button being clicked is not replaced under the pointer.
  const key = JSON.stringify([state.profiles, state.editing, state.connected, state.account]);
  if (key === ui.profileList.dataset.key) return;
  ui.profileList.dataset.key = key;
  ui.profileList.replaceChildren(...state.profiles.map((p) => {
    const where = `${p.login}@${p.domain || p.serverUrl}${p.transport !== "udp" ? ` (${p.transport.toUpperCase()})` : ""}`;
    const active = state.connected && state.account === p.id;
    return el("li", { class: `card${p.id === state.editing ? " editing" : ""}${active ? " active" : ""}`, dataset: { id: p.id } },
      el("div", { class: "card-text" },
        el("strong", { class: "profile-title" }, p.name),
        el("span", { class: "muted" }, where),
        el("span", { class: "muted" }, p.passwordMode === "askEachTime" ? "password asked each time" : "password in keyring")),
      el("div", { class: "actions" },
        el("button", { class: "primary connect-profile", type: "button", "aria-label": `Connect ${p.name}`,
                       onclick: () => connectProfile(p) }, active ? "Connected" : "Connect"),
        el("button", { class: "edit-profile", type: "button", "aria-label": `Edit ${p.name}`,
                       onclick: () => { fillForm(p); $("profile-name").focus(); } }, "Edit")));
  }));
  ui.profilesEmpty.hidden = state.profiles.length > 0;
  for (const b of ui.profileList.querySelectorAll(".connect-profile")) b.disabled = state.connected;
}
async function loadProfiles() {
  const list = await attempt(() => api.listProfiles());
  if (list) { state.profiles = list; renderProfiles(); }
}

ui.saveProfile.addEventListener("click", () => saveProfile());
async function saveProfile() {
  showFieldErrors([]);
  showKeyringProblem("");
  const profile = readProfile();
  const password = $("password").value;
  setStatus("Saving…");
  try {
    const saved = await api.saveProfile(profile, profile.passwordMode === "remember" ? password : null);
    state.profiles = await api.listProfiles().catch(() => state.profiles.filter((p) => p.id !== saved.id).concat([saved]));
    fillForm(saved);
    setStatus(`Profile "${saved.name}" saved${saved.passwordMode === "remember" && password ? "; its password is in the system keyring" : ""}.`);
    return saved;
  } catch (e) {
    showError(e);
    return null;
  }
}
ui.askEachTime.addEventListener("click", async () => {
  ui.passwordMode.value = "askEachTime";
  showKeyringProblem("");
  await saveProfile();
});
ui.passwordMode.addEventListener("change", () => {
  if (ui.passwordMode.value === "askEachTime") showKeyringProblem("");
  else if (!state.keyring.available) showKeyringProblem(state.keyring.message);
});
$("notice-close").addEventListener("click", () => { $("notice-box").hidden = true; $("profile-name").focus(); });
ui.newProfile.addEventListener("click", () => { fillForm(null); $("profile-name").focus(); });
ui.deleteProfile.addEventListener("click", async () => {
  const p = state.profiles.find((x) => x.id === state.editing);
  if (!p) return;
  if (!window.confirm(`Delete the profile "${p.name}" and its saved password?`)) return;
  const ok = await attempt(async () => { await api.deleteProfile(p.id); return true; });
  if (ok) { await loadProfiles(); fillForm(null); setStatus(`Profile "${p.name}" deleted.`); }
});

function askPassword(title) {
  return new Promise((resolve) => {
    ui.pwTitle.textContent = title;
    ui.pwInput.value = "";
    const done = () => {
      ui.pwDialog.removeEventListener("close", done);
      resolve(ui.pwDialog.returnValue === "ok" ? ui.pwInput.value : null);
    };
    ui.pwDialog.addEventListener("close", done);
    ui.pwDialog.showModal();
    ui.pwInput.focus();
  });
}

async function connectProfile(p) {
  setStatus(`Connecting ${p.name}…`);
  let password = null;
  if (p.passwordMode === "askEachTime") {
    password = await askPassword(`Password for ${p.name} (${p.login})`);
    if (password === null) { setStatus("Not connected."); return; }
  }
  try {
    await api.connectProfile(p.id, password);
  } catch (e) {
    if (e && e.code === "password_required") {
      password = await askPassword(e.message);
      if (password === null) { setStatus("Not connected."); return; }
      try { await api.connectProfile(p.id, password); } catch (e2) { fillForm(p); showError(e2); return; }
    } else {
      fillForm(p);
      showError(e);
      return;
    }
  }
  // The in-call pickers start from the profile's devices.
  setSelect(ui.callMic, p.devices.microphone);
  setSelect(ui.callSpeaker, p.devices.speaker);
  connected(p.id, p.name, p.registerRequired);
}

function connected(accountId, name, registers) {
  state.connected = true;
  state.account = accountId;
  ui.accountName.textContent = name;
  if (!registers) setStatus("Connected without registering: calls go directly.");
  renderProfiles();
  render();
  showView("phone");
  ui.callee.focus();
}

ui.form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  showFieldErrors([]);
  setStatus("Connecting…");
  const form = readForm();
  try {
    await api.connect(form);
    await attempt(() => api.setDtmfMethod($("dtmf-method").value));
    connected(state.editing || "", $("profile-name").value.trim() || form.login, form.registerRequired);
  } catch (e) {
    state.connected = false;
    showError(e);
  }
  render();
});

ui.disconnect.addEventListener("click", async () => {
  await attempt(() => api.disconnect());
  state.connected = false;
  state.account = "";
  ui.accountName.textContent = "";
  setStatus("Disconnected.");
  renderProfiles();
  render();
});

// ---- Devices ------------------------------------------------------------------------------------------------
// A device id (`pulseaudio:spk_b`) as its name (`Speaker_B`) when the list knows it.
const deviceName = (id) => ((state.devices.find((d) => d.id === id) || {}).name || id || "");
async function loadDevices() {
  try {
    state.devices = await api.listDevices();
    ui.devicesNote.textContent = state.devices.length ? "" : "No audio devices found; the system default is used.";
  } catch (e) {
    state.devices = [];
    ui.devicesNote.textContent = e.message || String(e);
  }
  for (const select of document.querySelectorAll("select[data-kind]")) {
    const keep = select.value;
    const opts = state.devices.filter((d) => d.kind === select.dataset.kind)
      .map((d) => el("option", { value: d.id }, `${d.name}${d.isDefault ? " (default)" : ""}`));
    select.replaceChildren(el("option", { value: "" }, "System default"), ...opts);
    setSelect(select, keep);
  }
}

// ---- Calls --------------------------------------------------------------------------------------------------
function render() {
  const c = currentCall();
  const live = isLive(c);
  const up = isUp(c);
  const consult = state.consult != null ? state.calls.get(state.consult) : null;
  const ringing = live && c.direction === "incoming" && c.state === "RING";
  ui.connect.disabled = state.connected;
  ui.disconnect.disabled = !state.connected;
  ui.call.disabled = !state.connected || live;
  ui.answer.disabled = !ringing;
  ui.decline.disabled = !ringing;
  ui.incoming.hidden = !ringing;
  // While a call rings here, the screen is about answering it.
  $("call-controls").hidden = ringing;
  if (ringing) {
    ui.incomingName.textContent = c.display_name || c.peer;
    ui.incomingUri.textContent = c.peer;
  }
  ui.hangup.disabled = !live && !isLive(consult);
  ui.hold.disabled = !(up && can("hold"));
  ui.hold.textContent = weHold(c) ? "Resume" : "Hold";
  const muted = c && state.muted.has(c.id);
  ui.mute.disabled = !(up && can("mute"));
  ui.mute.textContent = muted ? "Unmute" : "Mute";
  ui.mute.setAttribute("aria-pressed", String(!!muted));
  ui.callMic.disabled = !(up && can("devices"));
  ui.callSpeaker.disabled = !(up && can("devices"));
  ui.transfer.disabled = !(up && can("transfer") && !isLive(consult));
  ui.consult.disabled = !(up && can("transfer") && !isLive(consult));
  ui.completeTransfer.disabled = !(up && isUp(consult) && can("transfer"));
  for (const key of ui.keypad.querySelectorAll("button")) key.disabled = !(up && can("dtmf"));
  ui.sendMessage.disabled = !(state.connected && can("message"));
  ui.setPresence.disabled = !(state.connected && can("presence"));
  ui.watch.disabled = !(state.connected && can("presence"));
  ui.reg.dataset.state = state.registration;
  ui.reg.textContent = state.connected || state.registration === "FAILED" ? regText[state.registration] : "Not connected";
  if (c) {
    ui.callStatus.dataset.state = c.state;
    const detail = c.state === "HOLD" ? heldText[c.held] || "" : withCode(c.code, c.reason);
    ui.callStatus.textContent = `${c.state} — ${callStateText[c.state] || c.state}${detail ? ` (${detail})` : ""}: ${c.display_name || c.peer}`;
  }
  renderTimer();
}

function renderTimer() {
  const c = currentCall();
  const at = c && state.connectedAt.get(c.id);
  if (!at) { ui.callTimer.textContent = "00:00"; ui.callTimer.dataset.running = "false"; return; }
  const end = isLive(c) ? Date.now() : (c.endedAt || Date.now());
  ui.callTimer.textContent = fmtDuration(end - at);
  ui.callTimer.dataset.running = String(isLive(c));
}
setInterval(renderTimer, 500);

function onCallEvent(ev) {
  const known = state.calls.has(ev.id);
  if (ev.state === "ESTABLISHED" && !state.connectedAt.has(ev.id)) state.connectedAt.set(ev.id, Date.now());
  if (ENDED.includes(ev.state)) { ev.endedAt = Date.now(); state.muted.delete(ev.id); }
  state.calls.set(ev.id, ev);
  if (!known && state.placingConsult && ev.direction === "outgoing") {
    state.consult = ev.id;
    state.placingConsult = false;
  }
  if (ev.id === state.consult) {
    ui.transferStatus.textContent = `Consult call: ${callStateText[ev.state] || ev.state}${ev.reason ? ` (${ev.reason})` : ""}`;
    if (ENDED.includes(ev.state)) state.consult = null;
    return;
  }
  // A new call (incoming, or the one we place) becomes the one shown, unless the shown one is live.
  const shown = currentCall();
  if (!known && (!isLive(shown) || ev.replaces === state.current || ev.direction === "outgoing")) {
    state.current = ev.id;
    resetStats();
    showView("phone"); // a call placed from anywhere (history, a link, a notification) shows the Phone screen
  }
  if (known && ev.id !== state.current && !isLive(shown) && isLive(ev)) state.current = ev.id;
  if (ev.direction === "incoming" && ev.state === "RING") {
    setStatus(`Incoming call from ${ev.display_name || ev.peer}`);
    if (ev.id === state.current) { showView("phone"); setTimeout(() => ui.answer.focus(), 0); }
  }
  if (ev.replaces != null) setStatus(`Call from ${ev.display_name || ev.peer} replaces the previous one (transfer)`);
  if (ev.id === state.current && ENDED.includes(ev.state)) {
    for (const [id, other] of state.calls) if (id !== ev.id && id !== state.consult && isLive(other)) state.current = id;
  }
}

ui.call.addEventListener("click", () => dial(ui.callee.value.trim()));
async function dial(target) {
  if (!target) { setStatus("Enter who to call."); ui.callee.focus(); return; }
  closeSuggestions();
  ui.callee.value = target;
  showView("phone");
  await attempt(() => api.call(target));
}
for (const [btn, fn] of [[ui.answer, "answer"], [ui.decline, "decline"]]) {
  btn.addEventListener("click", async () => {
    if (state.current == null) return;
    await attempt(() => api[fn](state.current));
  });
}
ui.hangup.addEventListener("click", async () => {
  const c = currentCall();
  // During a consult the hangup ends the consult call; the held call stays.
  const id = state.consult != null && isLive(state.calls.get(state.consult)) ? state.consult : c && c.id;
  if (id != null) await attempt(() => api.hangup(id));
});
ui.hold.addEventListener("click", async () => {
  const c = currentCall();
  if (!c) return;
  await attempt(() => (weHold(c) ? api.resume(c.id) : api.hold(c.id)));
});
ui.mute.addEventListener("click", async () => {
  const c = currentCall();
  if (!c) return;
  const muting = !state.muted.has(c.id);
  const ok = await attempt(async () => { await api.mute(c.id, muting); return true; });
  if (ok) {
    if (muting) state.muted.add(c.id); else state.muted.delete(c.id);
    setStatus(muting ? "Microphone muted." : "Microphone on.");
    render();
  }
});
for (const [select, fn, what] of [[ui.callMic, "switchMic", "Microphone"], [ui.callSpeaker, "switchSpeaker", "Speaker"]]) {
  select.addEventListener("change", async () => {
    const c = currentCall();
    if (!c) return;
    const now = await attempt(() => api[fn](c.id, select.value));
    if (now) ui.deviceStatus.textContent = `${what}: ${deviceName(now)}`;
  });
}

ui.transfer.addEventListener("click", async () => {
  const target = ui.transferTarget.value.trim();
  if (!target) { setStatus("Enter whom to transfer to."); ui.transferTarget.focus(); return; }
  if (state.current == null) return;
  ui.transferStatus.textContent = `Transferring to ${target}…`;
  await attempt(() => api.transfer(state.current, target));
});
ui.consult.addEventListener("click", async () => {
  const target = ui.consultTarget.value.trim();
  if (!target) { setStatus("Enter whom to consult."); ui.consultTarget.focus(); return; }
  const c = currentCall();
  if (!c) return;
  // RFC 5589: the party being transferred waits on hold while we consult.
  if (!weHold(c)) await attempt(() => api.hold(c.id));
  state.placingConsult = true;
  const id = await attempt(() => api.call(target));
  state.placingConsult = false;
  if (id != null) state.consult = id;
  render();
});
ui.completeTransfer.addEventListener("click", async () => {
  if (state.current == null || state.consult == null) return;
  ui.transferStatus.textContent = "Completing the transfer…";
  await attempt(() => api.attendedTransfer(state.current, state.consult));
});

async function sendDigit(digit) {
  const c = currentCall();
  if (!isUp(c) || !can("dtmf")) return;
  const key = ui.keypad.querySelector(`button[data-dtmf="${CSS.escape(digit)}"]`);
  if (key) { key.classList.add("pressed"); setTimeout(() => key.classList.remove("pressed"), 150); }
  ui.dtmfStatus.textContent = `Sending DTMF ${digit}…`;
  const method = await attempt(() => api.sendDtmf(c.id, digit, null));
  if (method) ui.dtmfStatus.textContent = `Sent DTMF ${digit} (${method === "info" ? "SIP INFO" : "RFC 4733"})`;
}
ui.keypad.addEventListener("click", (e) => {
  const key = e.target.closest("button[data-dtmf]");
  if (key && !key.disabled) sendDigit(key.dataset.dtmf);
});
// During a call, digit keys go to the keypad unless the user is typing somewhere.
document.addEventListener("keydown", (e) => {
  if (e.altKey || e.ctrlKey || e.metaKey || !/^[0-9*#]$/.test(e.key)) return;
  const t = e.target;
  if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable)) return;
  if (!isUp(currentCall())) return;
  e.preventDefault();
  sendDigit(e.key);
});

// ---- Statistics and the quality graph ---------------------------------------------------------------------------
const statIds = ["codec", "sent", "received", "lost", "jitter", "rtt", "mos"];
function resetStats() {
  for (const k of statIds) $(`stat-${k}`).textContent = "–";
  for (const note of [ui.deviceStatus, ui.dtmfStatus, ui.transferStatus]) note.textContent = "";
  ui.statsNote.textContent = "Statistics appear every second while a call has media.";
  drawGraph([]);
}
function onStats(ev) {
  const entry = state.stats.get(ev.id) || { mos: [] };
  const s = ev.stats || {};
  entry.last = s;
  if (typeof s.mos === "number") { entry.mos.push(s.mos); if (entry.mos.length > 600) entry.mos.shift(); }
  state.stats.set(ev.id, entry);
  if (ev.id !== state.current) return;
  const num = (v, unit, digits = 1) => (typeof v === "number" ? `${v.toFixed(digits)}${unit}` : "–");
  const lossPct = typeof s.packets_lost === "number" && typeof s.packets_received === "number" && s.packets_received + s.packets_lost > 0
    ? ` (${((100 * Math.max(0, s.packets_lost)) / (s.packets_received + Math.max(0, s.packets_lost))).toFixed(1)} %)` : "";
  $("stat-codec").textContent = s.codec || "–";
  $("stat-sent").textContent = s.packets_sent ?? "–";
  $("stat-received").textContent = s.packets_received ?? "–";
  $("stat-lost").textContent = s.packets_lost != null ? `${s.packets_lost}${lossPct}` : "–";
  $("stat-jitter").textContent = num(s.jitter_ms, " ms");
  $("stat-rtt").textContent = num(s.rtt_ms, " ms");
  $("stat-mos").textContent = typeof s.mos === "number" ? `${s.mos.toFixed(2)} ${mosWord(s.mos)}` : "–";
  ui.statsNote.textContent = ev.final ? "Final statistics of the call." : "Live, every second.";
  drawGraph(entry.mos);
}
function mosWord(m) { return m >= 4.0 ? "(good)" : m >= 3.6 ? "(fair)" : m >= 3.1 ? "(poor)" : "(bad)"; }
function drawGraph(series) {
  const cv = ui.mosGraph;
  const ctx = cv.getContext("2d");
  if (!ctx) return;
  const css = getComputedStyle(document.documentElement);
  const color = (name) => css.getPropertyValue(name).trim() || "#888";
  const w = cv.width, h = cv.height, left = 22, top = 9, bottom = 6;
  const y = (mos) => top + (h - top - bottom) * (1 - (Math.min(5, Math.max(1, mos)) - 1) / 4);
  ctx.clearRect(0, 0, w, h);
  ctx.font = "10px system-ui, sans-serif";
  ctx.lineWidth = 1;
  for (const level of [1, 2, 3, 4, 5]) {
    ctx.strokeStyle = color("--line");
    ctx.beginPath(); ctx.moveTo(left, y(level) + 0.5); ctx.lineTo(w, y(level) + 0.5); ctx.stroke();
    ctx.fillStyle = color("--muted");
    ctx.fillText(String(level), 4, y(level) + 3);
  }
  if (!series.length) return;
  const shown = series.slice(-120);
  const step = shown.length > 1 ? (w - left - 4) / (shown.length - 1) : 0;
  const last = shown[shown.length - 1];
  ctx.strokeStyle = color(last >= 4 ? "--ok" : last >= 3.1 ? "--warn" : "--danger");
  ctx.lineWidth = 2;
  ctx.beginPath();
  shown.forEach((m, i) => { const x = left + i * step; if (i) ctx.lineTo(x, y(m)); else ctx.moveTo(x, y(m)); });
  if (shown.length === 1) ctx.lineTo(left + 4, y(last));
  ctx.stroke();
}

// ---- History and dial completion --------------------------------------------------------------------------------
async function loadHistory() {
  const list = await attempt(() => api.historyList(200, 0));
  if (!list) return;
  state.history = list;
  renderHistory();
}
function resultText(r) {
  const d = r.result;
  if (d.state === "FINISH") return r.durationMs > 0 ? fmtDuration(r.durationMs) : (r.direction === "incoming" ? "missed" : "not answered");
  if (d.state === "BUSY") return "busy";
  return `failed${d.code ? ` (${withCode(d.code, d.reason)})` : d.reason ? ` (${d.reason})` : ""}`;
}
function renderHistory() {
  const q = contactKey(ui.historyFilter.value);
  const rows = state.history.filter((r) => !q || contactKey(r.peer).includes(q) || (r.displayName || "").toLowerCase().includes(q));
  // Re-render only when something changed, so a row being clicked is not replaced under the pointer.
  const key = JSON.stringify([state.connected, rows.map((r) => [r.id, r.statsJson.length, r.displayName])]);
  if (key === ui.historyList.dataset.key) return;
  ui.historyList.dataset.key = key;
  ui.historyList.replaceChildren(...rows.map((r) => {
    let mos = "";
    try { const s = r.statsJson ? JSON.parse(r.statsJson) : null; if (s && typeof s.mos === "number") mos = `MOS ${s.mos.toFixed(1)}`; } catch (_) { /* not JSON: no figure */ }
    const when = new Date(r.startedAtMs);
    return el("li", { class: "call-row", dataset: { id: String(r.id), state: r.result.state, direction: r.direction } },
      el("span", { class: "dir", "aria-label": r.direction, title: r.direction }, r.direction === "incoming" ? "↙" : "↗"),
      el("div", { class: "who" },
        el("strong", {}, r.displayName || r.peer),
        r.displayName ? el("span", { class: "muted peer" }, r.peer) : null),
      el("div", { class: "when muted" }, when.toLocaleString()),
      el("div", { class: "result" }, resultText(r), mos ? el("span", { class: "muted" }, ` · ${mos}`) : null),
      el("div", { class: "actions" },
        el("button", { class: "call-back", type: "button", "aria-label": `Call back ${r.displayName || r.peer}`,
                       onclick: () => dial(r.peer) }, "Call back"),
        el("button", { class: "forget", type: "button", title: "Remove from the history",
                       "aria-label": `Remove the call with ${r.displayName || r.peer} from the history`,
                       onclick: () => forgetCall(r.id) }, "×")));
  }));
  ui.historyEmpty.hidden = rows.length > 0;
  ui.historyEmpty.textContent = state.history.length ? "No calls match." : "No calls yet.";
  for (const b of ui.historyList.querySelectorAll(".call-back")) b.disabled = !state.connected;
}
ui.historyFilter.addEventListener("input", renderHistory);
async function forgetCall(id) {
  const removed = await attempt(() => api.deleteHistoryEntry(id));
  if (removed) { setStatus("Call removed from the history."); await loadHistory(); }
}

function closeSuggestions() {
  state.suggest.items = [];
  state.suggest.active = -1;
  ui.suggestions.hidden = true;
  ui.callee.setAttribute("aria-expanded", "false");
  ui.callee.removeAttribute("aria-activedescendant");
}
function renderSuggestions() {
  const { items, active } = state.suggest;
  ui.suggestions.replaceChildren(...items.map((s, i) => el("li", {
    id: `suggestion-${i}`, role: "option", "aria-selected": String(i === active), class: i === active ? "active" : "",
    onmousedown: (e) => { e.preventDefault(); pickSuggestion(i); },
  }, el("span", {}, s.displayName || s.peer), s.displayName ? el("span", { class: "muted" }, ` ${s.peer}`) : null)));
  ui.suggestions.hidden = items.length === 0;
  ui.callee.setAttribute("aria-expanded", String(items.length > 0));
  if (active >= 0) ui.callee.setAttribute("aria-activedescendant", `suggestion-${active}`);
  else ui.callee.removeAttribute("aria-activedescendant");
}
function pickSuggestion(i) {
  const s = state.suggest.items[i];
  if (!s) return;
  ui.callee.value = s.peer;
  closeSuggestions();
}
ui.callee.addEventListener("input", async () => {
  const prefix = ui.callee.value.trim();
  const seq = ++state.suggest.seq;
  if (!prefix) { closeSuggestions(); return; }
  let items = [];
  try { items = await api.peerSuggestions(prefix, 6); } catch (_) { items = []; }
  if (seq !== state.suggest.seq) return; // a newer keystroke won
  // Keep the highlighted peer highlighted when a slower answer refreshes the list.
  const was = state.suggest.items[state.suggest.active];
  state.suggest.items = items.filter((s) => s.peer !== prefix);
  state.suggest.active = was ? state.suggest.items.findIndex((s) => s.peer === was.peer) : -1;
  renderSuggestions();
});
ui.callee.addEventListener("keydown", (e) => {
  const n = state.suggest.items.length;
  if (e.key === "ArrowDown" && n) { e.preventDefault(); state.suggest.active = (state.suggest.active + 1) % n; renderSuggestions(); }
  else if (e.key === "ArrowUp" && n) { e.preventDefault(); state.suggest.active = (state.suggest.active - 1 + n) % n; renderSuggestions(); }
  else if (e.key === "Escape") closeSuggestions();
  else if (e.key === "Enter") {
    e.preventDefault();
    if (state.suggest.active >= 0) pickSuggestion(state.suggest.active);
    else if (!ui.call.disabled) ui.call.click();
  }
});
ui.callee.addEventListener("blur", () => setTimeout(() => { if (document.activeElement !== ui.callee) closeSuggestions(); }, 100));

// ---- Chat per contact and presence --------------------------------------------------------------------------------
function conversation(uri, name) {
  const key = contactKey(uri);
  let conv = state.conversations.get(key);
  if (!conv) { conv = { key, uri, name: name || "", lines: [], unread: 0 }; state.conversations.set(key, conv); }
  if (name) conv.name = name;
  return conv;
}
function markRead(key) {
  const conv = key && state.conversations.get(key);
  if (conv) conv.unread = 0;
}
function presenceOf(key) {
  for (const w of state.watched.values()) if (w.key === key && w.status) return w;
  return null;
}
function renderChat() {
  const keys = new Set([...state.conversations.keys()]);
  for (const w of state.watched.values()) keys.add(w.key);
  ui.contactList.replaceChildren(...[...keys].map((key) => {
    const conv = state.conversations.get(key);
    const w = [...state.watched.values()].find((x) => x.key === key);
    const p = presenceOf(key);
    const label = (conv && conv.name) || (conv && conv.uri) || (w && w.target) || key;
    return el("li", {},
      el("button", { type: "button", class: `contact${key === state.chatWith ? " selected" : ""}`, "aria-current": key === state.chatWith ? "true" : null,
                     onclick: () => openChat(key) },
        el("span", { class: "dot", dataset: { status: p ? p.status : "unknown" }, "aria-hidden": "true" }),
        el("span", { class: "grow" }, label),
        p ? el("span", { class: "muted" }, p.status === "open" ? "available" : "away") : null,
        conv && conv.unread ? el("span", { class: "count" }, String(conv.unread)) : null));
  }));
  const conv = state.chatWith ? state.conversations.get(state.chatWith) : null;
  ui.chatTitle.textContent = conv ? `Messages with ${conv.name || conv.uri}` : "Messages";
  ui.messageLog.replaceChildren(...(conv ? conv.lines : []).map((l) => el("li", { class: l.dir, dataset: l.result ? { result: l.result } : {} },
    `${l.dir === "in" ? (conv.name || conv.uri) : "You"}: ${l.text}${l.mark ? ` ${l.mark}` : ""}`)));
  ui.messageLog.scrollTop = ui.messageLog.scrollHeight;
  const unread = [...state.conversations.values()].reduce((n, c) => n + c.unread, 0);
  ui.unread.hidden = unread === 0;
  ui.unread.textContent = String(unread);
}
function openChat(key) {
  state.chatWith = key;
  markRead(key);
  const conv = state.conversations.get(key);
  const w = [...state.watched.values()].find((x) => x.key === key);
  ui.messageTo.value = conv ? conv.uri : w ? w.target : key;
  renderChat();
  ui.messageText.focus();
}
function showResult(line, ev) {
  const ok = ev.code >= 200 && ev.code < 300;
  line.result = ok ? "delivered" : "failed";
  line.mark = ok ? "✓" : `✗ (${ev.code} ${ev.reason})`;
  state.messages.delete(ev.id);
  state.results.delete(ev.id);
}

ui.sendMessage.addEventListener("click", async () => {
  const text = ui.messageText.value;
  const to = ui.messageTo.value.trim();
  if (!text.trim()) { setStatus("Type a message first."); ui.messageText.focus(); return; }
  const c = currentCall();
  const inCall = (!to && isUp(c)) || (isUp(c) && contactKey(to) === contactKey(c.peer));
  if (!to && !inCall) { setStatus("Enter a recipient, or send during a call."); ui.messageTo.focus(); return; }
  const id = await attempt(() => api.sendMessage(to || c.peer, text, inCall ? c.id : null));
  if (id != null) {
    const conv = conversation(inCall ? c.peer : to, inCall ? c.display_name : "");
    const line = { dir: "out", text, mark: "…" };
    conv.lines.push(line);
    state.messages.set(id, line);
    if (state.results.has(id)) showResult(line, state.results.get(id));
    state.chatWith = conv.key;
    if (!ui.messageTo.value.trim()) ui.messageTo.value = "";
    ui.messageText.value = "";
    renderChat();
  }
});
ui.messageText.addEventListener("keydown", (e) => { if (e.key === "Enter" && !ui.sendMessage.disabled) ui.sendMessage.click(); });

ui.setPresence.addEventListener("click", async () => {
  const status = ui.presenceStatus.value;
  const note = ui.presenceNote.value.trim();
  const done = await attempt(async () => { await api.setPresence(status, note, ui.presencePublish.checked); return true; });
  if (done) setStatus(`Your status: ${status === "open" ? "available" : "away"}${note ? ` — ${note}` : ""}`);
});
ui.watch.addEventListener("click", async () => {
  const target = ui.watchTarget.value.trim();
  if (!target) { setStatus("Enter whom to watch."); ui.watchTarget.focus(); return; }
  const id = await attempt(() => api.subscribePresence(target));
  if (id != null) {
    state.watched.set(id, { target, key: contactKey(target), li: el("li", {}, `${target}: asking…`), status: null });
    ui.presenceList.prepend(state.watched.get(id).li);
    ui.watchTarget.value = "";
    for (const ev of state.early.get(id) || []) onPhoneEvent(ev);
    state.early.delete(id);
    renderChat();
  }
});

// ---- Core events --------------------------------------------------------------------------------------------
function onPhoneEvent(ev) {
  switch (ev.event) {
    case "registration": {
      state.registration = ev.state;
      const detail = withCode(ev.code, ev.reason);
      setStatus(`${regText[ev.state] || ev.state}${detail ? `: ${detail}` : ""} (${ev.aor})`);
      break;
    }
    case "call": onCallEvent(ev); break;
    case "stats": onStats(ev); break;
    case "audio_device": {
      const role = ev.role === "microphone" ? "Microphone" : "Speaker";
      ui.deviceStatus.textContent = ev.change === "switched" ? `${role}: ${deviceName(ev.to)}`
        : ev.change === "fallback" ? `${role} ${deviceName(ev.from)} went away; using ${deviceName(ev.to)}${ev.reason ? ` (${ev.reason})` : ""}`
          : `${role} lost${ev.reason ? `: ${ev.reason}` : ""}`;
      break;
    }
    case "transfer":
      ui.transferStatus.textContent = ev.role === "transferor"
        ? `Transfer: the other party reports ${ev.code} ${ev.reason}${ev.code >= 200 && ev.code < 300 ? " — done" : ""}`
        : `We are being transferred: ${ev.code} ${ev.reason}`;
      break;
    case "transfer_requested":
      ui.transferStatus.textContent = `The other party transfers us to ${ev.target}`;
      break;
    case "dtmf":
      if (ev.flow === "received") ui.dtmfStatus.textContent = `Received DTMF ${ev.digit}`;
      break;
    case "dtmf_failed":
      ui.dtmfStatus.textContent = `DTMF ${ev.digit} not delivered: ${ev.code} ${ev.reason}`;
      break;
    case "message": {
      const conv = conversation(ev.from, ev.display_name);
      conv.lines.push({ dir: "in", text: ev.body + (ev.call != null ? " (in call)" : "") });
      if (state.chatWith == null) { state.chatWith = conv.key; ui.messageTo.value = conv.uri; }
      if (!(currentView() === "chat" && state.chatWith === conv.key)) conv.unread += 1;
      setStatus(`Message from ${ev.display_name || ev.from}`);
      renderChat();
      break;
    }
    case "message_result": {
      const line = state.messages.get(ev.id);
      if (line) { showResult(line, ev); renderChat(); } else state.results.set(ev.id, ev);
      break;
    }
    case "publication":
      setStatus(`Presence ${ev.state.toLowerCase()}${ev.code ? `: ${withCode(ev.code, ev.reason)}` : ""}`);
      break;
    case "subscription": {
      const w = state.watched.get(ev.id);
      if (!w) { state.early.set(ev.id, [...(state.early.get(ev.id) || []), ev]); break; }
      w.li.dataset.state = ev.state;
      if (ev.state === "TERMINATED") {
        w.li.textContent = `${w.target}: no longer watched (${ev.reason || "ended"})`;
        state.watched.delete(ev.id);
      } else if (ev.state === "PENDING") {
        w.li.textContent = `${w.target}: waiting for permission`;
      }
      renderChat();
      break;
    }
    case "presence": {
      const w = state.watched.get(ev.subscription);
      if (!w) { state.early.set(ev.subscription, [...(state.early.get(ev.subscription) || []), ev]); break; }
      w.status = ev.status;
      w.note = ev.note;
      w.li.dataset.status = ev.status;
      w.li.textContent = `${w.target}: ${ev.status === "open" ? "available" : "away"}${ev.note ? ` — ${ev.note}` : ""}`;
      renderChat();
      break;
    }
    case "listening":
      if (!$(fieldIds.registerRequired).checked) setStatus(`Ready without registering; reachable at ${ev.contact}`);
      break;
    case "error":
      setStatus(`Error: ${ev.message}`);
      break;
    default: break;
  }
  render();
}

// ---- Start ----------------------------------------------------------------------------------------------------
api.onEvent(onPhoneEvent);
api.onHistory(() => { if (currentView() === "history") loadHistory(); });
render();
drawGraph([]);
if (!api.available) {
  setStatus("The Dialtone core is not reachable (open this page in the Dialtone app).");
} else {
  attempt(() => api.capabilities()).then((caps) => {
    for (const f of (caps && caps.features) || []) state.features.add(f);
    for (const e of document.querySelectorAll("[data-needs]")) {
      if (state.features.has(e.dataset.needs)) e.removeAttribute("title");
      else if (!e.title) e.title = "Not available in this build yet";
    }
    render();
  });
  (async () => {
    const status = await attempt(() => api.appStatus());
    if (status) {
      state.keyring = { available: status.keyringAvailable, message: status.keyringMessage || "" };
      if (status.notices.length) {
        ui.notice.textContent = status.notices.join("\n");
        $("notice-box").hidden = false;
        setStatus(status.notices[0]);
      }
    }
    // The form may already be in use: only show what the keyring situation means for it.
    if (!state.keyring.available && ui.passwordMode.value === "remember") showKeyringProblem(state.keyring.message);
    await loadProfiles();
    await loadDevices();
  })();
}
