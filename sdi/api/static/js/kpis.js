// KPIs (issue 13): a card per KPI with its value and definition; SVG bars (text through textContent only):
// win rate per campaign, lead turnaround distribution with the win rate per bucket, plan vs actual per campaign.
"use strict";
(async () => {
  const { el, $, clear, api, param } = SDI;
  await SDI.boot();
  const content = clear($("#content"));
  const asOf = el("input", { type: "date", name: "as_of", value: param("as_of") || "" });
  const form = el("form", { id: "kpi-form" }, el("label", {}, "As of", asOf),
    el("button", { type: "submit", class: "secondary", text: "Show" }));
  const scope = el("p", { class: "muted", id: "kpi-scope" });
  const out = el("div", { id: "kpis" });
  content.append(el("div", { class: "kpi-head" }, form, scope), out);
  form.addEventListener("submit", (e) => { e.preventDefault(); load(asOf.value); });
  load(asOf.value);

  async function load(day) {
    clear(out).append(el("p", { class: "muted", text: "Counting…" }));
    try {
      const r = await api(`/api/kpis${day ? "?as_of=" + encodeURIComponent(day) : ""}`);
      if (!asOf.value) asOf.value = r.as_of;
      scope.textContent = `Scope: ${r.scope} · period ${SDI.fmtDate(r.period.from)} … ${SDI.fmtDate(r.period.to)}`;
      const byId = Object.fromEntries(r.kpis.map((k) => [k.id, k]));
      clear(out).append(el("div", { class: "kpi-cards" }, ...r.kpis.map(card)),
        el("div", { class: "kpi-charts" }, chartCard("Win rate per campaign", winChart(byId.win_rate)),
          chartCard("Lead turnaround: report → first action", turnChart(byId.lead_turnaround)),
          chartCard("Plan vs actual per campaign", planChart(byId.plan_vs_actual))));
    } catch (err) { clear(out); SDI.showError(out, err); }
  }

  const pct = (x) => SDI.fmtPct(x, 1);
  const num = (x) => SDI.fmtNum(x);
  const fmt = (x, unit) => (unit === "%" ? pct(x) : x === null || x === undefined ? "–"
    : /^[A-Z]{3}$/.test(unit || "") ? SDI.money(x, unit) : `${num(x)} ${unit}`);

  function card(k) {
    const counts = k.unit === "%" && k.denominator ? `${num(k.numerator)} of ${num(k.denominator)}` : "";
    return el("section", { class: "card kpi-card", id: `kpi-${k.id}`, "data-kpi": k.id },
      el("h2", { text: k.name }), el("div", { class: "kpi-value", text: fmt(k.value, k.unit) }),
      counts ? el("div", { class: "kpi-counts", text: counts }) : null,
      k.note ? el("p", { class: "note", text: k.note }) : null,
      el("p", { class: "kpi-def" }, el("b", { text: "Definition: " }), k.definition), breakdown(k));
  }

  function breakdown(k) {
    const dims = Object.entries(k.by || {}).filter(([, rows]) => rows.length);
    if (!dims.length) return null;
    return el("details", {}, el("summary", { text: `By ${dims.map(([d]) => d.replace(/_/g, " ")).join(", ")}` }),
      ...dims.map(([dim, rows]) => el("div", { class: "table-wrap" }, el("table", {},
        el("caption", { class: "muted", text: dim.replace(/_/g, " ") }),
        el("tbody", {}, ...rows.map((row) => el("tr", {}, el("td", { text: String(row.key) }), el("td", { text: cell(row, k.unit) }))))))));
  }

  function cell(row, unit) { // one breakdown row as text
    if ("win_rate" in row) return `${num(row.leads)} leads · win rate ${pct(row.win_rate)} (${num(row.won)}/${num(row.closed)})`;
    if ("plan" in row) return `${fmt(row.actual, row.unit)} of ${row.plan === null ? "no plan set" : fmt(row.plan, row.unit)}`;
    if ("denominator" in row) return `${pct(row.value)} (${num(row.numerator)}/${num(row.denominator)})`;
    return `${fmt(row.value, unit)}${row.open !== undefined ? ` · ${num(row.open)} open` : ""}${row.won !== undefined ? ` · ${num(row.won)} won` : ""}`;
  }

  function chartCard(title, svg) { return el("section", { class: "card" }, el("h2", { text: title }), svg); }

  const node = SDI.svg;
  const W = 360, ROW = 34, T = 22, BAR = 12;
  const short = (s, n = 52) => (s.length > n ? s.slice(0, n - 1) + "…" : s);

  /** rows: [{label, parts: [{value 0..1, cls}], text}] — each row: its label on one line, its bars under it. */
  function bars(id, caption, rows, empty) {
    const H = T + Math.max(1, rows.length) * ROW + 4;
    const svg = node("svg", { viewBox: `0 0 ${W} ${H}`, class: "plot", role: "img", id, "aria-label": caption });
    svg.append(node("text", { x: 0, y: 12 }, caption));
    if (!rows.length) svg.append(node("text", { x: 0, y: T + 14 }, empty));
    const span = W - 140; // room for the value text right of the longest bar
    rows.forEach((r, i) => {
      const y = T + i * ROW;
      const label = node("text", { x: 0, y: y + 10, class: "ink" }, short(r.label));
      label.append(node("title", {}, r.label));
      svg.append(label);
      const h = BAR / r.parts.length;
      r.parts.forEach((p, j) => svg.append(node("rect", { x: 0, y: y + 14 + j * h, width: (Math.max(0, Math.min(1, p.value || 0)) * span).toFixed(1),
        height: h - (r.parts.length > 1 ? 1 : 0), class: `bar ${p.cls || ""}` })));
      const end = Math.max(...r.parts.map((p) => Math.min(1, p.value || 0))) * span;
      svg.append(node("text", { x: (end + 4).toFixed(1), y: y + 24 }, r.text));
    });
    return svg;
  }

  function winChart(k) {
    const rows = (k.by.campaign || []).map((c) => ({ label: c.key, parts: [{ value: c.value }],
      text: `${pct(c.value)} (${num(c.numerator)}/${num(c.denominator)})` }));
    return bars("chart-win-rate", `won ÷ closed; overall ${pct(k.value)}`, rows, "no outcomes recorded in the period");
  }

  function turnChart(k) {
    const buckets = (k.by.bucket || []).filter((b) => b.key !== "not acted on");
    const top = Math.max(1, ...buckets.map((b) => b.leads));
    const rows = buckets.map((b) => ({ label: b.key, parts: [{ value: b.leads / top }, { value: b.win_rate || 0, cls: "good" }],
      text: `${num(b.leads)} leads · won ${pct(b.win_rate)}` }));
    const waiting = (k.by.bucket || []).find((b) => b.key === "not acted on");
    const svg = bars("chart-turnaround", "blue: leads per bucket · green: win rate (won ÷ closed)", rows, "no technician leads in the period");
    if (waiting && waiting.leads) svg.append(node("title", {}, `${num(waiting.leads)} leads not acted on yet`));
    return svg;
  }

  function planChart(k) {
    const rows = (k.by.campaign || []);
    const top = Math.max(1, ...rows.map((c) => Math.max(c.plan || 0, c.actual || 0)));
    const data = rows.map((c) => ({ label: c.key, parts: [{ value: (c.plan || 0) / top, cls: "plan" }, { value: c.actual / top }],
      text: c.plan === null ? `${num(c.actual)} · no plan` : `${pct(c.value)} of plan` }));
    return bars("chart-plan", `grey: plan (kpi_plan) · blue: revenue won${rows.length ? " (" + rows[0].unit + ")" : ""}`, data, "no plan set and nothing won in the period");
  }
})();
