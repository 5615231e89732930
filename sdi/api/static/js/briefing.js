// Technician pre-visit briefing: works on a phone and prints cleanly — talking points, sign-up sheet, lead form.
"use strict";
(async () => {
  const { el, $, clear, api, money, param } = SDI;
  const me = await SDI.boot();
  const content = clear($("#content"));
  const serial = param("serial") || "";
  $("#title").textContent = `Briefing · ${serial}`;
  const TITLES = { summary: "At a glance", triggers: "Why we look at it", history: "Recent history", findings: "What the records say", checks: "Check on site",
                   talking_points: "Talking points — advise and explain, never push" };
  const brief = el("section", { class: "card", id: "brief" }, el("p", { class: "muted", id: "brief-status", text: "Preparing the briefing…" }));
  const sheet = el("section", { class: "card", id: "signup" }, el("h2", { text: "Sign-up sheet" }),
    el("p", { class: "muted", text: "Standard fixed-price activities for this machine; the customer ticks what they want." }));
  const printBtn = el("button", { type: "button", class: "secondary no-print", text: "Print briefing and sign-up sheet" });
  printBtn.addEventListener("click", () => window.print());
  const leadCard = el("section", { class: "card no-print", id: "lead" });
  content.append(el("p", { class: "print-only", text: `Pre-visit briefing for ${serial} — printed ${new Date().toISOString().slice(0, 10)}` }),
    brief, sheet, el("p", {}, printBtn), leadCard);

  let draft = null;
  const offerSelect = el("select", { name: "offer_id" }, el("option", { value: "", text: "— none / not sure —" }));
  leadForm();

  try {
    await SDI.stream(`/api/briefings/${encodeURIComponent(serial)}/stream`, {}, {
      queued: (d) => { $("#brief-status").textContent = d.running ? "Waiting for the model…" : "Drafting…"; },
      sentence: (s) => { const st = $("#brief-status"); if (st) brief.insertBefore(DraftView.sentenceEl(s, null), st); },
      draft: (d) => { draft = d; DraftView.render(d, brief, { sections: true, sectionTitles: TITLES }); renderSheet(d); },
      error: (e) => { clear(brief); SDI.showError(brief, new SDI.ApiError(e.status, e.detail, e.hint, e.retry_after)); },
    });
  } catch (err) { clear(brief); SDI.showError(brief, err); }

  function renderSheet(d) {
    const items = d.sign_up_sheet || [];
    if (!items.length) { sheet.append(el("p", { class: "muted", text: "No standard activity fits this machine." })); return; }
    const body = el("tbody");
    for (const it of items) {
      const cites = (it.citations || []).map((ref) => el("a", { href: `#source-${ref}`, class: `cite cite-${ref[0]}`, text: `[${ref}]`,
        onclick: (e) => { e.preventDefault(); DraftView.openSource(d, ref, {}); } }));
      body.append(el("tr", {}, el("td", { class: "box", text: "☐" }),
        el("td", {}, it.name, el("div", { class: "muted" }, it.reason || "", " ", ...cites)),
        el("td", { text: money(it.price, it.currency) }), el("td", { class: "hide-narrow", text: it.duration || "" })));
      offerSelect.append(el("option", { value: it.offer_id, text: `${it.name} (${money(it.price, it.currency)})` }));
    }
    sheet.append(el("div", { class: "table-wrap" }, el("table", { class: "signup" }, el("thead", {}, el("tr", {},
      el("th", { text: "" }), el("th", { text: "Activity" }), el("th", { text: "Price" }), el("th", { class: "hide-narrow", text: "Duration" }))), body)),
      el("div", { class: "signature" }, el("span", { text: "Date" }), el("span", { text: "Name (customer)" }), el("span", { text: "Signature" })));
  }

  function leadForm() {
    if (!["technician", "admin"].includes(me.role)) return;
    const observed = el("textarea", { name: "observed", required: true, maxlength: 4000, placeholder: "e.g. hydraulic hose weeping at cylinder 2" });
    const wants = el("textarea", { name: "customer_wants", maxlength: 4000, placeholder: "e.g. asked for a quote for a spare-parts kit" });
    const photo = el("input", { type: "file", name: "photo", accept: "image/jpeg,image/png,image/webp", capture: "environment" });
    const msg = el("div", { id: "lead-result" });
    const send = el("button", { type: "submit", class: "primary", text: "Send lead" });
    const form = el("form", { id: "lead-form" },
      el("label", {}, "What did you observe?", observed), el("label", {}, "What does the customer want?", wants),
      el("label", {}, "Fitting offer (optional)", offerSelect), el("label", {}, "Photo (optional)", photo), el("p", {}, send), msg);
    form.addEventListener("submit", async (e) => {
      e.preventDefault(); clear(msg); send.disabled = true;
      const body = { serial, observed: observed.value, customer_wants: wants.value };
      if (offerSelect.value) body.offer_id = offerSelect.value;
      try {
        if (photo.files && photo.files[0]) body.photo = await readPhoto(photo.files[0]);
        const lead = await api("/api/leads", { method: "POST", body });
        msg.append(el("p", { class: "ok" }, `Lead ${lead.id} sent to ${lead.owner} (${lead.owner_role.replace("_", " ")}). `,
          el("a", { href: `opportunity.html?id=${encodeURIComponent(lead.opportunity_id)}`, text: "Open it" })));
        form.reset();
      } catch (err) { SDI.showError(msg, err); }
      send.disabled = false;
    });
    leadCard.append(el("h2", { text: "Report a lead" }),
      el("p", { class: "muted", text: "Seen something the customer could use help with? Two lines are enough; it goes to the right person." }), form);
  }

  function readPhoto(file) {
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve({ content_type: file.type, filename: file.name, data_base64: String(reader.result).split(",")[1] });
      reader.onerror = () => reject(new Error("could not read the photo"));
      reader.readAsDataURL(file);
    });
  }
})();
