// What the OS integration tells the window (the shell's `os` event): a click-to-call link to prefill, a link that
// could not be called, a notification or tray action that failed, do-not-disturb switched from the tray.
// Kept apart from app.js; it only touches the dial field and the status line.
"use strict";

(() => {
  const tauri = window.__TAURI__;
  if (!tauri) return;
  const $ = (id) => document.getElementById(id);
  const say = (text) => { const line = $("status-line"); if (line) line.textContent = text; };
  // The dial field and the call live on the Phone screen.
  const toPhone = () => { const tab = $("tab-phone"); if (tab && tab.getAttribute("aria-selected") !== "true") tab.click(); };

  function onOsEvent(ev) {
    switch (ev.event) {
      case "prefill": {
        toPhone();
        const field = $("callee");
        const tab = $("tab-phone");
        if (tab) tab.click(); // the dial field is on the Phone screen
        if (field) { field.value = ev.target; field.focus(); }
        say(ev.note ? `${ev.target}: ${ev.note}` : `Ready to call ${ev.target}: press Call.`);
        break;
      }
      case "link_dialed":
        toPhone();
        say(`Calling ${ev.target}${ev.note ? ` — ${ev.note}` : ""}`);
        break;
      case "notice":
        say(ev.message);
        break;
      case "do_not_disturb":
        say(ev.on ? `Do not disturb: incoming calls are refused (${ev.code}).` : "Do not disturb is off.");
        break;
      default: break;
    }
  }

  tauri.event.listen("os", (e) => onOsEvent(e.payload)).then(async () => {
    // Events from before the window listened (a link on the first launch's command line).
    try {
      for (const ev of await tauri.core.invoke("os_events")) onOsEvent(ev);
    } catch (e) {
      say(`OS integration unavailable: ${e && e.message ? e.message : String(e)}`);
    }
  });
})();
