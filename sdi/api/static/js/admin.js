// Admin: users and tokens, re-run detection.
"use strict";
(async () => {
  const { el, $, clear, api } = SDI;
  await SDI.boot();
  const content = clear($("#content"));
  const list = el("div");
  const msg = el("div");
  const name = el("input", { name: "name", required: true, maxlength: 80 });
  const role = el("select", { name: "role" }, ...["sales_rep", "technician", "compliance", "admin"].map((r) => el("option", { value: r, text: r.replace("_", " ") })));
  const territory = el("input", { name: "territory", size: 10 });
  const serials = el("input", { name: "serials", size: 30, placeholder: "serials, comma-separated" });
  const form = el("form", { class: "row card", id: "user-form" }, el("label", {}, "Name", name), el("label", {}, "Role", role),
    el("label", {}, "Territory (reps)", territory), el("label", {}, "Assigned machines (technicians)", serials),
    el("button", { type: "submit", class: "primary", text: "Add user" }));
  form.addEventListener("submit", async (e) => {
    e.preventDefault(); clear(msg);
    const body = { name: name.value, role: role.value, serials: serials.value.split(",").map((x) => x.trim()).filter(Boolean) };
    if (territory.value) body.territory = territory.value;
    try {
      const u = await api("/api/users", { method: "POST", body });
      msg.append(el("div", { class: "ok" }, `User ${u.name} created. Token (shown once): `, el("code", { text: u.token })));
      form.reset(); load();
    } catch (err) { SDI.showError(msg, err); }
  });
  const rerun = el("button", { type: "button", class: "secondary", text: "Re-run trigger detection" });
  rerun.addEventListener("click", async () => {
    clear(msg); rerun.disabled = true;
    try { const r = await api("/api/admin/triggers", { method: "POST" }); msg.append(el("p", { class: "ok", text: `Detection ran as of ${r.as_of} over ${r.machines} machines.` })); }
    catch (err) { SDI.showError(msg, err); }
    rerun.disabled = false;
  });
  content.append(form, el("p", {}, rerun), msg, list);
  async function load() {
    clear(list);
    const users = await api("/api/users");
    list.append(el("div", { class: "table-wrap" }, el("table", { id: "users" }, el("thead", {}, el("tr", {},
      ...["Name", "Role", "Territory", "Machines", "Created", ""].map((h) => el("th", { text: h })))),
      el("tbody", {}, ...users.map((u) => el("tr", {}, el("td", { text: u.name }), el("td", { text: u.role }),
        el("td", { text: u.territory || "" }), el("td", { text: String(u.serials.length) }), el("td", { text: u.created_at || "" }),
        el("td", {}, el("button", { type: "button", class: "secondary", text: "Remove", onclick: async () => {
          if (!window.confirm(`Remove ${u.name}? Their token stops working.`)) return;
          try { await api(`/api/users/${encodeURIComponent(u.name)}`, { method: "DELETE" }); load(); } catch (err) { SDI.showError(msg, err); }
        } }))))))));
  }
  load();
})();
