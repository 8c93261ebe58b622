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
    // Core events (registration, call, error) arrive on the "phone" frontend event.
    onEvent: (handler) => tauri.event.listen("phone", (e) => handler(e.payload)),
  };
})();
