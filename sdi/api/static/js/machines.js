// Machines in scope (technicians: their assigned machines) with links to the machine file and the briefing.
"use strict";
(async () => {
  const { el, $, clear, api, param } = SDI;
  const me = await SDI.boot();
  if (me.role === "technician") $("#title").textContent = "My machines";
  const content = clear($("#content"));
  const q = el("input", { type: "search", name: "q", placeholder: "serial, model, site, customer", value: param("q") || "" });
  const form = el("form", { class: "filters" }, el("label", {}, "Search", q), el("button", { type: "submit", class: "secondary", text: "Search" }));
  const list = el("div");
  content.append(form, list);
  async function load() {
    clear(list);
    try {
      const page = await api(`/api/machines?limit=200&q=${encodeURIComponent(q.value)}`);
      list.append(el("p", { class: "muted", text: `${page.total} machines in your scope` }));
      const body = el("tbody");
      for (const m of page.items) {
        body.append(el("tr", { "data-serial": m.serial },
          el("td", {}, el("a", { href: `machine.html?serial=${encodeURIComponent(m.serial)}`, text: m.serial }),
            el("div", { class: "muted", text: m.model })),
          el("td", {}, m.customer || "", el("div", { class: "muted", text: m.site || "" })),
          el("td", { class: "hide-narrow", text: m.territory || "" }),
          el("td", { text: String(m.open_opportunities) }),
          el("td", {}, me.role === "compliance" ? "" : el("a", { class: "brief-link", href: `briefing.html?serial=${encodeURIComponent(m.serial)}`, text: "Briefing" }))));
      }
      list.append(el("div", { class: "table-wrap" }, el("table", { id: "machines" }, el("thead", {}, el("tr", {},
        el("th", { text: "Machine" }), el("th", { text: "Customer / site" }), el("th", { class: "hide-narrow", text: "Territory" }),
        el("th", { text: "Open" }), el("th", { text: "" }))), body)));
    } catch (err) { SDI.showError(list, err); }
  }
  form.addEventListener("submit", (e) => { e.preventDefault(); load(); });
  load();
})();
