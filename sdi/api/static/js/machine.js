// The machine file: facts, customer, contracts, telemetry trends, events, service history, opportunities.
"use strict";
(async () => {
  const { el, $, clear, api, money, param } = SDI;
  const me = await SDI.boot();
  const content = clear($("#content"));
  const serial = param("serial") || "";
  let mf;
  try { mf = await api(`/api/machines/${encodeURIComponent(serial)}`); } catch (err) { SDI.showError(content, err); return; }
  const m = mf.machine;
  $("#title").textContent = `${m.serial} · ${m.model}`;
  const dl = (obj, keys) => el("dl", { class: "facts" }, ...keys.filter((k) => obj && obj[k] !== null && obj[k] !== undefined && obj[k] !== "")
    .flatMap((k) => [el("dt", { text: k.replace(/_/g, " ") }), el("dd", { text: String(obj[k]) })]));
  const table = (rows, cols, id) => rows.length ? el("div", { class: "table-wrap" }, el("table", { id },
    el("thead", {}, el("tr", {}, ...cols.map(([, label]) => el("th", { text: label })))),
    el("tbody", {}, ...rows.map((r) => el("tr", {}, ...cols.map(([k]) => el("td", { text: r[k] === null || r[k] === undefined ? "" : String(r[k]) }))))))) : el("p", { class: "muted", text: "none on record" });

  const top = el("section", { class: "card" }, el("h2", { text: "Machine" }),
    dl(m, ["serial", "model", "site", "install_date", "year_of_manufacture", "age_years", "lifecycle_status", "operating_hours"]),
    mf.model ? dl(mf.model, ["maintenance_interval_hours", "end_of_life", "successor", "parts_discontinued"]) : null,
    me.role === "compliance" ? null : el("p", { class: "no-print" }, el("a", { href: `briefing.html?serial=${encodeURIComponent(m.serial)}`, text: "Pre-visit briefing →" })));
  const cust = el("section", { class: "card" }, el("h2", { text: "Customer" }),
    mf.customer ? dl(mf.customer, ["customer_id", "name", "territory", "account_manager", "contact_name", "contact_email", "contact_phone"]) : el("p", { class: "muted", text: "unknown" }));
  const plots = el("div", { class: "plots", id: "plots" });
  for (const t of mf.telemetry) {
    plots.append(el("figure", {}, Plot.line(t.series, t.metric, ""),
      el("figcaption", { class: "muted", text: `last ${t.last} · min ${t.min} · max ${t.max} · mean ${t.mean} · ${t.points} points` })));
  }
  const tele = el("section", { class: "card" }, el("h2", { text: "Telemetry trend (daily mean, last 12 months)" }),
    mf.telemetry.length ? plots : el("p", { class: "muted", text: "no telemetry (machine not connected)" }));
  const contracts = el("section", { class: "card" }, el("h2", { text: "Contracts" }),
    table(mf.contracts.map((c) => ({ ...c, value: money(c.value, c.currency) })), [["contract_id", "Contract"], ["type", "Type"], ["start_date", "Start"], ["end_date", "End"], ["value", "Value"], ["status", "Status"]], "contracts"));
  const history = el("section", { class: "card" }, el("h2", { text: `Service history (${mf.service_records.length})` }),
    table(mf.service_records, [["date", "Date"], ["type", "Type"], ["technician", "Technician"], ["text", "Note"]], "history"));
  const events = el("section", { class: "card" }, el("h2", { text: `Events (latest ${mf.events.length} of ${mf.events_total})` }),
    table(mf.events, [["timestamp", "When"], ["kind", "Kind"], ["code", "Code"], ["severity", "Severity"], ["description", "Description"]], "events"));
  const opps = el("section", { class: "card" }, el("h2", { text: "Opportunities" }));
  try {
    const page = await api(`/api/opportunities?serial=${encodeURIComponent(m.serial)}&state=all`);
    opps.append(page.items.length ? el("ul", {}, ...page.items.map((o) => el("li", {},
      el("a", { href: `opportunity.html?id=${encodeURIComponent(o.id)}`, text: o.campaign }), ` · ${o.status} · priority ${o.priority}`)))
      : el("p", { class: "muted", text: "none in your scope" }));
  } catch (err) { SDI.showError(opps, err); }
  content.append(el("div", { class: "grid" }, top, cust), tele, opps, contracts, history, events);
})();
