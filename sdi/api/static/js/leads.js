// Leads in scope with the time from report to first action.
"use strict";
(async () => {
  const { el, $, clear, api } = SDI;
  await SDI.boot();
  const content = clear($("#content"));
  try {
    const data = await api("/api/leads?limit=500");
    const s = data.stats;
    content.append(el("p", { class: "muted", id: "lead-stats",
      text: `${s.leads} leads · ${s.acted_on} acted on · ${s.waiting} waiting` + (s.median_hours_to_first_action !== null ? ` · median ${s.median_hours_to_first_action} h to first action` : "") }));
    const body = el("tbody", {}, ...data.items.map((l) => el("tr", { "data-id": l.id },
      el("td", {}, el("a", { href: `opportunity.html?id=${encodeURIComponent(l.opportunity_id)}`, text: l.id }), el("div", { class: "muted", text: l.reported_at })),
      el("td", {}, l.serial, el("div", { class: "muted", text: `by ${l.reporter}` })),
      el("td", {}, l.observed, l.customer_wants ? el("div", { class: "muted", text: `wants: ${l.customer_wants}` }) : null),
      el("td", { text: `${l.owner} (${l.owner_role.replace("_", " ")})` }),
      el("td", { text: l.hours_to_first_action === null ? "waiting" : `${l.hours_to_first_action} h (${l.first_action})` }))));
    content.append(el("div", { class: "table-wrap" }, el("table", { id: "leads" }, el("thead", {}, el("tr", {},
      ...["Lead", "Machine", "Observed", "Routed to", "First action"].map((h) => el("th", { text: h })))), body)));
  } catch (err) { SDI.showError(content, err); }
})();
