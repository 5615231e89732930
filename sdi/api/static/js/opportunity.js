// Opportunity page: facts, triggers (rule, threshold, value, evidence), actions and outcome, hand-off to the CRM,
// the "why" chat, and customer talking points (copy, mailto).
"use strict";

/** Stream a draft into a bubble: sentences as they pass the check (templates first), then the cited draft. */
async function streamDraft(path, body, bubble, ctx, onDraft) {
  const status = SDI.el("p", { class: "muted", text: "Queued…" });
  bubble.append(status);
  try {
    await SDI.stream(path, body, {
      queued: (d) => { status.textContent = d.running ? "Waiting for the model…" : "Drafting…"; },
      sentence: (s) => { status.textContent = "Drafting…"; bubble.insertBefore(DraftView.sentenceEl(s, null), status); },
      draft: (d) => {
        DraftView.render(d, bubble, ctx);
        bubble.setAttribute("data-audit-id", d.audit_id || "");
        onDraft(d);
      },
      error: (e) => { status.remove(); SDI.showError(bubble, new SDI.ApiError(e.status, e.detail, e.hint, e.retry_after)); },
    });
  } catch (err) { status.remove(); SDI.showError(bubble, err); }
}

// "Send to CRM": marks the opportunity handed off; the server logs an event the webhook deliverer sends.
const Handoff = (() => {
  const { el, clear, api } = SDI;
  const NO_ENDPOINT = "recorded; no CRM endpoint configured — an admin sets SDI_WEBHOOK_URL";
  const when = (at) => (at ? SDI.fmtDateTime(at) : "?");

  /** The page's one line about the hand-off (and, honestly, when no endpoint received it). */
  function line(h) {
    return `Handed off to the CRM by ${h.by} on ${when(h.at)}` + (h.endpoints ? "." : ` — ${NO_ENDPOINT}.`);
  }

  function box(opp) {
    const shown = el("p", { id: "handoff", class: opp.handoff ? "ok" : "muted",
                            text: opp.handoff ? line(opp.handoff) : "Not handed off to the CRM yet." });
    const btn = el("button", { type: "button", class: "secondary", id: "handoff-btn", text: "Send to CRM", hidden: !!opp.handoff });
    const msg = el("div");
    const show = (h) => { shown.className = "ok"; shown.textContent = line(h); btn.hidden = true; };
    btn.addEventListener("click", async () => {
      btn.disabled = true; clear(msg);
      const path = `/api/opportunities/${encodeURIComponent(opp.id)}`;
      try {
        show((await api(`${path}/handoff`, { method: "POST" })).handoff);
      } catch (err) {
        if (err.status === 409) { show((await api(path)).handoff); return; }  // someone else was quicker
        SDI.showError(msg, err);
        btn.disabled = false;
      }
    });
    return el("div", { class: "handoff", id: "handoff-box" }, el("h3", { text: "CRM" }), shown, btn, msg);
  }

  return { box, line };
})();

