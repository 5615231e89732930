// Compliance: every draft with filters (kind, machine, opportunity, user, model, check result, dates).
"use strict";
(async () => {
  const { el, $, clear, api, param } = SDI;
  await SDI.boot();
  const content = clear($("#content"));
  const input = (name, attrs) => { const n = el("input", { name, ...attrs }); n.value = param(name) || ""; return n; };
  const choice = (name, values) => { const n = el("select", { name }, el("option", { value: "", text: "any" }), ...values.map((v) => el("option", { value: v, text: v }))); n.value = param(name) || ""; return n; };
  const form = el("form", { class: "filters", id: "draft-filters" },
    el("label", {}, "Kind", choice("kind", ["why", "ask", "brief", "talking_points"])),
    el("label", {}, "Opportunity", input("opportunity_id", { size: 16 })),
    el("label", {}, "Serial", input("serial", { size: 14 })),
    el("label", {}, "User", input("user", { size: 14 })),
    el("label", {}, "Check", choice("check", ["clean", "flagged"])),
    el("label", {}, "Since", input("since", { type: "date" })),
    el("label", {}, "Until", input("until", { type: "date" })),
    el("label", {}, "Text", input("q", { type: "search", size: 14 })),
    el("button", { type: "submit", class: "secondary", text: "Filter" }));
  const list = el("div");
  content.append(form, list);
  async function load() {
    clear(list);
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(form).entries()) if (v) q.set(k, v);
    history.replaceState(null, "", `?${q}`);
    q.set("limit", "200");
    try {
      const page = await api(`/api/drafts?${q}`);
      list.append(el("p", { class: "muted", text: `${page.total} drafts` }));
      const body = el("tbody", {}, ...page.items.map((d) => el("tr", { "data-audit-id": d.audit_id },
        el("td", {}, el("a", { href: `draft.html?id=${encodeURIComponent(d.audit_id)}`, class: "draft-link", text: d.audit_id }), el("div", { class: "muted", text: d.ts })),
        el("td", { text: d.kind }),
        el("td", {}, d.opportunity_id || "", el("div", { class: "muted", text: d.serial || "" })),
        el("td", { text: d.user || "" }),
        el("td", { class: "hide-narrow", text: `${d.model.name || ""} · ${d.prompt.name || ""} v${d.prompt.version || ""}` }),
        el("td", { class: d.flagged ? "note" : "", text: `${d.check.passed}/${d.check.checked} passed, ${d.check.repaired} replaced, ${d.check.dropped} dropped` }))));
      list.append(el("div", { class: "table-wrap" }, el("table", { id: "drafts" }, el("thead", {}, el("tr", {},
        ...["Draft", "Kind", "Opportunity / machine", "User", "Model · prompt", "Citation check"].map((h) => el("th", { text: h })))), body)));
    } catch (err) { SDI.showError(list, err); }
  }
  form.addEventListener("submit", (e) => { e.preventDefault(); load(); });
  load();
})();
