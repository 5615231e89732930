// Compliance: one draft's record — prompt version, model, sources (with their hashes), check result, output, chain.
"use strict";
(async () => {
  const { el, $, clear, api, param } = SDI;
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
    ["Created", e.ts], ["User", e.user], ["Kind", p.kind],
    ["Opportunity", subject.opportunity_id ? el("a", { href: `opportunity.html?id=${encodeURIComponent(subject.opportunity_id)}`, text: subject.opportunity_id }) : null],
    ["Machine", subject.serial], ["Question", subject.question],
    ["Model", `${(p.model || {}).backend || ""} · ${(p.model || {}).name || ""}${(p.model || {}).sha256 ? " · sha256 " + p.model.sha256.slice(0, 12) + "…" : ""}`],
    ["Prompt", el("span", { id: "prompt-version", text: `${(p.prompt || {}).name} v${(p.prompt || {}).version} · sha256 ${String((p.prompt || {}).sha256 || "").slice(0, 12)}…` })],
    ["Sent to model", String(p.sent_to_model)],
    ["Citation check", el("span", { id: "check", text: `${s.check.passed}/${s.check.checked} model sentences passed, ${s.check.repaired} replaced by template text, ${s.check.dropped} dropped` })],
    ["Chain", `seq ${e.seq} · hash ${e.hash.slice(0, 16)}… · prev ${e.prev.slice(0, 16)}…`],
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
  content.append(head, el("section", { class: "card", id: "output" }, el("h2", { text: "Draft as shown" }), out,
    failures.length ? el("div", {}, el("h3", { text: "Rejected model sentences" }), el("ul", {}, ...failures)) : null), sources, tasks, prompt);
})();
