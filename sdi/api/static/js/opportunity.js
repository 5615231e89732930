// Opportunity page: facts, triggers (rule, threshold, value, evidence), actions and outcome, and the "why" chat.
"use strict";
(async () => {
  const { el, $, clear, api, badge, priorityBar, fmtCond, money, param } = SDI;
  const me = await SDI.boot();
  const content = clear($("#content"));
  const id = param("id");
  let opp;
  try { opp = await api(`/api/opportunities/${encodeURIComponent(id || "")}`); } catch (err) { SDI.showError(content, err); return; }
  $("#title").textContent = `${opp.campaign} · ${opp.serial}`;
  document.title = `${opp.id} · SDI`;
  const canDraft = ["sales_rep", "technician", "admin"].includes(me.role);

  const facts = el("dl", { class: "facts" });
  const fact = (k, v) => { if (v !== null && v !== undefined && v !== "") facts.append(el("dt", { text: k }), el("dd", {}, v)); };
  fact("Opportunity", opp.id);
  fact("Priority", priorityBar(opp.priority));
  fact("Machine", el("a", { href: `machine.html?serial=${encodeURIComponent(opp.serial)}`, text: `${opp.serial} (${opp.model || "?"})` }));
  fact("Customer", opp.customer);
  fact("Territory", opp.territory);
  fact("Owner", `${opp.owner} (${(opp.owner_role || "").replace("_", " ")})`);
  fact("Channel", (opp.channel || "").replace("_", " "));
  fact("Status", el("span", { id: "status", text: opp.status.replace("_", " ") }));
  fact("First seen", opp.first_seen);
  fact("Linked", (opp.linked_campaigns || []).join(", "));
  const head = el("section", { class: "card" }, el("div", {}, ...(opp.rules || []).map(badge)), facts);

  const triggers = el("section", { class: "card", id: "triggers" }, el("h2", { text: "Triggers" }));
  for (const t of opp.triggers || []) {
    const ids = (t.evidence && t.evidence.source_ids) || [];
    triggers.append(el("div", { class: "trigger", "data-rule": t.rule_id },
      el("h3", {}, badge(t.rule_id), ` ${t.campaign}`),
      el("ul", {}, ...(t.conditions || [t.condition]).map((c) => el("li", {}, el("code", { text: fmtCond(c) })))),
      el("p", { class: "muted", text: `rule ${t.rule_id} v${t.rule_version} · as of ${t.as_of} · ${ids.length} evidence record(s): ${ids.slice(0, 6).join(", ")}${ids.length > 6 ? " …" : ""}` })));
  }
  if ((opp.offers || []).length) {
    triggers.append(el("h3", { text: "Fitting offers" }), el("ul", {}, ...opp.offers.map((o) =>
      el("li", { text: `${o.name} — ${money(o.price, o.currency)} (${o.offer_id})` }))));
  }
  if (opp.lead) {
    const l = opp.lead;
    triggers.append(el("h3", { text: `Lead ${l.id} from ${l.reporter}` }),
      el("p", { text: `Observed: ${l.observed}` }), l.customer_wants ? el("p", { text: `Customer wants: ${l.customer_wants}` }) : null,
      el("p", { class: "muted", text: `reported ${l.reported_at}` + (l.first_action_at ? ` · first action ${l.first_action} after ${l.hours_to_first_action} h` : " · no action yet") }));
  }

  const left = el("div", {}, head, triggers);
  if (me.role !== "compliance") left.append(actions());
  const right = el("div", {});
  if (canDraft) right.append(chat());
  else right.append(el("section", { class: "card" }, el("h2", { text: "Drafts" }),
    el("a", { href: `drafts.html?opportunity_id=${encodeURIComponent(opp.id)}`, text: "Drafts for this opportunity" })));
  content.append(el("div", { class: "grid" }, left, right));

  function actions() {
    const msg = el("div");
    const status = el("select", { name: "status" }, ...["open", "in_progress", "dismissed"].map((s) => el("option", { value: s, text: s.replace("_", " ") })));
    status.value = ["open", "in_progress", "dismissed"].includes(opp.status) ? opp.status : "open";
    const statusForm = el("form", { class: "row", id: "status-form" }, el("label", {}, "Status", status),
      el("button", { type: "submit", class: "secondary", text: "Update" }));
    statusForm.addEventListener("submit", async (e) => {
      e.preventDefault(); clear(msg);
      try {
        const updated = await api(`/api/opportunities/${encodeURIComponent(opp.id)}/status`, { method: "POST", body: { status: status.value } });
        $("#status").textContent = updated.status.replace("_", " ");
        msg.append(el("p", { class: "ok", text: `Status set to ${updated.status.replace("_", " ")}.` }));
      } catch (err) { SDI.showError(msg, err); }
    });
    const result = el("select", { name: "result" }, ...[["won", "won"], ["lost", "lost"], ["lost_to_partner", "lost to a partner"]].map(([v, t]) => el("option", { value: v, text: t })));
    const value = el("input", { name: "value", type: "number", min: "0", step: "any", size: 8 });
    const discount = el("input", { name: "discount_pct", type: "number", min: "0", max: "100", step: "any", size: 5 });
    const partner = el("input", { name: "partner", type: "text", size: 16 });
    const reason = el("input", { name: "reason", type: "text", size: 28 });
    const outcomeForm = el("form", { class: "row", id: "outcome-form" }, el("label", {}, "Outcome", result),
      el("label", {}, "Value", value), el("label", {}, "Discount %", discount), el("label", {}, "Partner", partner),
      el("label", {}, "Reason", reason), el("button", { type: "submit", class: "secondary", text: "Record outcome" }));
    outcomeForm.addEventListener("submit", async (e) => {
      e.preventDefault(); clear(msg);
      const body = { result: result.value, reason: reason.value };
      if (value.value) body.value = Number(value.value);
      if (discount.value) body.discount_pct = Number(discount.value);
      if (partner.value) body.partner = partner.value;
      try {
        const out = await api(`/api/opportunities/${encodeURIComponent(opp.id)}/outcome`, { method: "POST", body });
        $("#status").textContent = out.result === "won" ? "won" : "lost";
        msg.append(el("p", { class: "ok", text: `Outcome recorded: ${out.result.replace(/_/g, " ")}.` }));
      } catch (err) { SDI.showError(msg, err); }
    });
    const past = (opp.outcomes || []).map((o) => el("li", { text: `${o.recorded_at}: ${o.result.replace(/_/g, " ")}${o.discount_pct != null ? `, ${o.discount_pct}% discount` : ""}${o.partner ? `, partner ${o.partner}` : ""}${o.reason ? ` — ${o.reason}` : ""} (${o.recorded_by})` }));
    return el("section", { class: "card no-print" }, el("h2", { text: "Work on it" }), statusForm, outcomeForm,
      past.length ? el("ul", {}, ...past) : null, msg);
  }

  function chat() {
    let conversationId = null;
    const transcript = el("div", { class: "chat", id: "chat" });
    const whyBtn = el("button", { type: "button", class: "primary", id: "why", text: "Why this opportunity?" });
    const question = el("input", { type: "text", id: "question", placeholder: "Ask a follow-up, e.g. what was repaired last?", maxlength: 500 });
    question.style.flex = "1";
    const askBtn = el("button", { type: "submit", class: "secondary", text: "Ask" });
    const askForm = el("form", { class: "row", id: "ask-form" }, question, askBtn);
    const askError = el("p", { class: "error", id: "ask-error", role: "alert", hidden: true });
    const busy = (on) => { whyBtn.disabled = on; askBtn.disabled = on; };

    async function run(path, body, asked) {
      if (asked) transcript.append(el("div", { class: "bubble question", text: asked }));
      const bubble = el("div", { class: "bubble answer" });
      const status = el("p", { class: "muted", text: "Queued…" });
      bubble.append(status);
      transcript.append(bubble);
      busy(true);
      try {
        await SDI.stream(path, body, {
          queued: (d) => { status.textContent = d.running ? "Waiting for the model…" : "Drafting…"; },
          sentence: (s) => { status.textContent = "Drafting…"; bubble.insertBefore(DraftView.sentenceEl(s, null), status); },
          draft: (d) => {
            DraftView.render(d, bubble, { triggers: opp.triggers });
            bubble.setAttribute("data-audit-id", d.audit_id || "");
            if (d.subject && d.subject.conversation_id) conversationId = d.subject.conversation_id;
          },
          error: (e) => { status.remove(); SDI.showError(bubble, new SDI.ApiError(e.status, e.detail, e.hint, e.retry_after)); },
        });
      } catch (err) { status.remove(); SDI.showError(bubble, err); }
      busy(false);
    }
    whyBtn.addEventListener("click", () => run(`/api/opportunities/${encodeURIComponent(opp.id)}/why/stream`, {}, null));
    askForm.addEventListener("submit", (e) => {
      e.preventDefault();
      const q = question.value.trim();
      askError.hidden = !!q;
      if (!q) { askError.textContent = "Type a question first, e.g. what was repaired last?"; question.focus(); return; }
      question.value = "";
      const body = { question: q };
      if (conversationId) body.conversation_id = conversationId;
      run(`/api/opportunities/${encodeURIComponent(opp.id)}/ask/stream`, body, q);
    });
    return el("section", { class: "card no-print" }, el("h2", { text: "Why — and questions" }),
      el("p", { class: "muted", text: "Every sentence cites its source; click a citation to see the exact text." }),
      whyBtn, transcript, askForm, askError);
  }
})();
