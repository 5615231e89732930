// Sign in: paste a token (or arrive through a ?token= login link), then go to the role's home page.
"use strict";
(async () => {
  const { el, $, clear, api, captureToken, setToken, token, ROLE_HOME } = SDI;
  captureToken();
  const content = clear($("#content"));
  const go = async () => {
    const me = await api("/api/me", { noRedirect: true });
    window.location.href = ROLE_HOME[me.role] || "opportunities.html";
  };
  if (token()) {
    try { await go(); return; } catch (err) { /* fall through to the form */ }
  }
  const input = el("input", { id: "token", type: "password", autocomplete: "off", placeholder: "sdi_…", required: true, size: 48 });
  const msg = el("div");
  const form = el("form", { id: "login", class: "card" },
    el("p", { text: "Sign in with the token from `sdi users add` or the demo's printout." }),
    el("label", {}, "Token", input),
    el("p", {}, el("button", { type: "submit", class: "primary", text: "Sign in" })), msg);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clear(msg);
    setToken(input.value.trim());
    try { await go(); } catch (err) { localStorage.removeItem("sdi.token"); SDI.showError(msg, err); }
  });
  if (SDI.param("expired")) content.append(el("p", { class: "note", text: "Your token was not accepted; sign in again." }));
  content.append(form);
})();
