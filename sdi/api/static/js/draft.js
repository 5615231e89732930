// Compliance: one draft's record — prompt version, model, sources (with their hashes), check result, output, chain.
"use strict";
(async () => {
  const { el, $, clear, api, param, fmtDateTime, fmtNum } = SDI;
  await SDI.boot();
  const content = clear($("#content"));
  let data;
  try { data = await api(`/api/drafts/${encodeURIComponent(param("id") || "")}`); } catch (err) { SDI.showError(content, err); return; }
  const e = data.entry; const p = e.payload; const s = data.summary;
  $("#title").textContent = `Draft ${e.id} · ${p.kind}`;
  const dl = (pairs) => el("dl", { class: "facts" }, ...pairs.filter(([, v]) => v !== null && v !== undefined && v !== "")
    .flatMap(([k, v]) => [el("dt", { text: k }), el("dd", {}, v)]));
  const subject = p.subject || {};
  const head = el("section", { class: "card", id: "draft-head" }, dl([
    ["Created", fmtDateTime(e.ts)], ["Drafted by", e.user], ["Kind", p.kind],
    ["Opportunity", subject.opportunity_id ? el("a", { href: `opportunity.html?id=${encodeURIComponent(subject.opportunity_id)}`, text: subject.opportunity_id }) : null],
    ["Machine", subject.serial], ["Question", subject.question],
    ["Model", `${(p.model || {}).backend || ""} · ${(p.model || {}).name || ""}${(p.model || {}).sha256 ? " · sha256 " + p.model.sha256.slice(0, 12) + "…" : ""}`],
    ["Prompt", el("span", { id: "prompt-version", text: `${(p.prompt || {}).name} v${(p.prompt || {}).version} · sha256 ${String((p.prompt || {}).sha256 || "").slice(0, 12)}…` })],
    ["Sent to model", p.sent_to_model ? "yes" : "no"],
    ["Citation check", el("span", { id: "check", text: `${fmtNum(s.check.passed)}/${fmtNum(s.check.checked)} model sentences passed, ${fmtNum(s.check.repaired)} replaced by template text, ${fmtNum(s.check.dropped)} dropped` })],
    ["Chain", `seq ${fmtNum(e.seq)} · hash ${e.hash.slice(0, 16)}… · prev ${e.prev.slice(0, 16)}…`],
  ]));
  const output = p.output || {};
  const out = el("div");
  DraftView.render({ ...output, sources: p.sources, audit_id: e.id, model: p.model, prompt: p.prompt, check: p.check }, out, { sections: p.kind === "brief" });
  const failures = ((p.check || {}).failures || []).map((f) => el("li", {}, el("q", { text: f.text }), ` — ${f.reason}`));
  const sources = el("section", { class: "card", id: "sources" }, el("h2", { text: `Sources (${(p.sources || []).length})` }),
    ...(p.sources || []).map((src) => el("div", { class: "source", "data-ref": src.id },
      el("h3", {}, `${src.id} `, el("code", { text: src.source_id }), src.scope === "similar" ? el("span", { class: "badge", text: "similar machine" }) : null),
      el("blockquote", { class: "source-text", text: src.text }),
      el("p", { class: "muted", text: `sha256 ${src.sha256 || ""}${src.span ? " · span " + src.span.join("–") : ""}` }))));
  const prompt = el("section", { class: "card" }, el("h2", { text: "Prompt as sent" }),
    el("pre", { id: "rendered-prompt", text: Array.isArray(p.rendered_prompt) ? p.rendered_prompt.map((m) => `--- ${m.role} ---\n${m.content}`).join("\n") : String(p.rendered_prompt || "") }),
    el("h3", { text: "Raw model output" }), el("pre", { text: p.raw_output || "(none)" }));
  // Every model task of the draft (one per record or fact), as sent and as answered, with the check's verdict.
  const verdict = (c) => !c.sent ? "not sent" : !c.verdict ? "no reply" : c.verdict.ok ? "passed" : `refused: ${c.verdict.reason}`;
  const calls = (p.calls || []).map((c, i) => el("details", { class: "task", "data-ref": c.ref || "" },
    el("summary", { text: `${i + 1}. ${(c.prompt || {}).name} v${(c.prompt || {}).version} on ${c.ref} — ${verdict(c)}` }),
    el("pre", { class: "task-prompt", text: (c.messages || []).map((m) => `--- ${m.role} ---\n${m.content}`).join("\n") }),
    el("h4", { text: "Reply" }), el("pre", { class: "task-reply", text: c.raw || "(none)" })));
  const tasks = el("section", { class: "card", id: "tasks" }, el("h2", { text: `Model tasks (${calls.length})` }),
    calls.length ? el("div", {}, ...calls) : el("p", { class: "muted", text: "No model task in this draft." }));
  // Review: each mark is its own audit entry naming this draft and its hash; the draft's entry is never edited.
  const marks = el("ul", { class: "reviews" });
  const showMarks = (list) => {
    clear(marks).append(...list.map((r) => el("li", {}, `Reviewed by ${r.by || "?"}, ${fmtDateTime(r.at)}`,
      r.note ? el("q", { text: r.note }) : null, el("span", { class: "muted", text: ` · audit ${r.audit_id}` }))));
    if (!list.length) marks.append(el("li", { class: "muted", text: "Not yet reviewed." }));
  };
  showMarks(s.reviews || []);
  const note = el("textarea", { id: "review-note", name: "note", maxlength: "2000", "aria-label": "Review note (optional)", placeholder: "Note (optional)" });
  const reviewForm = el("form", { id: "review-form" }, el("label", {}, "Note (optional)", note),
    el("button", { type: "submit", class: "primary", text: "Mark reviewed" }));
  const reviewSaid = el("p", { role: "status", class: "muted" });
  reviewForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const button = reviewForm.querySelector("button");
    button.disabled = true;
    try {
      const out = await api(`/api/drafts/${encodeURIComponent(e.id)}/review`, { method: "POST", body: note.value.trim() ? { note: note.value.trim() } : {} });
      showMarks(out.reviews);
      note.value = "";
      reviewSaid.textContent = `Recorded as audit entry ${out.audit_id}.`;
    } catch (err) { SDI.showError(reviewSaid, err); }
    button.disabled = false;
  });
  const reviewCard = el("section", { class: "card", id: "review" }, el("h2", { text: "Review" }), marks, reviewForm, reviewSaid);
  content.append(head, reviewCard, el("section", { class: "card", id: "output" }, el("h2", { text: "Draft as shown" }), out,
    failures.length ? el("div", {}, el("h3", { text: "Rejected model sentences" }), el("ul", {}, ...failures)) : null), sources, tasks, prompt);
})();
