// Phone UI logic: reads the form, calls the core through ipc.js, and shows what the core reports.
"use strict";

const $ = (id) => document.getElementById(id);
const ui = {
  form: $("connect-form"), errors: $("form-errors"), connect: $("connect"), disconnect: $("disconnect"),
  reg: $("reg-status"), statusLine: $("status-line"), callStatus: $("call-status"), callee: $("callee"),
  call: $("call"), answer: $("answer"), decline: $("decline"), hangup: $("hangup"), hold: $("hold"),
  transferTarget: $("transfer-target"), transfer: $("transfer"), consultTarget: $("consult-target"),
  consult: $("consult"), completeTransfer: $("complete-transfer"), transferStatus: $("transfer-status"),
  keypad: $("keypad"), dtmfStatus: $("dtmf-status"),
  messageTo: $("message-to"), messageText: $("message-text"), sendMessage: $("send-message"), messageLog: $("message-log"),
  presenceStatus: $("presence-status"), presenceNote: $("presence-note"), presencePublish: $("presence-publish"),
  setPresence: $("set-presence"), watchTarget: $("watch-target"), watch: $("watch"), presenceList: $("presence-list"),
};

const fieldIds = {
  serverUrl: "server-url", login: "login", authName: "auth-name", password: "password", domain: "domain",
  outboundProxy: "outbound-proxy", port: "port", transport: "transport", displayName: "display-name",
  registerRequired: "register-required",
};

