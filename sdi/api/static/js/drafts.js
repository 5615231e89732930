// Compliance home: drafts to review (not yet reviewed, newest first), with filters and a "Mark reviewed" action.
"use strict";
(async () => {
  const { el, $, clear, api, param, fmtNum, fmtDateTime } = SDI;
  await SDI.boot();
  const KIND = { why: "Why now", ask: "Follow-up answer", brief: "Technician briefing", talking_points: "Talking points" };
  const REVIEW = { no: "Not yet reviewed", yes: "Reviewed", all: "All drafts" };
  const PAGE = 50;
  const content = clear($("#content"));
  const input = (name, attrs) => { const n = el("input", { name, ...attrs }); n.value = param(name) || ""; return n; };
  const choice = (name, values, labels, empty) => {
    const n = el("select", { name }, empty ? el("option", { value: "", text: empty }) : null,
      ...values.map((v) => el("option", { value: v, text: (labels && labels[v]) || v })));
    n.value = param(name) || (empty ? "" : values[0]);
    return n;
  };
  const review = choice("reviewed", ["no", "yes", "all"], REVIEW);
  const form = el("form", { class: "filters", id: "draft-filters" },
    el("label", {}, "Review", review),
    el("label", {}, "Kind", choice("kind", Object.keys(KIND), KIND, "any")),
    el("label", {}, "Opportunity", input("opportunity_id", { size: 16 })),
    el("label", {}, "Serial", input("serial", { size: 14 })),
    el("label", {}, "Drafted by", input("user", { size: 14 })),
    el("label", {}, "Check", choice("check", ["clean", "flagged"], { clean: "clean", flagged: "sentences replaced or dropped" }, "any")),
    el("label", {}, "Since", input("since", { type: "date" })),
    el("label", {}, "Until", input("until", { type: "date" })),
    el("label", {}, "Text", input("q", { type: "search", size: 14 })),
    el("button", { type: "submit", class: "secondary", text: "Filter" }));
  const said = el("p", { id: "review-status", class: "muted", role: "status", "aria-live": "polite" });
  const list = el("div");
  content.append(form, said, list);
  let offset = Number(param("offset")) || 0;
  let total = 0;

  const countText = (n) => {
    const what = review.value === "no" ? "not yet reviewed" : review.value === "yes" ? "reviewed" : "in all";
    return `${fmtNum(n)} ${n === 1 ? "draft" : "drafts"} ${what}`;
  };
  const checkText = (c) => `${fmtNum(c.passed)}/${fmtNum(c.checked)} passed · ${fmtNum(c.repaired)} replaced · ${fmtNum(c.dropped)} dropped`;
  const reviewedText = (r) => `Reviewed by ${r.by || "?"}, ${fmtDateTime(r.at)}${r.note ? ` — “${r.note}”` : ""}`;

  async function markReviewed(d, row, button) {
    button.disabled = true;
    try {
      const out = await api(`/api/drafts/${encodeURIComponent(d.audit_id)}/review`, { method: "POST", body: {} });
      said.textContent = `Draft ${d.audit_id} marked reviewed (audit entry ${out.audit_id}).`;
      if (review.value === "no") {
        row.remove();
        total -= 1;
        $("#drafts-count").textContent = countText(total);
      } else {
        clear(button.parentNode).append(el("span", { class: "reviewed", text: reviewedText(out.reviews[out.reviews.length - 1]) }));
      }
    } catch (err) { button.disabled = false; SDI.showError(said, err); }
  }

  function row(d) {
    const cell = (label, attrs, ...kids) => el("td", { "data-label": label, ...attrs }, ...kids);
    const last = d.reviews && d.reviews.length ? d.reviews[d.reviews.length - 1] : null;
    const tr = el("tr", { "data-audit-id": d.audit_id });
    const action = last ? el("span", { class: "reviewed", text: reviewedText(last) })
      : el("button", { type: "button", class: "secondary mark-reviewed", text: "Mark reviewed", "aria-label": `Mark reviewed: draft ${d.audit_id}` });
    if (!last) action.addEventListener("click", () => markReviewed(d, tr, action));
    tr.append(
      cell("Drafted", {}, el("a", { href: `draft.html?id=${encodeURIComponent(d.audit_id)}`, class: "draft-link", text: d.audit_id }),
        el("div", { class: "muted when", text: fmtDateTime(d.ts) })),
      cell("Kind", { text: KIND[d.kind] || d.kind || "" }),
      cell("Opportunity / machine", {}, d.opportunity_id ? el("a", { href: `opportunity.html?id=${encodeURIComponent(d.opportunity_id)}`, text: d.opportunity_id }) : "",
        el("div", { class: "muted", text: d.serial || "" })),
      cell("Drafted by", { text: d.user || "" }),
      cell("Model · prompt", { class: "hide-narrow", text: `${d.model.name || ""} · ${d.prompt.name || ""} v${d.prompt.version || ""}` }),
      cell("Citation check", { class: d.flagged ? "note check" : "check", text: checkText(d.check) }),
      cell("Review", { class: "review" }, action));
    return tr;
  }

  function pager() {
    if (total <= PAGE) return null;
    const go = (to) => { offset = Math.max(0, to); load(); };
    return el("div", { class: "pager" },
      el("button", { type: "button", class: "secondary", text: "← Newer", disabled: offset === 0, onclick: () => go(offset - PAGE) }),
      el("span", { class: "muted", text: `${fmtNum(offset + 1)}–${fmtNum(Math.min(offset + PAGE, total))} of ${fmtNum(total)}` }),
      el("button", { type: "button", class: "secondary", text: "Older →", disabled: offset + PAGE >= total, onclick: () => go(offset + PAGE) }));
  }

  async function load() {
    clear(list);
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(form).entries()) if (v) q.set(k, v);
    if (offset) q.set("offset", String(offset));
    history.replaceState(null, "", `?${q}`);
    q.set("limit", String(PAGE));
    try {
      const page = await api(`/api/drafts?${q}`);
      total = page.total;
      list.append(el("p", { class: "muted", id: "drafts-count", text: countText(total) }));
      if (!page.items.length) {
        list.append(el("p", { class: "empty", text: review.value === "no" ? "Nothing left to review." : "No draft matches these filters." }));
        return;
      }
      list.append(el("div", { class: "table-wrap" }, el("table", { id: "drafts", class: "cards-narrow" }, el("thead", {}, el("tr", {},
        ...["Draft", "Kind", "Opportunity / machine", "Drafted by", "Model · prompt", "Citation check", "Review"]
          .map((h, i) => el("th", { text: h, class: i === 4 ? "hide-narrow" : null })))),
        el("tbody", {}, ...page.items.map(row)))));
      const more = pager();
      if (more) list.append(more);
    } catch (err) { SDI.showError(list, err); }
  }
  form.addEventListener("submit", (e) => { e.preventDefault(); offset = 0; said.textContent = ""; load(); });
  review.addEventListener("change", () => { offset = 0; load(); });
  load();
})();
