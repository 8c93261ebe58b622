// First run: with no saved account the app runs Dialtone's own relay on loopback (src-tauri/src/relay_default.rs).
// This panel shows how to reach it and fills the connection form with the first demo account — only while the form
// is untouched, so it never overwrites what the user typed.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const panel = $("first-run");
  if (!panel || !window.dialtone || !window.dialtone.available) return;

  const formIsEmpty = () => ["server-url", "login", "password"].every((id) => !$(id) || $(id).value === "");

  function prefill(info, account) {
    if (!formIsEmpty()) return;
    $("server-url").value = info.sipServer;
    $("login").value = account.user;
    $("password").value = account.password;
    if ($("transport")) $("transport").value = "udp";
    if ($("register-required")) $("register-required").checked = true;
  }

  function show(info) {
    const [first, second] = info.accounts;
    $("first-run-server").textContent = info.sipServer;
    $("first-run-first-user").textContent = first ? `${first.user} (filled in below)` : "no account with a password";
    $("first-run-second-user").textContent = second ? second.user : "—";
    $("first-run-second-password").textContent = second ? second.password : "—";
    $("first-run-page").textContent = info.pageUrl;
    $("first-run-ws").textContent = info.wsUrl;
    $("first-run-callee").textContent = second ? second.user : "another account";
    $("first-run-users").textContent = info.usersFile;
    if (second && $("callee") && !$("callee").value) $("callee").placeholder = second.user;
    if (first) prefill(info, first);
    panel.hidden = false;
  }

  // Once the app is registered with a demo account, say what to do next.
  function follow(info) {
    window.dialtone.onEvent((ev) => {
      if (ev.event !== "registration" || ev.state !== "REGISTERED") return;
      const me = info.accounts.find((a) => ev.aor && ev.aor.includes(`:${a.user}@`));
      if (!me) return;
      const other = info.accounts.find((a) => a !== me);
      $("first-run-intro").textContent = other
        ? `Registered as ${me.user} with Dialtone's relay. Call ${other.user} from here, or call ${me.user} from a second phone or the browser page.`
        : `Registered as ${me.user} with Dialtone's relay.`;
    });
  }

  window.dialtone.invoke("first_run").then((info) => {
    if (info) {
      show(info);
      follow(info);
    }
  }).catch((e) => {
    $("first-run-error").textContent = (e && e.message) || String(e);
    panel.hidden = false;
  });
})();
