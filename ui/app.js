// Phone UI logic: reads the form, calls the core through ipc.js, and shows what the core reports.
"use strict";

const $ = (id) => document.getElementById(id);
const ui = {
  form: $("connect-form"), errors: $("form-errors"), connect: $("connect"), disconnect: $("disconnect"),
  reg: $("reg-status"), statusLine: $("status-line"), callStatus: $("call-status"), callee: $("callee"),
  call: $("call"), answer: $("answer"), decline: $("decline"), hangup: $("hangup"),
};

const fieldIds = {
  serverUrl: "server-url", login: "login", authName: "auth-name", password: "password", domain: "domain",
  outboundProxy: "outbound-proxy", port: "port", transport: "transport", displayName: "display-name",
  registerRequired: "register-required",
};

const state = { connected: false, registration: "UNREGISTERED", call: null };

const callStateText = {
  PENDING: "Calling…", TRYING: "Trying…", RING: "Ringing", RING_MEDIA: "Ringing (early media)",
  ESTABLISHED: "In call", HOLD: "On hold", BUSY: "Busy", FINISH: "Call ended", FAILED: "Call failed",
};
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

function render() {
  const c = state.call;
  const live = c && !["FINISH", "FAILED", "BUSY"].includes(c.state);
  ui.connect.disabled = state.connected;
  ui.disconnect.disabled = !state.connected;
  ui.call.disabled = !state.connected || !!live;
  ui.answer.disabled = !(live && c.direction === "incoming" && c.state === "RING");
  ui.decline.disabled = ui.answer.disabled;
  ui.hangup.disabled = !live;
  ui.reg.dataset.state = state.registration;
  ui.reg.textContent = state.connected || state.registration === "FAILED" ? regText[state.registration] : "Not connected";
  if (c) {
    ui.callStatus.dataset.state = c.state;
    const detail = withCode(c.code, c.reason);
    ui.callStatus.textContent = `${c.state} — ${callStateText[c.state] || c.state}${detail ? ` (${detail})` : ""}: ${c.display_name || c.peer}`;
  }
}

function onPhoneEvent(ev) {
  if (ev.event === "registration") {
    state.registration = ev.state;
    const detail = withCode(ev.code, ev.reason);
    setStatus(`${regText[ev.state] || ev.state}${detail ? `: ${detail}` : ""} (${ev.aor})`);
  } else if (ev.event === "call") {
    state.call = ev;
    if (ev.direction === "incoming" && ev.state === "RING") setStatus(`Incoming call from ${ev.display_name || ev.peer}`);
  } else if (ev.event === "listening") {
    if (!$(fieldIds.registerRequired).checked) setStatus(`Ready without registering; reachable at ${ev.contact}`);
  } else if (ev.event === "error") {
    setStatus(`Error: ${ev.message}`);
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
  try { await window.dialtone.disconnect(); } catch (e) { showError(e); }
  state.connected = false;
  setStatus("Disconnected.");
  render();
});

ui.call.addEventListener("click", async () => {
  const target = ui.callee.value.trim();
  if (!target) { setStatus("Enter who to call."); ui.callee.focus(); return; }
  try { await window.dialtone.call(target); } catch (e) { showError(e); }
});
ui.callee.addEventListener("keydown", (e) => { if (e.key === "Enter" && !ui.call.disabled) ui.call.click(); });
for (const [btn, fn] of [[ui.answer, "answer"], [ui.decline, "decline"], [ui.hangup, "hangup"]]) {
  btn.addEventListener("click", async () => {
    if (!state.call) return;
    try { await window.dialtone[fn](state.call.id); } catch (e) { showError(e); }
  });
}

window.dialtone.onEvent(onPhoneEvent);
render();
if (!window.dialtone.available) setStatus("The Dialtone core is not reachable (open this page in the Dialtone app).");
