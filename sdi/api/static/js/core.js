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
    const nav = el("nav", { class: "top", "aria-label": "Main" },
      el("a", { class: "brand", href: ROLE_HOME[me.role] || "opportunities.html", text: "SDI", "aria-label": "SDI home" }),
      ...navLinks(me).map(([href, label]) => el("a", { href, text: label, class: href === here ? "active" : null,
                                                        "aria-current": href === here ? "page" : null })),
      el("span", { class: "who", text: `${me.name} · ${me.role.replace("_", " ")}${me.territory ? " · " + me.territory : ""}` }),
      languageChoice(),
      el("button", { type: "button", class: "link", text: "Sign out", onclick: logout }));
    const top = el("header", { class: "site" }, skipLink(), nav);
    document.body.prepend(top);
    if (me.role !== "admin") indexLine(top);  // the admin's status page shows the whole picture
  }

  /** While the server is still building the search index: one line under the menu. */
  async function indexLine(top) {
    try {
      const x = (await (await fetch("/health", { headers: { Accept: "application/json" } })).json()).index || {};
      if (x.state !== "indexing" || !x.records_total) return;
      const share = Math.floor((100 * x.records_indexed) / x.records_total);
      top.append(el("p", { class: "note index-progress", id: "index-progress", role: "status",
        text: `Search index: ${share} % — drafts for other machines index them on request.` }));
    } catch (_) { /* a courtesy line: without /health there is none */ }
  }

  /** "Skip to content": the first Tab stop of every page, visible only when focused. */
  function skipLink() {
    const main = document.querySelector("main");
    if (main && !main.id) main.id = "main";
    if (main && !main.hasAttribute("tabindex")) main.setAttribute("tabindex", "-1");
    return el("a", { class: "skip-link", href: "#main", text: "Skip to content" });
  }

  /** Every table with a <thead>: each body cell gets data-label (its column's heading) so narrow screens show
   *  rows as cards ("Customer: …") instead of a clipped table; pages need no change. */
  function labelTables(root) {
    for (const table of (root || document).querySelectorAll("table")) {
      const headRow = table.tHead && table.tHead.rows[table.tHead.rows.length - 1];
      if (!headRow || table.classList.contains("no-cards")) continue;
      const labels = [];
      for (const th of headRow.cells) {
        for (let i = 0; i < (th.colSpan || 1); i += 1) labels.push((th.getAttribute("aria-label") || th.textContent || "").trim());
      }
      table.classList.add("cards");
      for (const body of table.tBodies) {
        for (const row of body.rows) {
          let col = 0;
          for (const cell of row.cells) {
            let label = cell.colSpan > 1 && cell.colSpan >= labels.length ? "" : labels[col] || ""; // a full-width row: none
            if (label && [...cell.querySelectorAll("a, button")].some((b) => b.textContent.trim() === label)) label = ""; // "Details: [Details]"
            const own = cell.hasAttribute("data-label") && !autoLabelled.has(cell); // a page's own label stays
            if (!own && cell.getAttribute("data-label") !== label) { cell.setAttribute("data-label", label); autoLabelled.add(cell); }
            col += cell.colSpan || 1;
          }
        }
      }
    }
  }

  const autoLabelled = new WeakSet();
  let labelPending = false;
  function watchTables() {
    labelTables(document);
    new MutationObserver(() => {
      if (labelPending) return;
      labelPending = true;
      queueMicrotask(() => { labelPending = false; labelTables(document); });
    }).observe(document.body, { childList: true, subtree: true });
  }

  const DIALOGS = "[role=dialog], .source-panel";
  let lastOutside = null; // the last element focused outside any dialog: focus goes back there when one closes
  document.addEventListener("focusin", (e) => { if (!e.target.closest(DIALOGS)) lastOutside = e.target; });

  /** Escape closes an open dialog or source panel through its own close button (so the page's logic runs). */
  function closeOnEscape(e) {
    if (e.key !== "Escape" || e.defaultPrevented) return;
    const open = [...document.querySelectorAll(DIALOGS)].filter((d) => !d.hidden && d.getClientRects().length);
    const top = open[open.length - 1];
    if (!top) return;
    const close = top.querySelector("button.close, [data-close]");
    if (close) close.click(); else top.hidden = true;
    if (lastOutside && lastOutside.isConnected && lastOutside !== document.body) lastOutside.focus();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", watchTables);
  else watchTables();
  document.addEventListener("keydown", closeOnEscape);

  /** Page start: take a login-link token, require a token, load the user, draw the header. */
  async function boot() {
    captureToken();
    if (!token()) { window.location.href = "index.html"; throw new Error("no token"); }
    const me = await api("/api/me");
    header(me);
    return me;
  }

  function badge(rule) { return el("span", { class: `badge rule-${rule}`, title: rule, text: RULE_LABEL[rule] || rule }); }
  /** Priority 0..100 as a bar; with `explained` (the API's priority_explained) also why: compact (list) a tiny bar per
   *  factor and the sentence, full (opportunity page) one labelled bar per factor with the points it adds. */
  function priorityBar(p, explained, full) {
    const value = Math.max(0, Math.min(100, Number(p) || 0));
    const bar = el("span", { class: "prio-fill" });
    bar.style.width = `${value}%`;
    const why = explained ? fmtCond(explained.sentence) : "";
    const head = el("span", { class: "prio", title: why || `priority ${fmtNum(value, 1)} of 100` },
      el("span", { class: "prio-track" }, bar), el("span", { class: "prio-num", text: fmtNum(value, 1) }));
    if (!explained) return head;
    const factors = explained.factors || [];
    const share = (f) => `${Math.round(100 * Math.max(0, Math.min(1, Number(f.value) || 0)))}%`;
    const points = (f) => `${f.label}: ${fmtNum(f.points, 1)} of ${fmtNum(f.weight, 1)} points`;
    const sentence = el("p", { class: `prio-why level-${explained.level}`, text: why, title: full ? null : why });
    if (!full) {
      const mini = el("span", { class: "prio-factors", role: "img", "aria-label": factors.map(points).join("; ") },
        ...factors.map((f) => {
          const fill = el("span", { class: `pf-fill pf-${f.factor}` });
          fill.style.height = share(f);
          return el("span", { class: "pf", title: points(f) }, fill);
        }));
      return el("div", { class: "prio-box" }, el("div", { class: "prio-line" }, head, mini), sentence);
    }
    const rows = factors.map((f) => {
      const fill = el("span", { class: `pf-fill pf-${f.factor}` });
      fill.style.width = share(f);
      return el("li", { class: "pf-row", "data-factor": f.factor },
        el("span", { class: "pf-label", text: f.label }), el("span", { class: "pf-track" }, fill),
        el("span", { class: "pf-points", text: `${fmtNum(f.points, 1)} / ${fmtNum(f.weight, 1)}` }));
    });
    return el("div", { class: "prio-box full" }, head, sentence, el("ul", { class: "prio-factor-list", "aria-label": "priority factors (points / weight)" }, ...rows));
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
  /** A share 0..1 as a percentage with exactly `digits` decimals in the user's locale ("50.0 %" / "50,0 %"). */
  function fmtPct(share, digits = 0) {
    if (share === null || share === undefined || share === "" || Number.isNaN(Number(share))) return "–";
    return `${(100 * Number(share)).toLocaleString(locale(), { minimumFractionDigits: digits, maximumFractionDigits: digits })} %`;
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
  /** A condition as its rule's sentence (the API's `sentence`), numbers, amounts and dates in the user's locale; any
   *  server phrase {text, args} reads the same way. `raw`: field, operator, threshold → value, as the rule states it. */
  function fmtCond(c, raw) {
    if (!c) return "";
    const p = raw ? null : (c.sentence || (typeof c.text === "string" && c.args ? c : null));
    if (p) {
      const args = p.args || {};
      const text = p.text.replace(/\{(\w+)\}/g, (m, k) => {
        const a = args[k];
        if (!a) return m;
        if ("num" in a) return fmtNum(a.num, a.digits === undefined ? 2 : a.digits);
        if ("money" in a) return money(a.money, a.currency);
        if ("date" in a) return fmtDate(a.date);
        return String(a.text === undefined || a.text === null ? "" : a.text);
      });
      return text.charAt(0).toUpperCase() + text.slice(1);
    }
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
           badge, priorityBar, money, fmtCond, fmtNum, fmtPct, fmtDate, fmtDateTime, locale, labelTables, ROLE_HOME, RULE_LABEL,
           ApiError };
})();
