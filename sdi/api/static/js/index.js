// Sign in: paste a token (or arrive through a ?token= login link), then go to the role's home page.
"use strict";
(async () => {
  const { el, $, clear, api, captureToken, setToken, token, ROLE_HOME } = SDI;
  const fromLink = Boolean(SDI.param("token"));
  const expired = Boolean(SDI.param("expired"));
  captureToken();
  const content = clear($("#content"));
  const go = async () => {
    const me = await api("/api/me", { noRedirect: true });
    window.location.href = ROLE_HOME[me.role] || "opportunities.html";
  };
  let notice = null;
  if (token()) {
    try { await go(); return; } catch (err) {
      if (err.status === 401) {
        localStorage.removeItem("sdi.token");  // a refused token is no use to keep; the next visit starts clean
        if (fromLink) notice = "This sign-in link is not valid or has expired — ask your admin for a new one, or paste a token below.";
        else if (!expired) notice = "Your saved sign-in is no longer accepted — ask your admin for a new token and paste it below.";
      } else {
        notice = `Could not check your sign-in: ${SDI.describeError(err)}`;
      }
    }
  }
  if (expired && !fromLink) notice = "Your token was not accepted; sign in again.";
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
  if (notice) {
    $("#title").textContent = fromLink ? "Sign-in link not accepted" : "Sign in";
    content.append(el("p", { class: "error", id: "signin-notice", role: "alert", text: notice }));
  }
  content.append(form);
  if (notice) input.focus();
})();