const state = {
  connected: false, registration: "UNREGISTERED",
  features: new Set(),      // controls this build supports (from `capabilities`)
  calls: new Map(),         // call id -> last `call` event
  current: null,            // the call the Call panel is about
  consult: null,            // our consult call of an attended transfer
  placingConsult: false,
  messages: new Map(),      // message handle -> its <li>
  results: new Map(),       // message handle -> a result that arrived before the send returned
  watched: new Map(),       // subscription id -> { target, li }
  early: new Map(),         // subscription id -> events that overtook the subscribe command's reply
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

function readForm() {
  const v = (k) => $(fieldIds[k]).value.trim();
  const port = v("port");
  return {
    serverUrl: v("serverUrl"), login: v("login"), authName: v("authName"), password: $(fieldIds.password).value,
    domain: v("domain"), outboundProxy: v("outboundProxy"), port: port === "" ? null : Number(port),
    transport: v("transport"), displayName: $(fieldIds.displayName).value, registerRequired: $(fieldIds.registerRequired).checked,
  };
}

function showFieldErrors(list) {
  for (const id of Object.values(fieldIds)) $(id).removeAttribute("aria-invalid");
  ui.errors.textContent = list.map((e) => e.message).join("\n");
  for (const e of list) {
    const id = fieldIds[e.field];
    if (id) $(id).setAttribute("aria-invalid", "true");
  }
}

function setStatus(text) { ui.statusLine.textContent = text; }

function withCode(code, reason) {
  if (code && reason) return `${code} ${reason}`;
  return reason || (code ? String(code) : "");
}

const isLive = (c) => !!c && !ENDED.includes(c.state);
const isUp = (c) => !!c && (c.state === "ESTABLISHED" || c.state === "HOLD");
const weHold = (c) => !!c && c.state === "HOLD" && (c.held === "local" || c.held === "both");
const can = (feature) => state.features.has(feature);

function render() {
  const c = state.current != null ? state.calls.get(state.current) : null;
  const live = isLive(c);
  const up = isUp(c);
  const consult = state.consult != null ? state.calls.get(state.consult) : null;
  ui.connect.disabled = state.connected;
  ui.disconnect.disabled = !state.connected;
  ui.call.disabled = !state.connected || live;
  ui.answer.disabled = !(live && c.direction === "incoming" && c.state === "RING");
  ui.decline.disabled = ui.answer.disabled;
  ui.hangup.disabled = !live && !isLive(consult);
  ui.hold.disabled = !(up && can("hold"));
  ui.hold.textContent = weHold(c) ? "Resume" : "Hold";
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
}

function onCallEvent(ev) {
  const known = state.calls.has(ev.id);
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
  // A new call (incoming, or the one we place for a transfer) becomes the one shown, unless the shown one is live.
  const shown = state.current != null ? state.calls.get(state.current) : null;
  if (!known && (!isLive(shown) || ev.replaces === state.current || ev.direction === "outgoing")) state.current = ev.id;
  if (known && ev.id !== state.current && !isLive(shown) && isLive(ev)) state.current = ev.id;
  if (ev.direction === "incoming" && ev.state === "RING") setStatus(`Incoming call from ${ev.display_name || ev.peer}`);
  if (ev.replaces != null) setStatus(`Call from ${ev.display_name || ev.peer} replaces the previous one (transfer)`);
  // The shown call ended while another is live (e.g. after a transfer): show that one.
  if (ev.id === state.current && ENDED.includes(ev.state)) {
    for (const [id, other] of state.calls) if (id !== ev.id && id !== state.consult && isLive(other)) state.current = id;
  }
}

function addLine(list, text, cls) {
  const li = document.createElement("li");
  li.textContent = text;
  if (cls) li.className = cls;
  list.prepend(li);
  return li;
}

function showResult(li, ev) {
  const ok = ev.code >= 200 && ev.code < 300;
  li.dataset.result = ok ? "delivered" : "failed";
  li.textContent += ok ? " ✓" : ` ✗ (${ev.code} ${ev.reason})`;
  state.messages.delete(ev.id);
  state.results.delete(ev.id);
}

function onPhoneEvent(ev) {
  switch (ev.event) {
    case "registration": {
      state.registration = ev.state;
      const detail = withCode(ev.code, ev.reason);
      setStatus(`${regText[ev.state] || ev.state}${detail ? `: ${detail}` : ""} (${ev.aor})`);
      break;
    }
    case "call": onCallEvent(ev); break;
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
    case "message":
      addLine(ui.messageLog, `${ev.display_name || ev.from}${ev.call != null ? " (in call)" : ""}: ${ev.body}`, "in");
      break;
    case "message_result": {
      const li = state.messages.get(ev.id);
      if (li) showResult(li, ev);
      else state.results.set(ev.id, ev); // the result can overtake the command's reply
      break;
    }
    case "publication":
      setStatus(`Presence ${ev.state.toLowerCase()}${ev.code ? `: ${withCode(ev.code, ev.reason)}` : ""}`);
      break;
    case "subscription": {
      const w = state.watched.get(ev.id);
      if (!w) state.early.set(ev.id, [...(state.early.get(ev.id) || []), ev]);
      if (w) {
        w.li.dataset.state = ev.state;
        if (ev.state === "TERMINATED") {
          w.li.textContent = `${w.target}: no longer watched (${ev.reason || "ended"})`;
          state.watched.delete(ev.id);
        } else if (ev.state === "PENDING") {
          w.li.textContent = `${w.target}: waiting for permission`;
        }
      }
      break;
    }
    case "presence": {
      const w = state.watched.get(ev.subscription);
      if (!w) state.early.set(ev.subscription, [...(state.early.get(ev.subscription) || []), ev]);
      if (w) {
        w.li.dataset.status = ev.status;
        w.li.textContent = `${w.target}: ${ev.status === "open" ? "available" : "away"}${ev.note ? ` — ${ev.note}` : ""}`;
      }
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

function showError(e) {
  if (e && e.code === "invalid_account" && Array.isArray(e.fields)) {
    showFieldErrors(e.fields);
    setStatus("Please correct the highlighted fields.");
  } else {
    setStatus(`Error: ${e && e.message ? e.message : String(e)}`);
  }
}

async function attempt(fn) {
  try { return await fn(); } catch (e) { showError(e); return undefined; }
}

ui.form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  showFieldErrors([]);
  setStatus("Connecting…");
  try {
    await window.dialtone.connect(readForm());
    state.connected = true;
    if (!$(fieldIds.registerRequired).checked) setStatus("Connected without registering: calls go directly.");
  } catch (e) {
    state.connected = false;
    showError(e);
  }
  render();
});

ui.disconnect.addEventListener("click", async () => {
  await attempt(() => window.dialtone.disconnect());
  state.connected = false;
  setStatus("Disconnected.");
  render();
});

ui.call.addEventListener("click", async () => {
  const target = ui.callee.value.trim();
  if (!target) { setStatus("Enter who to call."); ui.callee.focus(); return; }
  await attempt(() => window.dialtone.call(target));
});
ui.callee.addEventListener("keydown", (e) => { if (e.key === "Enter" && !ui.call.disabled) ui.call.click(); });
for (const [btn, fn] of [[ui.answer, "answer"], [ui.decline, "decline"]]) {
  btn.addEventListener("click", async () => {
    if (state.current == null) return;
    await attempt(() => window.dialtone[fn](state.current));
  });
}
ui.hangup.addEventListener("click", async () => {
  const c = state.current != null ? state.calls.get(state.current) : null;
  // During a consult the hangup ends the consult call; the held call stays.
  const id = state.consult != null && isLive(state.calls.get(state.consult)) ? state.consult : c && c.id;
  if (id != null) await attempt(() => window.dialtone.hangup(id));
});

ui.hold.addEventListener("click", async () => {
  const c = state.calls.get(state.current);
  if (!c) return;
  await attempt(() => (weHold(c) ? window.dialtone.resume(c.id) : window.dialtone.hold(c.id)));
});

ui.transfer.addEventListener("click", async () => {
  const target = ui.transferTarget.value.trim();
  if (!target) { setStatus("Enter whom to transfer to."); ui.transferTarget.focus(); return; }
  if (state.current == null) return;
  ui.transferStatus.textContent = `Transferring to ${target}…`;
  await attempt(() => window.dialtone.transfer(state.current, target));
});

ui.consult.addEventListener("click", async () => {
  const target = ui.consultTarget.value.trim();
  if (!target) { setStatus("Enter whom to consult."); ui.consultTarget.focus(); return; }
  const c = state.calls.get(state.current);
  if (!c) return;
  // RFC 5589: the party being transferred waits on hold while we consult.
  if (!weHold(c)) await attempt(() => window.dialtone.hold(c.id));
  state.placingConsult = true;
  const id = await attempt(() => window.dialtone.call(target));
  state.placingConsult = false;
  if (id != null) state.consult = id;
  render();
});

ui.completeTransfer.addEventListener("click", async () => {
  if (state.current == null || state.consult == null) return;
  ui.transferStatus.textContent = "Completing the transfer…";
  await attempt(() => window.dialtone.attendedTransfer(state.current, state.consult));
});

ui.keypad.addEventListener("click", async (e) => {
  const key = e.target.closest("button[data-dtmf]");
  if (!key || key.disabled || state.current == null) return;
  const digit = key.dataset.dtmf;
  ui.dtmfStatus.textContent = `Sending DTMF ${digit}…`;
  const method = await attempt(() => window.dialtone.sendDtmf(state.current, digit, "info"));
  if (method) ui.dtmfStatus.textContent = `Sent DTMF ${digit} by SIP INFO`;
});

ui.sendMessage.addEventListener("click", async () => {
  const text = ui.messageText.value;
  const to = ui.messageTo.value.trim();
  if (!text.trim()) { setStatus("Type a message first."); ui.messageText.focus(); return; }
  const c = state.calls.get(state.current);
  const inCall = !to && isUp(c);
  if (!to && !inCall) { setStatus("Enter a recipient, or send during a call."); ui.messageTo.focus(); return; }
  const id = await attempt(() => window.dialtone.sendMessage(to, text, inCall ? c.id : null));
  if (id != null) {
    const li = addLine(ui.messageLog, `To ${inCall ? c.display_name || c.peer : to}: ${text}`, "out");
    state.messages.set(id, li);
    if (state.results.has(id)) showResult(li, state.results.get(id));
    ui.messageText.value = "";
  }
});
ui.messageText.addEventListener("keydown", (e) => { if (e.key === "Enter" && !ui.sendMessage.disabled) ui.sendMessage.click(); });

ui.setPresence.addEventListener("click", async () => {
  const status = ui.presenceStatus.value;
  const note = ui.presenceNote.value.trim();
  const done = await attempt(async () => {
    await window.dialtone.setPresence(status, note, ui.presencePublish.checked);
    return true;
  });
  if (done) setStatus(`Your status: ${status === "open" ? "available" : "away"}${note ? ` — ${note}` : ""}`);
});

ui.watch.addEventListener("click", async () => {
  const target = ui.watchTarget.value.trim();
  if (!target) { setStatus("Enter whom to watch."); ui.watchTarget.focus(); return; }
  const id = await attempt(() => window.dialtone.subscribePresence(target));
  if (id != null) {
    state.watched.set(id, { target, li: addLine(ui.presenceList, `${target}: asking…`) });
    ui.watchTarget.value = "";
    for (const ev of state.early.get(id) || []) onPhoneEvent(ev);
    state.early.delete(id);
  }
});

window.dialtone.onEvent(onPhoneEvent);
render();
if (!window.dialtone.available) {
  setStatus("The Dialtone core is not reachable (open this page in the Dialtone app).");
} else {
  attempt(() => window.dialtone.capabilities()).then((caps) => {
    for (const f of (caps && caps.features) || []) state.features.add(f);
    for (const el of document.querySelectorAll("[data-needs]")) {
      if (!state.features.has(el.dataset.needs) && !el.title) el.title = "Not available in this build yet";
    }
    render();
  });
}
