// Audit trail: every entry of the hash-chained log, newest first, filtered (kind, user, machine, dates) and paged;
// each entry opens to its payload as key/value; verify the chain and download a bundle.
"use strict";
(async () => {
  const { el, $, clear, api, param, fmtNum, fmtDate, fmtDateTime } = SDI;
  await SDI.boot();
  const PAGE = 50;
  const KIND = {
    draft: "Draft", draft_review: "Draft reviewed", status: "Status change", outcome: "Outcome", lead: "Lead",
    handoff: "Hand-off to CRM", ingest: "Import", import_outcomes: "Outcomes import", triggers_run: "Trigger run",
    user_add: "User added", user_remove: "User removed", webhooks_replay: "Webhooks replayed",
    webhooks_enable: "Webhook enabled", rules_apply: "Rules applied", export_crm: "CRM export", backup: "Backup",
    restore: "Restore", repair: "Log repair", audit_export: "Audit export", audit_verify: "Chain verified",
    demo_history: "Demo history",
  };
  const kindLabel = (k) => KIND[k] || String(k || "").replace(/_/g, " ");
  const content = clear($("#content"));

  // --- Verify and export --------------------------------------------------------------------------------------
  const verifyOut = el("p", { id: "verify-result", role: "status", "aria-live": "polite" });
  const exportOut = el("p", { id: "export-result", role: "status", "aria-live": "polite" });
  const exportScope = el("span", { class: "muted", id: "export-scope" });
  const verifyButton = el("button", { type: "button", class: "primary", id: "verify", text: "Verify the chain" });
  const exportButton = el("button", { type: "button", class: "secondary", id: "export", text: "Export bundle" });
  content.append(el("section", { class: "card tools", id: "chain-tools" },
    el("div", { class: "row" }, verifyButton, exportButton, exportScope), verifyOut, exportOut));

  verifyButton.addEventListener("click", async () => {
    verifyButton.disabled = true;
    verifyOut.className = "muted";
    verifyOut.textContent = "Verifying…";
    try {
      const r = await api("/api/audit/verify", { method: "POST" });
      verifyOut.className = r.ok ? "ok" : "error";
      verifyOut.textContent = r.ok
        ? `Chain intact: ${fmtNum(r.entries)} entries verified (links, hashes and head anchor).`
        : `Chain broken at ${r.first_bad_entry}: ${r.message}`;
      if (r.note) verifyOut.append(el("span", { class: "verify-note", text: ` ${r.note}` }));
      load();
    } catch (err) { verifyOut.className = ""; clear(verifyOut); SDI.showError(verifyOut, err); }
    verifyButton.disabled = false;
  });

  exportButton.addEventListener("click", async () => {
    exportButton.disabled = true;
    exportOut.className = "muted";
    exportOut.textContent = "Preparing the bundle…";
    const q = new URLSearchParams();
    for (const k of ["since", "until"]) if (form.elements[k].value) q.set(k, form.elements[k].value);
    try {
      const resp = await fetch(`/api/audit/export?${q}`, { headers: { Authorization: `Bearer ${SDI.token() || ""}` } });
      if (!resp.ok) {
        let body = {};
        try { body = await resp.json(); } catch (e) { /* not JSON */ }
        throw new SDI.ApiError(resp.status, body.detail, body.hint);
      }
      const blob = await resp.blob();
      const found = /filename="?([^";]+)"?/.exec(resp.headers.get("Content-Disposition") || "");
      const name = found ? found[1] : "sdi-audit-bundle.tar.gz";
      const link = el("a", { href: URL.createObjectURL(blob), download: name, class: "download", text: name });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 60000);
      exportOut.className = "ok";
      exportOut.textContent = `Bundle downloaded: ${name} — ${fmtNum(Number(resp.headers.get("X-SDI-Entries")))} entries, `
        + `${fmtNum(blob.size / 1024, 1)} KB. Check it anywhere with: sdi audit verify --bundle <folder>`;
      const warning = resp.headers.get("X-SDI-Warning");
      if (warning) exportOut.append(el("span", { class: "error", text: ` ${warning}` }));
      load();
    } catch (err) { exportOut.className = ""; clear(exportOut); SDI.showError(exportOut, err); }
    exportButton.disabled = false;
  });

  // --- Filters, kept in the address bar -------------------------------------------------------------------------
  const text = (name, attrs) => { const n = el("input", { name, ...attrs }); n.value = param(name) || ""; return n; };
  const kind = el("select", { name: "kind" }, el("option", { value: "", text: "every kind" }));
  const user = el("select", { name: "user" }, el("option", { value: "", text: "everyone" }));
  const form = el("form", { class: "filters", id: "audit-filters" },
    el("label", {}, "Kind", kind), el("label", {}, "User", user),
    el("label", {}, "Machine (serial)", text("serial", { size: 14 })),
    el("label", {}, "From", text("since", { type: "date" })), el("label", {}, "To", text("until", { type: "date" })),
    el("button", { type: "submit", class: "secondary", text: "Filter" }),
    el("button", { type: "button", class: "link", id: "clear-filters", text: "Clear" }));
  const list = el("div", { id: "audit-list" });
  content.append(form, list);
  let offset = Number(param("offset")) || 0;
  const wanted = { kind: param("kind") || "", user: param("user") || "" };
  if (wanted.kind) { kind.append(el("option", { value: wanted.kind, text: kindLabel(wanted.kind) })); kind.value = wanted.kind; }
  if (wanted.user) { user.append(el("option", { value: wanted.user, text: wanted.user })); user.value = wanted.user; }

  const fill = (select, values, label, counts) => {
    const keep = select.value || wanted[select.name];
    clear(select).append(select.name === "kind" ? el("option", { value: "", text: "every kind" }) : el("option", { value: "", text: "everyone" }),
      ...values.map((v) => el("option", { value: v, text: counts ? `${label(v)} (${fmtNum(counts[v])})` : label(v) })));
    if (keep && !values.includes(keep)) select.append(el("option", { value: keep, text: label(keep) }));
    select.value = keep || "";
  };
  const scope = () => {
    const s = form.elements.since.value; const u = form.elements.until.value;
    exportScope.textContent = s || u ? `entries from ${s ? fmtDate(s) : "the start"} to ${u ? fmtDate(u) : "today"}` : "the whole log";
  };

  // --- One entry: a one-line summary, opened to its payload -----------------------------------------------------
  const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;
  const ISO_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/;
  function scalar(v) {
    if (v === null || v === undefined) return "–";
    if (typeof v === "boolean") return v ? "yes" : "no";
    if (typeof v === "number") return fmtNum(v, 4);
    const s = String(v);
    if (ISO_DAY.test(s)) return fmtDate(s);
    if (ISO_TIME.test(s)) return fmtDateTime(s);
    return s;
  }
  function value(v, depth) {
    if (Array.isArray(v)) {
      if (!v.length) return el("span", { class: "muted", text: "none" });
      if (v.every((x) => x === null || typeof x !== "object")) return v.map(scalar).join(", ");
      const shown = v.slice(0, 20);
      return el("ol", { class: "kv-list" }, ...shown.map((x) => el("li", {}, value(x, depth + 1))),
        v.length > shown.length ? el("li", { class: "muted", text: `… ${fmtNum(v.length - shown.length)} more` }) : null);
    }
    if (v && typeof v === "object") {
      if (depth >= 3) return el("code", { text: JSON.stringify(v) });
      return kv(v, depth + 1);
    }
    const s = scalar(v);
    return s.length > 160 ? el("pre", { class: "kv-long", text: s }) : s;
  }
  function kv(obj, depth = 0) {
    const keys = Object.keys(obj);
    if (!keys.length) return el("span", { class: "muted", text: "–" });
    return el("dl", { class: "facts kv" }, ...keys.flatMap((k) => [el("dt", { text: k.replace(/_/g, " ") }), el("dd", {}, value(obj[k], depth))]));
  }
  // Drafts carry their prompts, sources and model calls: the key/value view shows what identifies them, the draft
  // record page shows the rest.
  function draftFacts(p) {
    const pick = (o, keys) => Object.fromEntries(keys.filter((k) => o && o[k] !== undefined).map((k) => [k, o[k]]));
    return { kind: p.kind, subject: p.subject, model: pick(p.model || {}, ["backend", "name", "sha256"]),
             prompt: pick(p.prompt || {}, ["name", "version", "sha256"]), sent_to_model: p.sent_to_model,
             check: pick(p.check || {}, ["checked", "passed", "repaired", "dropped"]), sources: (p.sources || []).length,
             model_tasks: (p.calls || []).length };
  }
  function summary(e) {
    const p = e.payload || {};
    const opp = p.opportunity_id || (p.subject || {}).opportunity_id;
    switch (e.kind) {
      case "draft": {
        const c = p.check || {};
        return `${p.kind || ""} · ${opp || (p.subject || {}).serial || ""} · check ${fmtNum(c.passed)}/${fmtNum(c.checked)} passed`;
      }
      case "draft_review": return `draft ${p.draft}${p.note ? ` — “${p.note}”` : ""}`;
      case "status": return `${opp} → ${p.status}${p.note ? ` — ${p.note}` : ""}`;
      case "outcome": return `${opp}: ${String(p.result || "").replace(/_/g, " ")}${p.value ? " · " + SDI.money(p.value, p.currency) : ""}`;
      case "lead": return `${p.serial || ""}: ${p.observed || ""}`;
      case "handoff": return `${opp}`;
      case "user_add": return `${p.name} (${String(p.role || "").replace("_", " ")})`;
      case "user_remove": return `${p.name}`;
      case "audit_verify": return p.ok ? `intact, ${fmtNum(p.entries)} entries` : `broken at ${p.first_bad}`;
      case "audit_export": return `${fmtNum(p.entries)} entries`;
      default: {
        const flat = Object.entries(p).filter(([, v]) => v === null || typeof v !== "object").slice(0, 3);
        return flat.map(([k, v]) => `${k.replace(/_/g, " ")}: ${scalar(v)}`).join(" · ");
      }
    }
  }
  function entry(e) {
    const p = e.payload || {};
    const body = el("div", { class: "entry-body" });
    const item = el("details", { class: `audit-entry kind-${e.kind}`, "data-id": e.id, "data-kind": e.kind },
      el("summary", {},
        el("span", { class: "entry-when", text: fmtDateTime(e.ts) }),
        el("span", { class: "badge entry-kind", text: kindLabel(e.kind) }),
        el("span", { class: "entry-user", text: e.user || "system" }),
        el("span", { class: "entry-what", text: summary(e) }),
        el("span", { class: "entry-id muted", text: e.id })),
      body);
    item.addEventListener("toggle", () => {
      if (!item.open || body.firstChild) return;
      body.append(...[
        e.kind === "draft" ? el("p", {}, el("a", { class: "draft-link", href: `draft.html?id=${encodeURIComponent(e.id)}`, text: "Open the draft record →" })) : null,
        e.kind === "draft_review" && p.draft ? el("p", {}, el("a", { class: "draft-link", href: `draft.html?id=${encodeURIComponent(p.draft)}`, text: `Open draft ${p.draft} →` })) : null,
        kv(e.kind === "draft" ? draftFacts(p) : p),
        el("p", { class: "muted chain", text: `entry ${fmtNum(e.seq)} · hash ${String(e.hash).slice(0, 16)}… · previous ${String(e.prev || "").slice(0, 16)}…` }),
        el("details", { class: "raw" }, el("summary", { text: "Raw JSON" }), el("pre", { text: JSON.stringify(e, null, 2) }))].filter(Boolean));
    });
    return item;
  }

  function pager(total) {
    if (total <= PAGE) return null;
    const go = (to) => { offset = Math.max(0, to); load(); };
    return el("nav", { class: "pager", "aria-label": "pages" },
      el("button", { type: "button", class: "secondary", text: "← Newer", disabled: offset === 0, onclick: () => go(offset - PAGE) }),
      el("span", { class: "muted", text: `${fmtNum(offset + 1)}–${fmtNum(Math.min(offset + PAGE, total))} of ${fmtNum(total)}` }),
      el("button", { type: "button", class: "secondary", text: "Older →", disabled: offset + PAGE >= total, onclick: () => go(offset + PAGE) }));
  }

  async function load() {
    list.setAttribute("aria-busy", "true");
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(form).entries()) if (v) q.set(k, String(v).trim());
    if (offset) q.set("offset", String(offset));
    history.replaceState(null, "", `?${q}`);
    q.set("limit", String(PAGE));
    scope();
    try {
      const page = await api(`/api/audit?${q}`);
      fill(kind, Object.keys(page.kinds), kindLabel, page.kinds);
      fill(user, page.users, (u) => u);
      clear(list).append(el("p", { class: "muted", id: "audit-count", text: `${fmtNum(page.total)} ${page.total === 1 ? "entry" : "entries"}, newest first` }));
      if (!page.items.length) list.append(el("p", { class: "empty", text: "No audit entry matches these filters." }));
      else list.append(el("div", { id: "audit-entries" }, ...page.items.map(entry)));
      const more = pager(page.total);
      if (more) list.append(more);
    } catch (err) { clear(list); SDI.showError(list, err); }
    list.setAttribute("aria-busy", "false");
  }
  form.addEventListener("submit", (ev) => { ev.preventDefault(); offset = 0; load(); });
  $("#clear-filters").addEventListener("click", () => { form.reset(); kind.value = ""; user.value = ""; wanted.kind = ""; wanted.user = ""; offset = 0; load(); });
  kind.addEventListener("change", () => { offset = 0; load(); });
  user.addEventListener("change", () => { offset = 0; load(); });
  load();
})();
