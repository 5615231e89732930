// SDI web UI core: token, API calls, safe DOM building (text only, never innerHTML with data), SSE reader, header.
"use strict";

const SDI = (() => {
  const KEY = "sdi.token";
  const ROLE_HOME = {
    sales_rep: "opportunities.html", technician: "machines.html", compliance: "drafts.html", admin: "status.html",
  };
  const RULE_LABEL = {
    contract_renewal: "contract renewal", warranty_sla: "warranty → SLA", modernization: "modernization",
    retrofit_age: "retrofit (age)", maintenance_due: "maintenance due", error_pattern: "error pattern", wear: "wear",
    parts_reminder: "parts reminder", end_of_life: "end of life", note_lead: "note lead", precursor: "failure precursor",
    technician_lead: "technician lead",
  };

  /** Store a ?token=… login link's token and remove it from the address bar. */
  function captureToken() {
    const url = new URL(window.location.href);
    const t = url.searchParams.get("token");
    if (t) {
      localStorage.setItem(KEY, t);
      url.searchParams.delete("token");
      history.replaceState(null, "", url.pathname + url.search + url.hash);
    }
  }

  function token() { return localStorage.getItem(KEY); }
  function setToken(t) { localStorage.setItem(KEY, t); }
  function logout() { localStorage.removeItem(KEY); window.location.href = "index.html"; }

  /** Build an element: attrs (class, text, href, on*, data-*, other attributes), children (nodes or strings). */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = String(v);
      else if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }
  function $(sel) { return document.querySelector(sel); }
  function param(name) { return new URL(window.location.href).searchParams.get(name); }

  class ApiError extends Error {
    constructor(status, detail, hint, retryAfter) {
      super(detail || `HTTP ${status}`);
      this.status = status; this.hint = hint; this.retryAfter = retryAfter;
    }
  }

  async function errorOf(resp) {
    let body = {};
    try { body = await resp.json(); } catch (e) { /* not JSON */ }
    let detail = body.detail;
    if (Array.isArray(detail)) detail = detail.map((d) => `${(d.loc || []).slice(1).join(".")}: ${d.msg}`).join("; ");
    return new ApiError(resp.status, detail, body.hint, resp.headers.get("Retry-After"));
  }

  /** Call the API with the stored token; JSON in, JSON out; 401 sends the user to the login page. */
  async function api(path, opts = {}) {
    const headers = { Accept: "application/json", Authorization: `Bearer ${token() || ""}` };
    const init = { method: opts.method || "GET", headers };
    if (opts.body !== undefined) { headers["Content-Type"] = "application/json"; init.body = JSON.stringify(opts.body); }
    const resp = await fetch(path, init);
    if (resp.status === 401 && !opts.noRedirect) { window.location.href = "index.html?expired=1"; throw await errorOf(resp); }
    if (!resp.ok) throw await errorOf(resp);
    return resp.json();
  }

  /** POST and read a text/event-stream: handlers.queued/sentence/draft/done/error(data). */
  async function stream(path, body, handlers) {
    const resp = await fetch(path, {
      method: "POST",
      headers: { Accept: "text/event-stream", "Content-Type": "application/json", Authorization: `Bearer ${token() || ""}` },
      body: JSON.stringify(body || {}),
    });
    if (!resp.ok) throw await errorOf(resp);
    const reader = resp.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const frame = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        let name = "message"; const data = [];
        for (const line of frame.split("\n")) {
          if (line.startsWith("event: ")) name = line.slice(7);
          else if (line.startsWith("data: ")) data.push(line.slice(6));
        }
        if (!data.length) continue;
        const parsed = JSON.parse(data.join("\n"));
        if (handlers[name]) handlers[name](parsed);
      }
    }
  }

  function describeError(err) {
    if (err.status === 429) return `The drafting queue is busy — try again in ${err.retryAfter || "a few"} s.`;
    if (err.status === 404) return "Not found, or not in your scope.";
    if (err.status === 403) return "Your role may not do this.";
    return err.message + (err.hint ? ` (${err.hint})` : "");
  }

  function showError(target, err) {
    const box = el("p", { class: "error", role: "alert", text: describeError(err) });
    if (target) target.append(box);
    return box;
  }

  function navLinks(me) {
    const links = [];
    const can = new Set(me.can || []);
    links.push(["opportunities.html", "Opportunities"]);
    links.push(["machines.html", me.role === "technician" ? "My machines" : "Machines"]);
    if (can.has("leads") || can.has("leads_read")) links.push(["leads.html", "Leads"]);
    if (can.has("drafts")) links.push(["drafts.html", "Drafts"]);
    if (can.has("audit")) links.push(["audit.html", "Audit trail"]);
    links.push(["kpis.html", "KPIs"]);
    links.push(["performance.html", me.role === "technician" ? "My leads' results" : "Performance"]);
    if (can.has("users")) links.push(["status.html", "Status"], ["dataload.html", "Data loads"], ["admin.html", "Admin"]);
    return links;
  }

  /** English / Deutsch for dates and numbers; the choice is kept in this browser. */
  function languageChoice() {
    const pick = el("select", { class: "lang", "aria-label": "Language for dates and numbers" },
      el("option", { value: "en-GB", text: "English" }), el("option", { value: "de-DE", text: "Deutsch" }));
    pick.value = locale().startsWith("de") ? "de-DE" : "en-GB";
    pick.addEventListener("change", () => { localStorage.setItem("sdi.locale", pick.value); window.location.reload(); });
    return pick;
  }

  function header(me) {
    const here = window.location.pathname.split("/").pop();
    const nav = el("nav", { class: "top", "aria-label": "main" },
      el("a", { class: "brand", href: ROLE_HOME[me.role] || "opportunities.html", text: "SDI" }),
      ...navLinks(me).map(([href, label]) => el("a", { href, text: label, class: href === here ? "active" : null })),
      el("span", { class: "who", text: `${me.name} · ${me.role.replace("_", " ")}${me.territory ? " · " + me.territory : ""}` }),
      languageChoice(),
      el("button", { type: "button", class: "link", text: "Sign out", onclick: logout }));
    document.body.prepend(nav);
  }

  /** Page start: take a login-link token, require a token, load the user, draw the header. */
  async function boot() {
    captureToken();
    if (!token()) { window.location.href = "index.html"; throw new Error("no token"); }
    const me = await api("/api/me");
    header(me);
    return me;
  }

  function badge(rule) { return el("span", { class: `badge rule-${rule}`, title: rule, text: RULE_LABEL[rule] || rule }); }
  function priorityBar(p) {
    const value = Math.max(0, Math.min(100, Number(p) || 0));
    const bar = el("span", { class: "prio-fill" });
    bar.style.width = `${value}%`;
    return el("span", { class: "prio", title: `priority ${value} of 100` }, el("span", { class: "prio-track" }, bar),
      el("span", { class: "prio-num", text: value.toFixed(1) }));
  }
  /** The user's locale: the header's choice (localStorage "sdi.locale"), else the browser's; "de" or "en". */
  function locale() {
    const chosen = localStorage.getItem("sdi.locale");
    if (chosen) return chosen;
    return (navigator.language || "en").toLowerCase().startsWith("de") ? "de-DE" : "en-GB";
  }
  /** A number in the user's locale (thousands separators), at most `digits` decimals. */
  function fmtNum(v, digits = 0) {
    if (v === null || v === undefined || v === "" || Number.isNaN(Number(v))) return "–";
    return Number(v).toLocaleString(locale(), { maximumFractionDigits: digits });
  }
  function money(v, cur) {
    if (v === null || v === undefined) return "";
    const n = Number(v);
    try { if (cur && /^[A-Z]{3}$/.test(cur)) return n.toLocaleString(locale(), { style: "currency", currency: cur, maximumFractionDigits: 0 }); }
    catch (e) { /* unknown currency code: plain number below */ }
    return `${fmtNum(n)} ${cur || ""}`.trim();
  }
  /** An ISO date or timestamp as a date in the user's locale ("27 Nov 2026" / "27.11.2026"). */
  function fmtDate(iso) {
    if (!iso) return "–";
    const d = new Date(String(iso).length === 10 ? `${iso}T00:00:00Z` : iso);
    if (Number.isNaN(d.getTime())) return String(iso);
    return d.toLocaleDateString(locale(), { year: "numeric", month: "short", day: "numeric", timeZone: String(iso).length === 10 ? "UTC" : undefined });
  }
  /** An ISO timestamp as date and minute in the user's locale (no seconds, no microseconds). */
  function fmtDateTime(iso) {
    if (!iso) return "–";
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso);
    return d.toLocaleString(locale(), { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
  }
  function fmtCond(c) {
    if (!c) return "";
    const th = Array.isArray(c.threshold) ? c.threshold.join("–") : c.threshold;
    return `${c.field} ${c.operator} ${th === null || th === undefined ? "" : th} → ${c.value}${c.unit ? " " + c.unit : ""}`;
  }

  /** An SVG element with attributes and text (text through textContent only). */
  function svg(tag, attrs, text) {
    const n = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [k, v] of Object.entries(attrs || {})) n.setAttribute(k, String(v));
    if (text !== undefined) n.textContent = text;
    return n;
  }

  return { svg, captureToken, token, setToken, logout, el, clear, $, param, api, stream, boot, showError, describeError,
           badge, priorityBar, money, fmtCond, fmtNum, fmtDate, fmtDateTime, locale, ROLE_HOME, RULE_LABEL, ApiError };
})();
