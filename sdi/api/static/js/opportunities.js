// Opportunity list: trigger badges, priority, owner; filters kept in the address bar.
"use strict";
(async () => {
  const { el, $, clear, api, badge, priorityBar, param } = SDI;
  const me = await SDI.boot();
  const content = clear($("#content"));
  const facets = await api("/api/opportunities/facets");
  const field = (name, node) => { node.name = name; node.value = param(name) || node.value || ""; return node; };
  const select = (name, options) => field(name, el("select", {}, el("option", { value: "", text: "any" }),
    ...options.map((o) => el("option", { value: o, text: SDI.RULE_LABEL[o] || o }))));
  const form = el("form", { class: "filters", id: "filters" },
    el("label", {}, "Search", field("q", el("input", { type: "search", placeholder: "serial, customer, campaign" }))),
    el("label", {}, "Trigger", select("rule", facets.rules)),
    me.role === "sales_rep" ? null : el("label", {}, "Territory", select("territory", facets.territories)),
    el("label", {}, "Status", select("status", ["open", "in_progress", "won", "lost", "dismissed", "resolved"])),
    el("label", {}, "Source", select("source", ["trigger", "lead"])),
    el("button", { type: "submit", class: "secondary", text: "Filter" }));
  const summary = el("p", { class: "muted" });
  const body = el("tbody");
  const table = el("div", { class: "table-wrap" }, el("table", { id: "opportunities" },
    el("thead", {}, el("tr", {}, el("th", { text: "Priority" }), el("th", { text: "Campaign & triggers" }),
      el("th", { text: "Machine" }), el("th", { class: "hide-narrow", text: "Customer" }),
      el("th", { class: "hide-narrow", text: "Owner" }), el("th", { text: "Status" }))), body));
  const more = el("button", { type: "button", class: "secondary", text: "Show more" });
  content.append(form, summary, table, el("p", {}, more));
  let offset = 0;
  const query = () => {
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(form).entries()) if (v) q.set(k, v);
    return q;
  };
  async function load(reset) {
    if (reset) { offset = 0; clear(body); }
    const q = query(); q.set("limit", "50"); q.set("offset", String(offset));
    try {
      const page = await api(`/api/opportunities?${q}`);
      summary.textContent = `${page.total} opportunities in your scope${me.territory ? " (" + me.territory + ")" : ""}`;
      for (const o of page.items) {
        const row = el("tr", { class: "clickable", "data-id": o.id },
          el("td", {}, priorityBar(o.priority)),
          el("td", {}, el("a", { href: `opportunity.html?id=${encodeURIComponent(o.id)}`, class: "opp-link", text: o.campaign }),
            el("div", {}, ...(o.rules || []).map(badge))),
          el("td", {}, o.serial, el("div", { class: "muted", text: o.model || "" })),
          el("td", { class: "hide-narrow", text: o.customer || "" }),
          el("td", { class: "hide-narrow" }, o.owner || "", el("div", { class: "muted", text: (o.owner_role || "").replace("_", " ") })),
          el("td", { class: "status", text: o.status.replace("_", " ") }));
        row.addEventListener("click", (e) => { if (e.target.tagName !== "A") window.location.href = `opportunity.html?id=${encodeURIComponent(o.id)}`; });
        body.append(row);
      }
      offset += page.items.length;
      more.hidden = offset >= page.total;
    } catch (err) { SDI.showError(content, err); }
  }
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    history.replaceState(null, "", `?${query()}`);
    load(true);
  });
  more.addEventListener("click", () => load(false));
  load(true);
})();