// Talking points for the customer: drafted like the other drafts, then copied as plain text or opened as an e-mail.
const TalkingPoints = (() => {
  const { el, clear, api } = SDI;
  const MAILTO_MAX = 1800;  // some mail programs cut longer mailto: URLs

  /** A sentence as the customer reads it: [T1]/[H2] mean nothing outside SDI (the audited draft keeps them). */
  function plain(text) {
    return text.replace(/\s*\[[TH]\d+\]/g, "").replace(/\s+([.,;:!?])/g, "$1").replace(/\s{2,}/g, " ").trim();
  }
  const points = (draft) => draft.sentences.map((s) => plain(s.text)).filter(Boolean);
  const bullets = (lines) => lines.map((p) => `- ${p}`);

  function subject(opp) {
    const offer = (opp.offers || [])[0];
    return `Your ${opp.model || "machine"} ${opp.serial}: ${offer ? offer.name : "service follow-up"}`;
  }

  /** mailto: URL with address, subject and body; points are dropped from the end, with a note, until it fits. */
  function mailto(address, subj, greeting, lines, signoff) {
    const href = (body) => `mailto:${encodeURIComponent(address || "").replace(/%40/g, "@")}` +
      `?subject=${encodeURIComponent(subj)}&body=${encodeURIComponent(body.join("\r\n"))}`;
    for (let n = lines.length; n >= 0; n -= 1) {
      const cut = lines.length - n;
      const note = cut ? [`[${cut} more point(s) cut to fit an e-mail link: paste the full text with Copy in SDI]`] : [];
      const url = href([greeting, "", ...bullets(lines.slice(0, n)), ...note, "", ...signoff]);
      if (url.length <= MAILTO_MAX) return { url, cut };
    }
    return { url: href([]), cut: lines.length };
  }

  /** The customer's contact (name, e-mail, phone) from the machine file; empty when not on file or not visible. */
  async function contact(serial) {
    try {
      const c = (await api(`/api/machines/${encodeURIComponent(serial)}`)).customer || {};
      return { name: c.contact_name || "", email: c.contact_email || "", phone: c.contact_phone || "" };
    } catch (err) { return { name: "", email: "", phone: "" }; }
  }

  function card(opp, me) {
    const channel = el("select", { name: "channel", id: "tp-channel" },
      el("option", { value: "email", text: "E-mail" }), el("option", { value: "call", text: "Call" }));
    const draftBtn = el("button", { type: "submit", class: "primary", id: "tp-draft", text: "Draft talking points" });
    const form = el("form", { class: "row", id: "tp-form" }, el("label", {}, "Channel", channel), draftBtn);
    const out = el("div", { class: "bubble answer", id: "tp-out", hidden: true });
    const tools = el("div", { class: "row tp-tools", id: "tp-tools", hidden: true });
    const said = el("p", { id: "tp-said", role: "status", "aria-live": "polite", hidden: true });
    const area = el("textarea", { id: "tp-text", readonly: true, rows: 6, hidden: true, "aria-label": "talking points as plain text" });
    const say = (text, cls) => { said.className = cls; said.textContent = text; said.hidden = false; };

    async function copyOut(text) {
      if (window.isSecureContext && navigator.clipboard && navigator.clipboard.writeText) {
        try {
          await navigator.clipboard.writeText(text);
          area.hidden = true;
          say("Copied to the clipboard (plain text, without the [T]/[H] source markers).", "ok");
          return;
        } catch (err) { /* permission refused: select the text instead */ }
      }
      area.value = text; area.hidden = false; area.focus(); area.select();
      let copied = false;
      try { copied = document.execCommand("copy"); } catch (err) { copied = false; }
      say(copied ? "Copied (the text is also selected below)."
        : "This page may not use the clipboard (plain http on a LAN is not a secure context): the text is selected below — press Ctrl+C (⌘C on a Mac).",
      copied ? "ok" : "note");
    }

    async function showTools(draft, ch) {
      clear(tools);
      const lines = points(draft);
      tools.append(el("button", { type: "button", class: "secondary", id: "tp-copy", text: "Copy text",
                                  onclick: () => copyOut(bullets(lines).join("\n")) }));
      const c = await contact(opp.serial);
      if (ch === "email") {
        const m = mailto(c.email, subject(opp), c.name ? `Dear ${c.name},` : "Hello,", lines, ["Kind regards,", me.name]);
        tools.append(el("a", { class: "button secondary", id: "tp-mailto", href: m.url, text: "Open in e-mail" }));
        if (!c.email) say("No contact e-mail on file for this customer: the e-mail opens without an address.", "note");
        else if (m.cut) say(`The e-mail link carries ${lines.length - m.cut} of ${lines.length} points (mail programs cut long links); Copy has them all.`, "note");
      } else if (c.phone) {
        tools.append(el("a", { class: "button secondary", id: "tp-call", href: `tel:${c.phone.replace(/[^\d+]/g, "")}`, text: `Call ${c.name || c.phone}` }));
      }
      tools.hidden = false;
    }

    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const ch = channel.value;
      draftBtn.disabled = true; tools.hidden = true; area.hidden = true; said.hidden = true;
      clear(out).hidden = false;
      let done = null;
      await streamDraft(`/api/opportunities/${encodeURIComponent(opp.id)}/talking-points/stream`, { channel: ch }, out,
        { triggers: opp.triggers }, (d) => { done = d; });
      if (done) await showTools(done, ch);
      draftBtn.disabled = false;
    });
    return el("section", { class: "card no-print", id: "talking-points" }, el("h2", { text: "Talking points" }),
      el("p", { class: "muted", text: "For the customer, by e-mail or on a call: explain and offer help, never push. Each point cites its source here; Copy and the e-mail give plain text without the markers." }),
      form, out, tools, said, area);
  }

  return { card, plain, mailto };
})();

