// Draft rendering: sentences with clickable [T1]/[H2] citations, and the source panel that shows the exact
// source text with the cited span highlighted (H) or the trigger's rule, threshold and value (T).
"use strict";

const DraftView = (() => {
  const { el, clear, api, fmtCond, fmtNum, fmtDate } = SDI;
  const ISO_DAY = /^\d{4}-\d{2}-\d{2}(T[\d:.]+Z?)?$/;

  /** A threshold or value as a reader expects it: numbers and dates in their locale, ranges with a dash. */
  function shown(v, unit) {
    if (v === null || v === undefined) return "–";
    if (Array.isArray(v)) return v.map((x) => shown(x)).join("–") + (unit ? ` ${unit}` : "");
    const text = typeof v === "number" ? fmtNum(v, 2) : ISO_DAY.test(String(v)) ? fmtDate(v) : String(v);
    return text + (unit ? ` ${unit}` : "");
  }
  const CITE = /\[([TH]\d+)\]/g;

  /** Sentence text as nodes, with each [X1] turned into a citation link (or a plain marker while streaming). */
  function sentenceNodes(text, onCite) {
    const nodes = [];
    let last = 0;
    for (const m of text.matchAll(CITE)) {
      if (m.index > last) nodes.push(document.createTextNode(text.slice(last, m.index)));
      const ref = m[1];
      nodes.push(onCite
        ? el("a", { href: `#source-${ref}`, class: `cite cite-${ref[0]}`, "data-ref": ref, text: `[${ref}]`,
                    onclick: (e) => { e.preventDefault(); onCite(ref); } })
        : el("span", { class: "cite pending", text: `[${ref}]` }));
      last = m.index + m[0].length;
    }
    if (last < text.length) nodes.push(document.createTextNode(text.slice(last)));
    return nodes;
  }

  function sentenceEl(s, onCite) {
    return el("p", { class: `sentence origin-${s.origin} section-${s.section}`,
                     title: s.origin === "template" ? "built from the evidence (template)" : "model sentence, passed the citation check" },
      ...sentenceNodes(s.text, onCite));
  }

  /** A finished draft: sentences grouped by section, notes, check summary, audit id. */
  function render(draft, container, ctx) {
    clear(container);
    const onCite = (ref) => openSource(draft, ref, ctx);
    let section = null; let box = container;
    for (const s of draft.sentences) {
      if (ctx && ctx.sections && s.section !== section) {
        section = s.section;
        box = el("div", { class: `draft-section sec-${section}` }, el("h3", { text: (ctx.sectionTitles || {})[section] || section.replace("_", " ") }));
        container.append(box);
      }
      box.append(sentenceEl(s, onCite));
    }
    if ((draft.sources || []).length) {
      container.append(el("p", { class: "source-list" }, "Sources shown to the model: ",
        ...draft.sources.map((src) => el("a", { href: `#source-${src.id}`, class: `cite cite-${src.id[0]}`, "data-ref": src.id,
          title: src.source_id, text: `[${src.id}]`, onclick: (e) => { e.preventDefault(); onCite(src.id); } }))));
    }
    const bySource = Object.fromEntries((draft.sources || []).map((src) => [src.id, src.source_id]));
    for (const a of container.querySelectorAll("a.cite")) a.setAttribute("data-source-id", bySource[a.getAttribute("data-ref")] || "");
    const c = draft.check || {};
    container.append(el("p", { class: "draft-meta" },
      `citation check: ${c.passed || 0}/${c.checked || 0} model sentences passed, ${c.repaired || 0} replaced, ${c.dropped || 0} dropped · `,
      `model ${draft.model && draft.model.name} · prompt ${draft.prompt && draft.prompt.name} v${draft.prompt && draft.prompt.version}`,
      draft.audit_id ? ` · audit ${draft.audit_id}` : ""));
    for (const note of draft.notes || []) container.append(el("p", { class: "note", text: note }));
  }

  function panel() {
    let p = document.getElementById("source-panel");
    if (!p) {
      p = el("aside", { id: "source-panel", class: "source-panel", role: "dialog", "aria-label": "cited source", hidden: true });
      document.body.append(p);
    }
    return p;
  }

  // on a wide screen the page makes room for the panel, so it never covers the draft's list of sources
  function closePanel() { panel().hidden = true; document.body.classList.remove("panel-open"); }

  function highlighted(text, span) {
    if (!span || span[0] < 0 || span[1] > text.length || span[0] >= span[1]) {
      return el("pre", { class: "record-text" }, el("mark", { id: "highlight", text }));
    }
    return el("pre", { class: "record-text" }, text.slice(0, span[0]),
      el("mark", { id: "highlight", text: text.slice(span[0], span[1]) }), text.slice(span[1]));
  }

  /** Text with every occurrence of the needles wrapped in <mark> (longest first; built from text nodes only). */
  function markAll(text, needles) {
    const wanted = [...new Set(needles.map(String).filter((n) => n.length >= 2))].sort((a, b) => b.length - a.length);
    const out = [];
    let i = 0;
    while (i < text.length) {
      let best = -1; let hit = "";
      for (const n of wanted) {
        const at = text.indexOf(n, i);
        if (at >= 0 && (best < 0 || at < best || (at === best && n.length > hit.length))) { best = at; hit = n; }
      }
      if (best < 0) { out.push(text.slice(i)); break; }
      if (best > i) out.push(text.slice(i, best));
      out.push(el("mark", { text: hit }));
      i = best + hit.length;
    }
    return out;
  }

  function factNeedles(trig) {
    const facts = (trig.evidence && trig.evidence.facts) || {};
    const plain = (v) => typeof v === "string" || typeof v === "number";
    // A fact may be a list of records (note leads: date, span …): their plain values are needles too.
    const values = Object.values(facts).flat().flatMap((v) => (v && typeof v === "object" ? Object.values(v) : [v])).filter(plain);
    for (const c of trig.conditions || [trig.condition]) if (c && c.value !== null && c.value !== undefined) values.push(c.value);
    return values;
  }

  async function evidenceRecords(trig, holder) {
    const ids = ((trig.evidence && trig.evidence.source_ids) || []).filter((id) => !id.startsWith("machine:") || trig.evidence.source_ids.length === 1);
    const shown = ids.slice(0, 3);
    for (const id of shown) {
      try {
        const rec = await api(`/api/sources/${encodeURIComponent(id)}`);
        const r = rec.record || {};
        const text = rec.entity === "service_record" ? `${fmtDate(r.date)} ${r.type || "service"}: ${rec.text}` : (rec.text || "");
        const needles = factNeedles(trig).concat(rec.entity === "event" ? [r.code] : []);
        holder.append(el("div", { class: "evidence-record", "data-source-id": id }, el("p", { class: "muted" }, el("code", { text: id })),
          el("pre", { class: "record-text" }, ...markAll(text, needles))));
      } catch (err) {
        holder.append(el("p", { class: "muted", text: `${id}: ${SDI.describeError(err)}` }));
      }
    }
    if (ids.length > shown.length) holder.append(el("p", { class: "muted", text: `and ${ids.length - shown.length} more record(s)` }));
  }

  function findTrigger(src, ctx) {
    const triggers = (ctx && ctx.triggers) || [];
    const id = src.source_id.startsWith("trigger:") ? src.source_id.slice(8) : null;
    return triggers.find((t) => t.trigger_id === id) || null;
  }

  function triggerTable(t) {
    const conds = (t.conditions || [t.condition]).filter(Boolean);
    return el("div", { class: "table-wrap" },
      el("ul", { class: "cond-sentences" }, ...conds.map((c) => el("li", { class: "cond-sentence", text: fmtCond(c) }))),
      el("table", { class: "cond" },
        el("caption", { text: `rule ${t.rule_id} v${t.rule_version} · as of ${fmtDate(t.as_of)}` }),
        el("thead", {}, el("tr", {}, ...["field", "operator", "threshold", "value"].map((h) => el("th", { text: h })))),
        el("tbody", {}, ...conds.map((c) => el("tr", {},
          el("td", { text: c.field }), el("td", { text: c.operator }),
          el("td", { class: "threshold", text: shown(c.threshold) }),
          el("td", { class: "value", text: shown(c.value, c.unit) }))))));
  }

  /** Open the panel for one citation of a draft. */
  async function openSource(draft, ref, ctx) {
    const src = (draft.sources || []).find((s) => s.id === ref);
    const p = panel();
    clear(p);
    p.hidden = false;
    document.body.classList.add("panel-open");
    p.append(el("div", { class: "panel-head" },
      el("h2", { text: `Source ${ref}` }),
      el("button", { type: "button", class: "close", "aria-label": "close", text: "×", onclick: closePanel })));
    if (!src) { p.append(el("p", { class: "error", text: `The draft has no source ${ref}.` })); return; }
    p.append(el("p", { class: "source-id" }, el("code", { text: src.source_id }),
      src.scope === "similar" ? el("span", { class: "badge", text: "similar machine" }) : null));
    const shown = el("blockquote", { class: "source-text" });
    p.append(el("h3", { text: "What the model was shown" }), shown);
    if (ref.startsWith("T")) {
      let trig = findTrigger(src, ctx);
      if (!trig && src.source_id.startsWith("trigger:")) {
        try { trig = (await api(`/api/sources/${encodeURIComponent(src.source_id)}`)).trigger; } catch (e) { trig = null; }
      }
      if (trig) {
        shown.append(...markAll(src.text, factNeedles(trig)));
        p.append(el("h3", { text: `Trigger: ${SDI.RULE_LABEL[trig.rule_id] || trig.rule_id}` }), triggerTable(trig));
        const ids = (trig.evidence && trig.evidence.source_ids) || [];
        const holder = el("div", { class: "evidence" });
        p.append(el("h3", { text: `Evidence (${ids.length} record${ids.length === 1 ? "" : "s"}, facts highlighted)` }), holder);
        await evidenceRecords(trig, holder);
      } else if (src.source_id.startsWith("opportunity:") && ctx && (ctx.triggers || []).length) {
        shown.textContent = src.text;
        p.append(el("h3", { text: "Triggers behind this opportunity" }), ...ctx.triggers.map(triggerTable));
      } else {
        shown.textContent = src.text;
        if ((src.record_ids || []).length) p.append(el("p", { class: "evidence", text: `Records: ${src.record_ids.slice(0, 12).join(", ")}` }));
      }
      return;
    }
    shown.textContent = src.text;
    const recordId = src.source_id;
    const holder = el("div", { class: "record" }, el("p", { class: "muted", text: "Loading the original record…" }));
    p.append(el("h3", { text: "Original record (cited span highlighted)" }), holder);
    try {
      const rec = await api(`/api/sources/${encodeURIComponent(recordId)}`);
      clear(holder);
      const meta = rec.record || {};
      holder.append(el("p", { class: "muted", text: [meta.date && fmtDate(meta.date), meta.type, meta.technician, rec.serial].filter(Boolean).join(" · ") }));
      holder.append(highlighted(rec.text || "", src.span));
      const mark = document.getElementById("highlight");
      if (mark && mark.scrollIntoView) mark.scrollIntoView({ block: "center" });
    } catch (err) {
      clear(holder);
      SDI.showError(holder, err);
    }
  }

  document.addEventListener("keydown", (e) => { if (e.key === "Escape") closePanel(); });
  return { render, sentenceEl, sentenceNodes, openSource, closePanel };
})();
