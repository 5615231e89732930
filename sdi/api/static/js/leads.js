// Leads in scope: who each went to and why (the routing reason), and the time from report to first action.
"use strict";
(async () => {
  const { el, $, clear, api, fmtNum, fmtDateTime } = SDI;
  await SDI.boot();
  const content = clear($("#content"));
  const ROLE = { sales_rep: "sales rep", technician: "technician", admin: "admins" };
  try {
    const data = await api("/api/leads?limit=500");
    const s = data.stats;
    content.append(el("p", { class: "muted", id: "lead-stats",
      text: `${fmtNum(s.leads)} leads · ${fmtNum(s.acted_on)} acted on · ${fmtNum(s.waiting)} waiting` +
        (s.median_hours_to_first_action !== null ? ` · median ${fmtNum(s.median_hours_to_first_action, 1)} h to first action` : "") }),
    el("p", { class: "muted order-note", text: "Routing: a standard offer under the price limit stays with the technician who reported it; the rest go to the account manager if SDI shows them the machine, else to a sales rep of the territory, else to the admins." }));
    const body = el("tbody", {}, ...data.items.map((l) => el("tr", { "data-id": l.id },
      el("td", {}, el("a", { href: `opportunity.html?id=${encodeURIComponent(l.opportunity_id)}`, text: l.id }), el("div", { class: "muted", text: fmtDateTime(l.reported_at) })),
      el("td", {}, l.serial, el("div", { class: "muted", text: `by ${l.reporter}` })),
      el("td", {}, l.observed, l.customer_wants ? el("div", { class: "muted", text: `wants: ${l.customer_wants}` }) : null),
      el("td", { class: "routed" }, l.owner_role === "admin" ? "the admins" : `${l.owner} (${ROLE[l.owner_role] || l.owner_role})`,
        el("span", { class: "routing-reason", text: l.routing_reason || "" })),
      el("td", { text: l.hours_to_first_action === null ? "waiting" : `${fmtNum(l.hours_to_first_action, 1)} h (${(l.first_action || "").replace(/[:_]/g, " ")})` }))));
    content.append(el("div", { class: "table-wrap" }, el("table", { id: "leads" }, el("thead", {}, el("tr", {},
      ...["Lead", "Machine", "Observed", "Routed to · why", "First action"].map((h) => el("th", { text: h })))), body)));
  } catch (err) { SDI.showError(content, err); }
})();
