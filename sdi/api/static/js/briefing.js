// Technician pre-visit briefing: works on a phone; prints only the customer's sign-up sheet (css/print.css).
"use strict";
(async () => {
  const { el, $, clear, api, money, param } = SDI;
  const me = await SDI.boot();
  const content = clear($("#content"));
  const serial = param("serial") || "";
  $("#title").textContent = serial ? `Briefing · ${serial}` : "Briefing";
  const TITLES = { summary: "At a glance", triggers: "Why we look at it", history: "Recent history", findings: "What the records say", checks: "Check on site",
                   talking_points: "Talking points — advise and explain, never push" };

  // The machine first: a serial out of scope (or unknown) gets a clear message and nothing to print or sign.
  let mf = null;
  try {
    if (serial) mf = await api(`/api/machines/${encodeURIComponent(serial)}`);
  } catch (err) {
    if (err.status !== 404) { SDI.showError(content, err); return; }
  }
  if (!mf) { noMachine(); return; }

  const brief = el("section", { class: "card", id: "brief" }, el("p", { class: "muted", id: "brief-status", text: "Preparing the briefing…" }));
  const offerSelect = el("select", { name: "offer_id" }, el("option", { value: "", text: "— none / not sure —" }));
  content.append(machineCard(), brief, ...[leadForm()].filter(Boolean));

  try {
    await SDI.stream(`/api/briefings/${encodeURIComponent(serial)}/stream`, {}, {
      queued: (d) => { $("#brief-status").textContent = d.running ? "Waiting for the model…" : "Drafting…"; },
      sentence: (s) => { const st = $("#brief-status"); if (st) brief.insertBefore(DraftView.sentenceEl(s, null), st); },
      draft: (d) => { DraftView.render(d, brief, { sections: true, sectionTitles: TITLES }); brief.after(...signUpSheet(d)); },
      error: (e) => { clear(brief); SDI.showError(brief, new SDI.ApiError(e.status, e.detail, e.hint, e.retry_after)); },
    });
  } catch (err) { clear(brief); SDI.showError(brief, err); }

  function noMachine() {
    $("#title").textContent = "No briefing for this machine";
    content.append(el("section", { class: "card", id: "out-of-scope" },
      el("p", { role: "alert", text: serial
        ? `Machine ${serial} does not exist or is not one of your machines, so there is no briefing or sign-up sheet for it.`
        : "No machine was given: open a briefing from a machine's page." }),
      el("p", {}, el("a", { href: "machines.html", text: me.role === "technician" ? "Back to my machines" : "Back to the machines" }))));
  }

  function machineCard() {
    const m = mf.machine;
    const facts = [["Customer", mf.customer && mf.customer.name], ["Site", m.site], ["Model", m.model],
                   ["In service since", m.install_date && SDI.fmtDate(m.install_date)],
                   ["Operating hours", m.operating_hours !== null && m.operating_hours !== undefined ? SDI.fmtNum(m.operating_hours) : null]];
    return el("section", { class: "card", id: "machine-facts" }, el("h2", { text: `${m.serial} · ${m.model}` }), factList(facts, "facts"),
      el("p", {}, el("a", { href: `machine.html?serial=${encodeURIComponent(m.serial)}`, text: "Machine file →" })));
  }

  function factList(pairs, cls) {
    return el("dl", { class: cls }, ...pairs.filter(([, v]) => v !== null && v !== undefined && v !== "")
      .flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: String(v) })]));
  }

  function today() {
    const d = new Date();
    const pad = (n) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  }

  /** The sign-up sheet (what prints, for the customer: no trigger ids, reasons or checks) and its Print button. */
  function signUpSheet(d) {
    const items = d.sign_up_sheet || [];
    const sheet = el("section", { class: "card", id: "signup" },
      el("h2", { class: "no-print", text: "Sign-up sheet for the customer" }));
    if (!items.length) {
      sheet.append(el("p", { class: "muted", text: "No standard fixed-price activity fits this machine, so there is no sheet to print." }));
      return [sheet];
    }
    sheet.append(el("p", { class: "muted no-print", text: "This is what prints; the briefing above stays with you. The grey reasons are for you only." }));
    const m = mf.machine;
    const company = me.company || "";
    const body = el("tbody");
    for (const it of items) {
      const cites = (it.citations || []).map((ref) => el("a", { href: `#source-${ref}`, class: `cite cite-${ref[0]}`, text: `[${ref}]`,
        onclick: (e) => { e.preventDefault(); DraftView.openSource(d, ref, {}); } }));
      body.append(el("tr", {}, el("td", { class: "box" }, el("span", { class: "tick", "aria-hidden": "true" })),
        el("td", {}, el("span", { class: "offer-name", text: it.name }), el("div", { class: "internal" }, it.reason || "", " ", ...cites)),
        el("td", { class: "duration hide-narrow", text: it.duration || "" }), el("td", { class: "price", text: money(it.price, it.currency) })));
      offerSelect.append(el("option", { value: it.offer_id, text: `${it.name} (${money(it.price, it.currency)})` }));
    }
    const facts = [["Customer", mf.customer && mf.customer.name], ["Site", m.site], ["Machine", m.model], ["Serial number", m.serial],
                   ["Service technician", me.role === "technician" ? me.name : null]];
    sheet.append(el("div", { class: "sheet" },
      el("div", { class: "sheet-head" }, el("span", { class: "sheet-company", text: company }),
        el("span", { class: "sheet-date", text: SDI.fmtDate(today()) })),
      el("h2", { class: "sheet-title", text: "Service offer — sign-up sheet" }),
      factList(facts, "facts sheet-facts"),
      el("p", { class: "sheet-intro", text: "Fixed-price service activities for your machine. Tick the ones you would like us to carry out and sign below; we will confirm the date with you." }),
      // A table on a phone too (no-cards): it is the paper the customer signs, and fits 390 px without the duration.
      el("div", { class: "table-wrap" }, el("table", { class: "signup no-cards" }, el("thead", {}, el("tr", {},
        el("th", { "aria-label": "Wanted" }), el("th", { text: "Activity" }), el("th", { class: "duration hide-narrow", text: "Duration" }),
        el("th", { class: "price", text: "Price" }))), body)),
      el("div", { class: "remarks print-only" }, el("span", { text: "Remarks" })),
      el("div", { class: "signature" }, el("span", { text: "Place, date" }), el("span", { text: "Name (customer)" }), el("span", { text: "Signature (customer)" }))));
    const printBtn = el("button", { type: "button", class: "secondary no-print", id: "print", text: "Print the sign-up sheet" });
    printBtn.addEventListener("click", () => window.print());
    // The print's title is what a browser names the PDF and prints in its page header: nothing internal there either.
    const screenTitle = document.title;
    window.addEventListener("beforeprint", () => { document.title = `${company} — Service offer — ${m.serial}`; });
    window.addEventListener("afterprint", () => { document.title = screenTitle; });
    return [sheet, el("p", { class: "no-print" }, printBtn)];
  }

  function leadForm() {
    if (!["technician", "admin"].includes(me.role)) return null;
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
          el("a", { href: `opportunity.html?id=${encodeURIComponent(lead.opportunity_id)}`, text: "Open it" }),
          lead.routing_reason ? el("div", { class: "routing-reason", text: `Why: ${lead.routing_reason}.` }) : null));
        form.reset();
      } catch (err) { SDI.showError(msg, err); }
      send.disabled = false;
    });
    return el("section", { class: "card no-print", id: "lead" }, el("h2", { text: "Report a lead" }),
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
