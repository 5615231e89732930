// Admin: users and tokens, re-run detection, back-test the rules (table + SVG bars: precision vs base rate).
"use strict";
(async () => {
  const { el, $, clear, api } = SDI;
  const me = await SDI.boot();
  const content = clear($("#content"));
  const list = el("div");
  const msg = el("div");
  const name = el("input", { name: "name", required: true, maxlength: 80 });
  const role = el("select", { name: "role" }, ...["sales_rep", "technician", "compliance", "admin"].map((r) => el("option", { value: r, text: r.replace("_", " ") })));
  const territory = el("input", { name: "territory", size: 10 });
  const serials = el("input", { name: "serials", size: 30, placeholder: "serials, comma-separated" });
  const form = el("form", { class: "row card", id: "user-form" }, el("label", {}, "Name", name), el("label", {}, "Role", role),
    el("label", {}, "Territory (reps)", territory), el("label", {}, "Assigned machines (technicians)", serials),
    el("button", { type: "submit", class: "primary", text: "Add user" }));
  form.addEventListener("submit", async (e) => {
    e.preventDefault(); clear(msg);
    const body = { name: name.value, role: role.value, serials: serials.value.split(",").map((x) => x.trim()).filter(Boolean) };
    if (territory.value) body.territory = territory.value;
    try {
      const u = await api("/api/users", { method: "POST", body });
      msg.append(el("div", { class: "ok" }, `User ${u.name} created. Token (shown once): `, el("code", { text: u.token })));
      form.reset(); load();
    } catch (err) { SDI.showError(msg, err); }
  });
  const rerun = el("button", { type: "button", class: "secondary", text: "Re-run trigger detection" });
  rerun.addEventListener("click", async () => {
    clear(msg); rerun.disabled = true;
    try { const r = await api("/api/admin/triggers", { method: "POST" }); msg.append(el("p", { class: "ok", text: `Detection ran as of ${SDI.fmtDate(r.as_of)} over ${SDI.fmtNum(r.machines)} machines.` })); }
    catch (err) { SDI.showError(msg, err); }
    rerun.disabled = false;
  });
  content.append(form, el("p", {}, rerun), msg, list, backtestCard(), webhooksCard());
  async function load() {
    clear(list);
    const users = await api("/api/users");
    const admins = users.filter((u) => u.role === "admin").length;
    // Your own account and the last admin cannot be removed (the API refuses too): say why instead of a button.
    const removal = (u) => {
      const why = u.name === me.name ? "your own account: another admin can remove it"
        : (u.role === "admin" && admins <= 1 ? "the last admin: add another admin first" : null);
      if (why) {
        return [el("button", { type: "button", class: "secondary", text: "Remove", disabled: true, "aria-label": `Remove ${u.name} (not possible: ${why})` }),
          " ", el("span", { class: "muted small remove-why", text: why })];
      }
      return el("button", { type: "button", class: "secondary", text: "Remove", "aria-label": `Remove ${u.name}`, onclick: async () => {
        if (!window.confirm(`Remove ${u.name}? Their token stops working.`)) return;
        try { await api(`/api/users/${encodeURIComponent(u.name)}`, { method: "DELETE" }); load(); } catch (err) { SDI.showError(msg, err); }
      } });
    };
    list.append(el("div", { class: "table-wrap" }, el("table", { id: "users" }, el("thead", {}, el("tr", {},
      ...["Name", "Role", "Territory", "Machines", "Created"].map((h) => el("th", { text: h })), el("th", {}, el("span", { class: "visually-hidden", text: "Remove" })))),
      el("tbody", {}, ...users.map((u) => el("tr", { "data-user": u.name }, el("td", { text: u.name }), el("td", { text: u.role.replace("_", " ") }),
        el("td", { text: u.territory || "" }), el("td", { text: SDI.fmtNum(u.serials.length) }), el("td", { text: SDI.fmtDateTime(u.created_at) }),
        el("td", {}, removal(u))))))));
  }
  load();

  function backtestCard() {
    const field = (label, attrs) => { const i = el("input", attrs); return [el("label", {}, label, i), i]; };
    const [kindL, kind] = field("Target event kind", { name: "target_kind", value: "failure", size: 10 });
    const [winL, win] = field("Window (days)", { name: "window", type: "number", min: 1, value: 14, size: 4 });
    const [fromL, from] = field("From", { name: "from", type: "date" });
    const [toL, to] = field("To", { name: "to", type: "date" });
    const [stepL, step] = field("Step (days)", { name: "step", type: "number", min: 1, value: 7, size: 4 });
    const out = el("div", { id: "backtest-result" });
    const run = el("button", { type: "submit", class: "primary", text: "Run back-test" });
    const bt = el("form", { class: "row", id: "backtest-form" }, kindL, winL, fromL, toL, stepL, run);
    bt.addEventListener("submit", async (e) => {
      e.preventDefault(); clear(out); run.disabled = true;
      out.append(el("p", { class: "muted", text: "Replaying every date (about one detection run each)…" }));
      const q = new URLSearchParams({ target_kind: kind.value, window: win.value, step: step.value });
      if (from.value) q.set("from", from.value);
      if (to.value) q.set("to", to.value);
      try { const r = await api(`/api/admin/backtest?${q}`); clear(out).append(...backtestView(r)); }
      catch (err) { clear(out); SDI.showError(out, err); }
      run.disabled = false;
    });
    return el("section", { class: "card", id: "backtest" }, el("h2", { text: "Back-test the rules" }),
      el("p", { class: "muted", text: "Replays past as-of dates (each sees only records up to that day) and scores each rule " +
        "against the target within the window. Empty dates: 52 weekly dates ending one window before the data's end." }), bt, out);
  }

  // Webhooks: each endpoint's state and counts, re-enable after a 410, replay logged events, the delivery log.
  function webhooksCard() {
    const out = el("div", { id: "webhooks-status" });
    const note = el("div");
    const since = el("input", { name: "since", type: "date", required: true });
    const target = el("select", { name: "endpoint" }, el("option", { value: "", text: "all endpoints" }));
    const send = el("button", { type: "submit", class: "secondary", text: "Replay" });
    const replay = el("form", { class: "row", id: "webhooks-replay" }, el("label", {}, "Events since", since),
      el("label", {}, "To", target), send);
    replay.addEventListener("submit", async (e) => {
      e.preventDefault(); clear(note); send.disabled = true;
      const body = { since: since.value };
      if (target.value) body.endpoint = target.value;
      try {
        const r = await api("/api/admin/webhooks/replay", { method: "POST", body });
        note.append(el("p", { class: "ok", text: `${SDI.fmtNum(r.queued)} deliveries queued; the server sends them now.` }));
        show();
      } catch (err) { SDI.showError(note, err); }
      send.disabled = false;
    });
    async function show() {
      let r;
      try { r = await api("/api/admin/webhooks"); } catch (err) { clear(out); SDI.showError(out, err); return; }
      clear(out);
      clear(target).append(el("option", { value: "", text: "all endpoints" }),
        ...r.endpoints.filter((x) => x.configured).map((x) => el("option", { value: x.url, text: x.url })));
      if (!r.endpoints.length) {
        out.append(el("p", { class: "muted", text: `${SDI.fmtNum(r.events)} events logged; no endpoint configured (SDI_WEBHOOK_URL and SDI_WEBHOOK_SECRET, or webhooks: in the config file).` }));
        return;
      }
      const enable = (url) => el("button", { type: "button", class: "secondary", text: "Enable", onclick: async () => {
        try { await api("/api/admin/webhooks/enable", { method: "POST", body: { url } }); show(); } catch (err) { SDI.showError(note, err); }
      } });
      out.append(el("div", { class: "table-wrap" }, el("table", { id: "webhook-endpoints" }, el("thead", {}, el("tr", {},
        ...["Endpoint", "State", "Pending", "Delivered", "Failed", "Last delivered", ""].map((h) => el("th", { text: h })))),
        el("tbody", {}, ...r.endpoints.map((x) => el("tr", {}, el("td", { text: x.url }),
          el("td", { text: x.state + (x.disabled_reason ? ` (${x.disabled_reason})` : "") }),
          el("td", { text: SDI.fmtNum(x.pending) }), el("td", { text: SDI.fmtNum(x.delivered) }), el("td", { text: SDI.fmtNum(x.failed) }),
          el("td", { text: SDI.fmtDateTime(x.last_delivered) }), el("td", {}, x.state === "disabled" ? enable(x.url) : "")))))));
      if (r.deliveries.length) {
        out.append(el("h3", { text: "Last attempts" }), el("div", { class: "table-wrap" }, el("table", { id: "webhook-log" },
          el("thead", {}, el("tr", {}, ...["When", "Endpoint", "Event", "Attempt", "Status", "Error", "ms"].map((h) => el("th", { text: h })))),
          el("tbody", {}, ...r.deliveries.map((d) => el("tr", {}, el("td", { text: SDI.fmtDateTime(d.attempted_at) }), el("td", { text: d.endpoint }),
            el("td", { text: `${d.type || ""} #${d.event_id}` }), el("td", { text: SDI.fmtNum(d.attempt) }),
            el("td", { text: d.status_code === null ? "–" : String(d.status_code) }), el("td", { text: d.error || "" }),
            el("td", { text: SDI.fmtNum(d.duration_ms) })))))));
      }
    }
    show();
    return el("section", { class: "card", id: "webhooks" }, el("h2", { text: "Webhooks" }),
      el("p", { class: "muted", text: "Every change to an opportunity, lead or outcome is logged and sent, signed, to each " +
        "configured endpoint. Replay re-sends logged events with the same webhook-id, so receivers drop what they already have." }),
      out, replay, note);
  }

  function pct(x) {
    if (x === null || x === undefined) return "–";
    return `${(100 * x).toLocaleString(SDI.locale(), { minimumFractionDigits: 2, maximumFractionDigits: 2 })}%`;
  }

  function backtestView(r) {
    const head = el("p", { text: `Target: ${r.target_label} within ${r.window_days} days · ${r.dates_scored} of ${r.dates} dates ` +
      `(${SDI.fmtDate(r.from)} … ${SDI.fmtDate(r.to)}, every ${r.step_days} days) scored, data ends ${SDI.fmtDate(r.horizon)} · ${SDI.fmtNum(r.machines)} machines · ` +
      `${SDI.fmtNum(r.targets_scored)} target events · base rate ${pct(r.base_rate)}` });
    const table = el("div", { class: "table-wrap" }, el("table", { id: "backtest-table" }, el("thead", {}, el("tr", {},
      ...["Rule", "Alerts", "Hits", "Precision", "Recall", "Lift", "Median lead (days)"].map((h) => el("th", { text: h })))),
      el("tbody", {}, ...r.rules.map((x) => el("tr", {}, el("td", { text: SDI.RULE_LABEL[x.rule_id] || x.rule_id }),
        el("td", { text: SDI.fmtNum(x.alerts) }), el("td", { text: SDI.fmtNum(x.hits) }), el("td", { text: pct(x.precision) }),
        el("td", { text: pct(x.recall) }), el("td", { text: x.lift === null ? "–" : SDI.fmtNum(x.lift, 2) }),
        el("td", { text: x.median_lead_days === null ? "–" : SDI.fmtNum(x.median_lead_days, 1) }))))));
    return [head, bars(r), table];
  }

  // Inline SVG, text through textContent only: a bar per rule for its precision, and one line at the base rate (what
  // alerting at random at the same rate would reach).
  function bars(r) {
    const node = SDI.svg;
    const rows = r.rules.filter((x) => x.alerts > 0);
    const W = 720, L = 140, R = 130, ROW = 22, T = 30;
    const H = T + Math.max(1, rows.length) * ROW + 6;
    const top = Math.max(r.base_rate || 0, ...rows.map((x) => x.precision || 0), 0.0001);
    const w = (v) => ((v || 0) / top) * (W - L - R);
    const svg = node("svg", { viewBox: `0 0 ${W} ${H}`, class: "plot", role: "img", id: "backtest-chart",
      "aria-label": "Precision per rule against the base rate" });
    const base = L + w(r.base_rate);
    svg.append(node("text", { x: L, y: 12 }, `precision per rule; dashed line: base rate ${pct(r.base_rate)} (random alerting)`));
    if (!rows.length) svg.append(node("text", { x: L, y: T + 12 }, "no rule fired on the replayed dates"));
    rows.forEach((x, i) => {
      const y = T + i * ROW;
      svg.append(node("rect", { x: L, y, width: w(x.precision).toFixed(1), height: 14, fill: "#0b5cad" }),
        node("text", { x: 4, y: y + 11 }, SDI.RULE_LABEL[x.rule_id] || x.rule_id),
        node("text", { x: L + w(x.precision) + 4, y: y + 11 }, `${pct(x.precision)} · lift ${x.lift === null ? "–" : SDI.fmtNum(x.lift, 2)}`));
    });
    svg.append(node("line", { x1: base, y1: T - 8, x2: base, y2: H - 4, stroke: "#b3261e", "stroke-dasharray": "4 3",
      "stroke-width": 1.2 }));
    return svg;
  }
})();