(async () => {
  const { el, $, clear, api, badge, priorityBar, fmtCond, money, param, fmtDate, fmtDateTime, fmtNum } = SDI;
  const me = await SDI.boot();
  const content = clear($("#content"));
  const id = param("id");
  let opp;
  try { opp = await api(`/api/opportunities/${encodeURIComponent(id || "")}`); } catch (err) { SDI.showError(content, err); return; }
  $("#title").textContent = `${opp.campaign} · ${opp.serial}`;
  document.title = `${opp.id} · SDI`;
  const canDraft = ["sales_rep", "technician", "admin"].includes(me.role);
  // Who may act (status, outcome, hand-off): as the server's policy — technicians only on what they own.
  const canAct = me.role !== "technician" || (opp.owner_role === "technician" && opp.owner === me.name);

  const facts = el("dl", { class: "facts" });
  const fact = (k, v) => { if (v !== null && v !== undefined && v !== "") facts.append(el("dt", { text: k }), el("dd", {}, v)); };
  fact("Opportunity", opp.id);
  fact("Priority", el("div", { id: "priority" }, priorityBar(opp.priority, opp.priority_explained, true)));
  fact("Machine", el("a", { href: `machine.html?serial=${encodeURIComponent(opp.serial)}`, text: `${opp.serial} (${opp.model || "?"})` }));
  fact("Customer", opp.customer);
  fact("Territory", opp.territory);
  fact("Owner", el("div", { id: "owner" }, `${opp.owner} (${(opp.owner_role || "").replace("_", " ")})`,
    opp.routing ? el("p", { class: "routing muted", id: "routing", text: fmtCond(opp.routing.sentence) }) : null));
  fact("Channel", (opp.channel || "").replace("_", " "));
  fact("Status", el("span", { id: "status", text: opp.status.replace("_", " ") }));
  fact("First seen", fmtDate(opp.first_seen));
  if (opp.last_seen && opp.last_seen !== opp.first_seen) fact("Last seen", fmtDate(opp.last_seen));
  fact("Linked", (opp.linked_campaigns || []).join(", "));
  if (opp.handoff && me.role === "compliance") fact("CRM", Handoff.line(opp.handoff));
  const head = el("section", { class: "card" }, el("div", {}, ...(opp.rules || []).map(badge)), facts);

  const triggers = el("section", { class: "card", id: "triggers" }, el("h2", { text: "Triggers" }));
  for (const t of opp.triggers || []) {
    const ids = (t.evidence && t.evidence.source_ids) || [];
    const conds = (t.conditions || [t.condition]).filter(Boolean);
    triggers.append(el("div", { class: "trigger", "data-rule": t.rule_id },
      el("h3", {}, badge(t.rule_id), ` ${t.campaign}`),
      el("ul", { class: "conditions" }, ...conds.map((c) => el("li", { class: "condition", title: fmtCond(c, true), text: fmtCond(c) }))),
      el("p", { class: "muted small", text: `as of ${fmtDate(t.as_of)} · ${fmtNum(ids.length)} evidence record(s)` }),
      el("details", { class: "rule-raw" }, el("summary", { text: "Rule details" }),
        ...conds.map((c) => el("code", { text: fmtCond(c, true) })),
        el("p", { text: `rule ${t.rule_id} v${t.rule_version} · evidence: ${ids.slice(0, 6).join(", ")}${ids.length > 6 ? " …" : ""}` }))));
  }
  if ((opp.offers || []).length) {
    triggers.append(el("h3", { text: "Fitting offers" }), el("ul", {}, ...opp.offers.map((o) =>
      el("li", { text: `${o.name} — ${money(o.price, o.currency)} (${o.offer_id})` }))));
  }
  if (opp.lead) {
    const l = opp.lead;
    triggers.append(el("h3", { text: `Lead ${l.id} from ${l.reporter}` }),
      el("p", { text: `Observed: ${l.observed}` }), l.customer_wants ? el("p", { text: `Customer wants: ${l.customer_wants}` }) : null,
      el("p", { class: "muted", text: `reported ${fmtDateTime(l.reported_at)}` + (l.first_action_at ? ` · first action ${l.first_action} after ${fmtNum(l.hours_to_first_action, 1)} h` : " · no action yet") }));
  }

  const left = el("div", {}, head, triggers);
  if (me.role !== "compliance") left.append(actions());
  const right = el("div", {});
  if (canDraft) right.append(chat(), TalkingPoints.card(opp, me));
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
    const past = (opp.outcomes || []).map((o) => el("li", { text: `${fmtDateTime(o.recorded_at)}: ${o.result.replace(/_/g, " ")}${o.value != null ? `, ${money(o.value, o.currency)}` : ""}${o.discount_pct != null ? `, ${fmtNum(o.discount_pct, 1)} % discount` : ""}${o.partner ? `, partner ${o.partner}` : ""}${o.reason ? ` — ${o.reason}` : ""} (${o.recorded_by})` }));
    return el("section", { class: "card no-print" }, el("h2", { text: "Work on it" }), statusForm, outcomeForm,
      past.length ? el("ul", {}, ...past) : null, canAct ? Handoff.box(opp) : null, msg);
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
      transcript.append(bubble);
      busy(true);
      await streamDraft(path, body, bubble, { triggers: opp.triggers }, (d) => {
        if (d.subject && d.subject.conversation_id) conversationId = d.subject.conversation_id;
      });
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
