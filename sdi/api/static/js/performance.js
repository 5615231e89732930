// Performance (issue 13): win rate by rule and by bands of its inputs (table + SVG bars), account managers, and the
// technicians' recognition (for a technician: what became of their own leads). Text only, never innerHTML.
"use strict";
(async () => {
  const { el, $, clear, api } = SDI;
  const me = await SDI.boot();
  const content = clear($("#content"));
  const num = (x, digits = 0) => SDI.fmtNum(x, digits);
  const pct = (x) => SDI.fmtPct(x);
  const ci = (r) => (r.n ? `${num(100 * r.ci_low)}–${num(100 * r.ci_high)} %` : "–");
  const rateText = (r) => (r.n ? `${pct(r.win_rate)} (${num(r.won)}/${num(r.n)})` : "–");
  const table = (id, heads, rows) => el("div", { class: "table-wrap" }, el("table", { id },
    el("thead", {}, el("tr", {}, ...heads.map((h) => el("th", { text: h })))), el("tbody", {}, ...rows)));
  const section = (id, title, ...children) => el("section", { class: "card", id }, el("h2", { text: title }), ...children);

  if (me.role === "technician") {
    $("#title").textContent = "My leads' results";
    content.append(await guarded(technicianSections));
    return;
  }
  content.append(await guarded(rulesSection), await guarded(amSection), await guarded(technicianSections));

  async function guarded(build) {
    try { return await build(); } catch (err) { const box = el("div"); SDI.showError(box, err); return box; }
  }

  async function rulesSection() {
    const r = await api("/api/performance/rules");
    const head = el("p", { text: `${num(r.closed)} closed opportunities, ${num(r.won)} won ` +
      `(${pct(r.overall.win_rate)}) · rules file ${r.rules_file_version}` });
    const cell = (x) => el("td", {}, rateText(x), x.n ? el("br") : null, x.n ? el("span", { class: "muted", text: `95 % ${ci(x)}` }) : null);
    const rows = r.rules.map((x) => el("tr", {}, el("td", {}, SDI.badge(x.rule_id)), cell(x.as_campaign), cell(x.fired)));
    const suggestions = el("div", { id: "suggestions" }, el("h3", { text: "Threshold suggestions" }),
      r.suggestions.length ? el("ul", {}, ...r.suggestions.map((s) => el("li", { text: s.text })))
        : el("p", { class: "muted", text: "None: no band of any rule's inputs differs clearly from the rest." }),
      el("p", { class: "muted", text: r.how_to_apply }));
    const inputs = r.rules.flatMap((x) => x.inputs.map((i) => ({ rule: x.rule_id, input: i })));
    const chartBox = el("div", { id: "band-chart" });
    const pick = el("select", { id: "band-input", "aria-label": "rule input" },
      ...inputs.map((x, k) => el("option", { value: k, text: `${SDI.RULE_LABEL[x.rule] || x.rule} · ${x.input.field}` })));
    const first = inputs.findIndex((x) => x.input.suggestion) >= 0 ? inputs.findIndex((x) => x.input.suggestion) : 0;
    pick.value = String(first);
    const draw = () => {
      clear(chartBox);
      const x = inputs[Number(pick.value)];
      if (!x) { chartBox.append(el("p", { class: "muted", text: "No closed opportunity has numeric rule inputs yet." })); return; }
      chartBox.append(bandChart(x.rule, x.input), table("band-table", ["Band", "Win rate", "95 % interval"],
        x.input.bands.map((b) => el("tr", {}, el("td", { text: b.label }), el("td", { text: rateText(b) }), el("td", { text: ci(b) })))));
    };
    pick.addEventListener("change", draw);
    draw();
    return section("rules", "Rules: win rate from outcomes", head,
      table("rules-table", ["Rule", "As campaign", "Fired on (any)"], rows), suggestions,
      el("h3", { text: "Win rate by band of a rule's input" }), el("label", {}, "Input ", pick), chartBox);
  }

  // Inline SVG in the admin back-test's style: a bar per band for its win rate, a whisker for its 95 % interval.
  function bandChart(rule, input) {
    const node = SDI.svg;
    const rows = input.bands;
    const W = 480, L = 130, R = 100, ROW = 24, T = 30;
    const H = T + Math.max(1, rows.length) * ROW + 6;
    const w = (v) => (v || 0) * (W - L - R);
    const svg = node("svg", { viewBox: `0 0 ${W} ${H}`, class: "plot", role: "img", id: "band-svg",
      "aria-label": `Win rate by band of ${input.field} (${rule})` });
    svg.style.maxWidth = "640px";
    svg.append(node("text", { x: 4, y: 12 }, `${rule} · ${input.field}: win rate per band, line = 95 % interval`));
    rows.forEach((b, i) => {
      const y = T + i * ROW;
      svg.append(node("rect", { x: L, y, width: w(b.win_rate).toFixed(1), height: 14, fill: "#0b5cad" }),
        node("line", { x1: L + w(b.ci_low), x2: L + w(b.ci_high), y1: y + 7, y2: y + 7, stroke: "#b3261e", "stroke-width": 1.5 }),
        node("text", { x: 4, y: y + 11 }, b.label),
        node("text", { x: L + Math.max(w(b.win_rate), w(b.ci_high)) + 4, y: y + 11 }, `${pct(b.win_rate)} · n ${num(b.n)}`));
    });
    return svg;
  }

  async function amSection() {
    const r = await api("/api/performance/account-managers");
    const rows = r.account_managers.map((p) => {
      const a = p.awareness, d = p.discounting, h = p.partner_handoff;
      return el("tr", {}, el("td", {}, el("strong", { text: p.account_manager }), el("br"), el("span", { class: "muted", text: p.territory || "" })),
        el("td", { text: `${pct(a.share)} (${num(a.acted_on)}/${num(a.opportunities)})` }),
        el("td", { text: `${pct(d.share)} (${num(d.discounted)}/${num(d.won)})` + (d.mean_discount_pct === null ? "" : ` · mean ${num(d.mean_discount_pct, 1)} %`) }),
        el("td", { text: `${pct(h.share)} (${num(h.lost_to_partner)}/${num(h.closed)})` + (h.partners.length ? ` · ${h.partners.join(", ")}` : "") }),
        el("td", { text: p.notes.join("; ") }));
    });
    return section("account-managers", "Account managers", el("p", { class: "muted",
      text: `Awareness: ${r.definitions.awareness}. Discounting: ${r.definitions.discounting}. Partner: ${r.definitions.partner_handoff}.` }),
    table("am-table", ["Account manager", "Awareness", "Discounted wins", "Lost to a partner", "Notes"], rows));
  }

  async function technicianSections() {
    const r = await api("/api/performance/technicians");
    const box = el("div");
    if (r.your_leads) {
      box.append(section("your-leads", "Your leads", r.you ? el("p", { class: "ok", text: `Thank you: ${r.you.credit}.` }) : null,
        r.your_leads.length ? leadList(r.your_leads) : el("p", { class: "muted", text: "You have not reported a lead yet." })));
    }
    const ranking = r.ranking.map((t) => el("tr", { class: t.technician === me.name ? "me" : null },
      el("td", { text: String(t.rank) }), el("td", { text: t.technician }), el("td", { text: t.credit }),
      el("td", { text: t.median_days_to_outcome === null ? "–" : `${num(t.median_days_to_outcome, 1)} days` })));
    box.append(section("technicians", "Technicians' leads: recognition",
      el("p", { class: "muted", text: "Leads technicians reported from their visits and what they became — the team's advisors." }),
      r.ranking.length ? table("tech-table", ["#", "Technician", "Credit", "Median turnaround"], ranking)
        : el("p", { class: "muted", text: "No lead reported yet." })));
    if (!r.your_leads && r.leads.length) box.append(section("all-leads", "Leads and what became of them", leadList(r.leads.slice(0, 200))));
    return box;
  }

  function leadList(leads) {
    return table("lead-table", ["Lead", "Reported", "Routed to", "First action", "Outcome"], leads.map((x) => {
      const outcome = x.result ? `${x.result.replace(/_/g, " ")}${x.value !== null ? " · " + SDI.money(x.value, x.currency) : ""}` +
        `${x.partner ? " · " + x.partner : ""}${x.reason ? " · " + x.reason : ""}` : (x.status || "open");
      return el("tr", {}, el("td", {}, el("strong", { text: x.id }), el("br"), el("span", { class: "muted", text: `${x.serial}: ${x.observed}` })),
        el("td", { text: SDI.fmtDate(x.reported_at) }), el("td", { text: x.routed_to }),
        el("td", { text: x.first_action ? `${x.first_action} by ${x.first_action_by}, after ${num(x.hours_to_first_action, 1)} h` : "not yet" }),
        el("td", { text: outcome }));
    }));
  }
})();
