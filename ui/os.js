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

  // The app-wide settings (settings.json): what links do, what do-not-disturb answers with.
  const settingsNote = (text) => { const note = $("os-settings-status"); if (note) note.textContent = text; };
  const errText = (e) => (e && e.message ? e.message : String(e));
  async function loadSettings() {
    const link = $("link-action");
    const dnd = $("dnd-refusal");
    if (!link || !dnd) return;
    try {
      const settings = await tauri.core.invoke("app_settings");
      link.value = settings.linkAction;
      dnd.value = settings.dndRefusal;
    } catch (e) {
      settingsNote(`Settings unavailable: ${errText(e)}`);
    }
    const save = async () => {
      const settings = { linkAction: link.value, dndRefusal: dnd.value };
      try {
        const saved = await tauri.core.invoke("save_app_settings", { settings });
        link.value = saved.linkAction;
        dnd.value = saved.dndRefusal;
        settingsNote("Saved.");
      } catch (e) {
        settingsNote(`Not saved: ${errText(e)}`);
      }
    };
    link.addEventListener("change", save);
    dnd.addEventListener("change", save);
  }
  loadSettings();

  tauri.event.listen("os", (e) => onOsEvent(e.payload)).then(async () => {
    // Events from before the window listened (a link on the first launch's command line).
    try {
      for (const ev of await tauri.core.invoke("os_events")) onOsEvent(ev);
    } catch (e) {
      say(`OS integration unavailable: ${e && e.message ? e.message : String(e)}`);
    }
  });
})();
