// The machine file: facts, customer, contracts, telemetry charts (units, thresholds, events and visits marked),
// opportunities, service history and events; dates and numbers in the user's locale.
"use strict";
(async () => {
  const { el, $, clear, api, money, param, fmtNum, fmtDate, fmtDateTime } = SDI;
  const me = await SDI.boot();
  const content = clear($("#content"));
  const serial = param("serial") || "";
  let mf;
  try { mf = await api(`/api/machines/${encodeURIComponent(serial)}`); } catch (err) { SDI.showError(content, err); return; }
  const m = mf.machine;
  $("#title").textContent = `${m.serial} · ${m.model}`;
  document.title = `${m.serial} · SDI`;

  const DATES = new Set(["install_date", "end_of_life", "start_date", "end_date", "date"]);
  const NUMBERS = { age_years: 1, operating_hours: 0, maintenance_interval_hours: 0, year_of_manufacture: -1 };
  const LABELS = { age_years: "age (years)", operating_hours: "operating hours", maintenance_interval_hours: "maintenance interval (h)" };
  /** A field's value as a person reads it. */
  function show(key, v) {
    if (v === null || v === undefined || v === "") return "";
    if (typeof v === "boolean") return v ? "yes" : "no";
    if (DATES.has(key)) return fmtDate(v);
    if (key === "timestamp") return fmtDateTime(v);
    if (key in NUMBERS) return NUMBERS[key] < 0 ? String(v) : fmtNum(v, NUMBERS[key]);
    return String(v);
  }
  const dl = (obj, keys) => el("dl", { class: "facts" }, ...keys.filter((k) => obj && obj[k] !== null && obj[k] !== undefined && obj[k] !== "")
    .flatMap((k) => [el("dt", { text: LABELS[k] || k.replace(/_/g, " ") }), el("dd", { text: show(k, obj[k]) })]));
  const table = (rows, cols, id) => rows.length ? el("div", { class: "table-wrap" }, el("table", { id },
    el("thead", {}, el("tr", {}, ...cols.map(([, label]) => el("th", { text: label })))),
    el("tbody", {}, ...rows.map((r) => el("tr", {}, ...cols.map(([k]) => el("td", { text: show(k, r[k]) })))))))
    : el("p", { class: "muted", text: "none on record" });

  const top = el("section", { class: "card" }, el("h2", { text: "Machine" }),
    dl({ ...(mf.model || {}), ...m }, ["serial", "model", "site", "install_date", "year_of_manufacture", "age_years", "lifecycle_status",
      "operating_hours", "maintenance_interval_hours", "end_of_life", "successor", "parts_discontinued"]),
    el("p", { id: "next-due" }, el("strong", { text: "Next due: " }),
      ...(mf.dues && mf.dues.length ? mf.dues.flatMap((d, i) => [i ? " · " : "", Tech.dueText(d)]) : [el("span", { class: "muted", text: "nothing on record" })])),
    me.role === "compliance" ? null : el("p", { class: "no-print" }, el("a", { href: `briefing.html?serial=${encodeURIComponent(m.serial)}`, text: "Pre-visit briefing →" })));
  const cust = el("section", { class: "card" }, el("h2", { text: "Customer" }),
    mf.customer ? dl(mf.customer, ["customer_id", "name", "territory", "account_manager", "contact_name", "contact_email", "contact_phone"]) : el("p", { class: "muted", text: "unknown" }));

  const marks = mf.chart_markers || { events: [], visits: [] };
  const plots = el("div", { class: "plots", id: "plots" });
  for (const t of mf.telemetry) {
    const u = t.unit ? ` ${t.unit}` : "";
    plots.append(Plot.chart({
      metric: t.metric, label: t.label || t.metric, unit: t.unit, series: t.series, thresholds: t.thresholds || [],
      events: marks.events, visits: marks.visits, start: marks.start, end: marks.end,
      caption: `last ${fmtNum(t.last, 2)}${u} · min ${fmtNum(t.min, 2)} · max ${fmtNum(t.max, 2)} · mean ${fmtNum(t.mean, 2)} · ${fmtNum(t.points)} readings`,
    }));
  }
  const tele = el("section", { class: "card", id: "telemetry" }, el("h2", { text: "Telemetry (daily mean, last 12 months)" }),
    mf.telemetry.length ? [el("p", { class: "muted", text: "Dashed lines: the rules' thresholds on a signal. Below each chart: ▼ error events, ● service visits (point at one for its details)." }), plots]
      : el("p", { class: "muted", text: "no telemetry (machine not connected)" }));

  const contracts = el("section", { class: "card" }, el("h2", { text: "Contracts" }),
    table(mf.contracts.map((c) => ({ ...c, value: money(c.value, c.currency) })), [["contract_id", "Contract"], ["type", "Type"], ["start_date", "Start"], ["end_date", "End"], ["value", "Value"], ["status", "Status"]], "contracts"));
  const history = el("section", { class: "card" }, el("h2", { text: `Service history (${fmtNum(mf.service_records.length)})` }),
    table(mf.service_records, [["date", "Date"], ["type", "Type"], ["technician", "Technician"], ["text", "Note"]], "history"));
  const events = el("section", { class: "card" }, el("h2", { text: `Events (latest ${fmtNum(mf.events.length)} of ${fmtNum(mf.events_total)})` }),
    table(mf.events, [["timestamp", "When"], ["kind", "Kind"], ["code", "Code"], ["severity", "Severity"], ["description", "Description"]], "events"));
  const opps = el("section", { class: "card" }, el("h2", { text: "Opportunities" }));
  try {
    const page = await api(`/api/opportunities?serial=${encodeURIComponent(m.serial)}&state=all`);
    opps.append(page.items.length ? el("ul", {}, ...page.items.map((o) => el("li", {},
      el("a", { href: `opportunity.html?id=${encodeURIComponent(o.id)}`, text: o.campaign }),
      ` · ${o.status.replace(/_/g, " ")} · priority ${fmtNum(o.priority, 1)} · ${o.owner}`)))
      : el("p", { class: "muted", text: "none in your scope" }));
  } catch (err) { SDI.showError(opps, err); }
  content.append(el("div", { class: "grid" }, top, cust), tele, opps, contracts, history, events);
  Plot.drawIn(content);
})();
