// Opportunity list: priority with its reasons, trigger badges, owner; filters and a rep's Mine / Team choice kept in
// the address bar.
"use strict";
(async () => {
  const { el, $, clear, api, badge, priorityBar, param, fmtDate } = SDI;
  const me = await SDI.boot();
  const content = clear($("#content"));
  const facets = await api("/api/opportunities/facets");
  const rep = me.role === "sales_rep";
  // A rep lands on their own opportunities; "team" is everything in their territory.
  let view = rep && param("view") === "team" ? "team" : "mine";
  const field = (name, node) => { node.name = name; node.value = param(name) || node.value || ""; return node; };
  const select = (name, options) => field(name, el("select", {}, el("option", { value: "", text: "any" }),
    ...options.map((o) => el("option", { value: o, text: SDI.RULE_LABEL[o] || o }))));
  const form = el("form", { class: "filters", id: "filters" },
    el("label", {}, "Search", field("q", el("input", { type: "search", placeholder: "serial, customer, campaign" }))),
    el("label", {}, "Trigger", select("rule", facets.rules)),
    rep ? null : el("label", {}, "Territory", select("territory", facets.territories)),
    el("label", {}, "Status", select("status", ["open", "in_progress", "won", "lost", "dismissed", "resolved"])),
    el("label", {}, "Source", select("source", ["trigger", "lead"])),
    el("button", { type: "submit", class: "secondary", text: "Filter" }));
  const toggle = rep ? el("div", { class: "view-toggle", id: "view-toggle", role: "group", "aria-label": "Whose opportunities" }) : null;
  const viewButton = (name, label) => el("button", { type: "button", "data-view": name, text: label,
    "aria-pressed": String(view === name), onclick: () => { if (view !== name) { view = name; pressed(); go(); } } });
  if (toggle) toggle.append(viewButton("mine", "Mine"), viewButton("team", `Team · ${me.territory || "all in scope"}`));
  function pressed() { if (toggle) for (const b of toggle.querySelectorAll("button")) b.setAttribute("aria-pressed", String(b.dataset.view === view)); }
  const summary = el("p", { class: "muted", id: "list-summary", role: "status" });
  const body = el("tbody");
  const table = el("div", { class: "table-wrap" }, el("table", { id: "opportunities", class: "rep-list" },
    el("thead", {}, el("tr", {}, el("th", { text: "Priority" }), el("th", { text: "Campaign & triggers" }),
      el("th", { text: "Machine" }), el("th", { class: "hide-narrow", text: "Customer" }),
      el("th", { class: "hide-narrow", text: "Owner" }), el("th", { text: "Status" }))), body));
  const more = el("button", { type: "button", class: "secondary", text: "Show more" });
  content.append(el("div", { class: "list-head" }, toggle, form), summary, table, el("p", {}, more));
  let offset = 0;
  const query = () => {
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(form).entries()) if (v) q.set(k, v);
    if (rep && view === "team") q.set("view", "team");
    return q;
  };
  function go() {
    history.replaceState(null, "", `?${query()}`);
    load(true);
  }
  async function load(reset) {
    if (reset) { offset = 0; clear(body); }
    const q = query(); q.delete("view");
    if (rep && view === "mine") q.set("owner", me.name);
    q.set("limit", "50"); q.set("offset", String(offset));
    try {
      const page = await api(`/api/opportunities?${q}`);
      const n = SDI.fmtNum(page.total);
      summary.textContent = rep && view === "mine" ? (page.total ? `${n} opportunities of yours, best first`
        : "None of the open opportunities is yours: Team shows your territory's")
        : `${n} opportunities in your scope${me.territory ? " (" + me.territory + ")" : ""}, best first`;
      for (const o of page.items) {
        const link = el("a", { href: `opportunity.html?id=${encodeURIComponent(o.id)}`, class: "opp-link", text: o.campaign });
        const row = el("tr", { class: "clickable", "data-id": o.id, "data-owner": o.owner || "" },
          el("td", { class: "prio-cell" }, priorityBar(o.priority, o.priority_explained, false)),
          el("td", {}, link, el("div", {}, ...(o.rules || []).map(badge)),
            el("div", { class: "muted small", text: `since ${fmtDate(o.first_seen)}` })),
          el("td", {}, o.serial, el("div", { class: "muted", text: o.model || "" })),
          el("td", { class: "hide-narrow", text: o.customer || "" }),
          el("td", { class: "hide-narrow owner" }, o.owner || "", el("div", { class: "muted", text: (o.owner_role || "").replace("_", " ") })),
          el("td", { class: "status", text: o.status.replace("_", " ") }));
        row.addEventListener("click", (e) => { if (e.target.tagName !== "A") window.location.href = link.getAttribute("href"); });
        body.append(row);
      }
      offset += page.items.length;
      more.hidden = offset >= page.total;
    } catch (err) { SDI.showError(content, err); }
  }
  form.addEventListener("submit", (e) => { e.preventDefault(); go(); });
  more.addEventListener("click", () => load(false));
  load(true);
})();
