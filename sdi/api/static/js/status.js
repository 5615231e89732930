// Status (the admin's home): data health — model, drafting queue, search index, last trigger run, last import, machine file.
"use strict";
(async () => {
  const { el, $, clear, api, fmtNum, fmtDate, fmtDateTime } = SDI;
  await SDI.boot();
  const content = clear($("#content"));
  const stamp = el("p", { class: "muted", id: "checked-at" });
  const refresh = el("button", { type: "button", class: "secondary", id: "refresh", text: "Refresh" });
  const body = el("div", { class: "status-grid" });
  content.append(el("div", { class: "row status-head" }, stamp, refresh), body);
  refresh.addEventListener("click", () => load());
  let timer = null;

  const mb = (bytes) => (bytes === null || bytes === undefined ? "–" : `${fmtNum(bytes / 2 ** 20, 1)} MB`);
  const facts = (pairs) => el("dl", { class: "facts" }, ...pairs.filter(Boolean).flatMap(([k, v, id]) => [
    el("dt", { text: k }), el("dd", { id: id || null }, v === null || v === undefined || v === "" ? "–" : v)]));
  const card = (id, title, ...children) => el("section", { class: "card", id, "aria-labelledby": `${id}-h` },
    el("h2", { id: `${id}-h`, text: title }), ...children);
  const bar = (value, max, label) => el("progress", { value: Math.max(0, value || 0), max: Math.max(1, max || 0), "aria-label": label });

  function modelCard(m) {
    const verified = m.verified === true ? el("span", { class: "state-ok", text: "matches the catalog" })
      : m.verified === false ? el("span", { class: "state-bad", text: `differs from the catalog (${m.expected_sha256})` })
        : el("span", { class: "muted", text: m.expected_sha256 ? "checked when the model loads" : "no catalog entry to compare" });
    const state = { ready: "loaded, drafting", starting: "loading…", unavailable: "not available" }[m.state] || m.state;
    return card("model", "Language model",
      facts([["Model", m.name || m.configured, "model-name"], ["Backend", m.backend || m.configured],
        ["State", state, "model-state"], ["File", m.file, "model-file"], ["Size", mb(m.size), "model-size"],
        ["SHA-256", m.sha256 ? el("code", { class: "hash", text: m.sha256 }) : (m.expected_sha256 ? el("code", { class: "hash muted", text: m.expected_sha256 }) : null), "model-sha256"],
        ["Hash check", verified], m.verified_at ? ["Last verified", fmtDateTime(m.verified_at)] : null,
        m.licence ? ["Licence", m.licence] : null]),
      m.error ? el("p", { class: "error", role: "alert", text: m.error }) : null,
      m.path ? el("p", { class: "muted small", text: m.path }) : null);
  }

  function queueCard(q) {
    const text = { ready: "ready", starting: "loading the model", unavailable: "unavailable" }[q.state] || q.state;
    return card("queue", "Drafting queue",
      facts([["State", text, "queue-state"], ["Drafting now", fmtNum(q.running), "queue-running"],
        ["Waiting", `${fmtNum(q.waiting)} of at most ${fmtNum(q.max_waiting)}`, "queue-waiting"],
        ["Drafts done since start", fmtNum(q.done)], ["Average time", q.done ? `${fmtNum(q.avg_seconds, 1)} s` : "–"]]),
      bar(q.waiting, q.max_waiting, "Queue fill"));
  }

  function indexCard(x) {
    const bg = x.background || { state: "idle" };
    const running = bg.state === "indexing";
    const live = running ? el("p", { class: "note", id: "index-background", role: "status" },
      `Indexing in the background: ${fmtNum(bg.records_indexed)} of ${fmtNum(bg.records_total)} service records, `
      + `${fmtNum(bg.machines_waiting)} machines waiting (${fmtNum(bg.open_opportunity_machines_waiting)} with open opportunities, indexed first). `
      + "A draft for a machine not yet indexed indexes it first.") : null;
    const failed = bg.state === "error" ? el("p", { class: "error", role: "alert", text: `Background indexing stopped: ${bg.error}` }) : null;
    if (!x.built) {
      return card("index", "Search index", live || el("p", { class: "note", id: "index-summary",
        text: `No index yet: ${fmtNum(x.records_to_index)} service records are waiting. Run sdi index on the server.` }), failed);
    }
    const share = x.records_to_index ? (100 * x.records_indexed) / x.records_to_index : 100;
    return card("index", "Search index",
      el("p", { id: "index-summary" }, `${fmtNum(x.records_indexed)} of ${fmtNum(x.records_to_index)} service records indexed `,
        el("span", { class: "muted", text: `(${fmtNum(share, 1)} %)` })),
      bar(x.records_indexed, x.records_to_index, "Service records indexed"), live, failed,
      facts([["Chunks", fmtNum(x.chunks), "index-chunks"], ["Waiting to be indexed", fmtNum(x.records_waiting), "index-waiting"],
        x.records_gone ? ["Indexed but no longer in the data", fmtNum(x.records_gone)] : null,
        ["Customer documents", fmtNum(x.documents_indexed)], ["Last changed", fmtDateTime(x.last_indexed_at), "index-when"],
        ["Embedding model", x.embedding_model]]),
      x.records_waiting && !running ? el("p", { class: "note", text: "Records imported since the last index run are not searchable yet; run sdi index on the server." }) : null);
  }

  function triggersCard(t) {
    if (!t) return card("triggers", "Last trigger run", el("p", { class: "muted", text: "Detection has not run yet." }));
    const fired = Object.entries(t.fired).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
    return card("triggers", "Last trigger run",
      facts([["Data as of", fmtDate(t.as_of), "trigger-as-of"], ["Ran", fmtDateTime(t.when), "trigger-when"],
        ["By", t.by], ["Machines checked", fmtNum(t.machines), "trigger-machines"],
        ["Triggers fired", fmtNum(t.total_fired), "trigger-fired"], ["Opportunities now", fmtNum(t.opportunities)],
        t.synced ? ["Opportunities changed", `${fmtNum(t.synced.new || 0)} new, ${fmtNum(t.synced.updated || 0)} updated, ${fmtNum(t.synced.reopened || 0)} reopened, ${fmtNum(t.synced.resolved || 0)} resolved`] : null]),
      fired.length ? el("ul", { class: "fired", id: "trigger-rules" }, ...fired.map(([rule, n]) =>
        el("li", {}, SDI.badge(rule), " ", fmtNum(n)))) : null);
  }

  function importCard(r) {
    if (!r) return card("last-import", "Last import", el("p", { class: "muted", text: "Nothing imported yet." }),
      el("p", {}, el("a", { href: "dataload.html", text: "Load data" })));
    const name = String(r.mapping || "").split("/").pop();
    return card("last-import", "Last import",
      facts([["When", fmtDateTime(r.finished_at || r.started_at), "import-when"], ["Mapping", name],
        ["By", r.started_by || r.source || "–"], ["State", r.state],
        ["Files", fmtNum(r.files.length), "import-files"], ["Rows stored", fmtNum(r.totals.rows_stored), "import-stored"],
        ["Rows rejected", fmtNum(r.totals.rows_rejected), "import-rejected"]]),
      el("p", {}, el("a", { href: `dataload.html?run=${encodeURIComponent(r.run_id)}`, text: "Details and rejected rows" })));
  }

  function machineCard(f) {
    const rows = Object.entries(f.rows || {}).map(([k, n]) => [k.replace("_", " "), fmtNum(n)]);
    return card("machine-file", "Machine file",
      facts([["Schema version", f.schema_version === f.schema_latest ? fmtNum(f.schema_version)
        : `${fmtNum(f.schema_version)} (this SDI knows ${fmtNum(f.schema_latest)})`, "schema-version"],
      ["Size on disk", mb(f.size), "machine-file-size"], ["Data as of", fmtDate(f.data_as_of)], ...rows]),
      el("p", { class: "muted small", text: f.path }));
  }

  async function load() {
    refresh.disabled = true;
    try {
      const s = await api("/api/admin/status");
      clear(body).append(modelCard(s.model), queueCard(s.drafting), indexCard(s.index), triggersCard(s.triggers),
        importCard(s.last_import), machineCard(s.machine_file));
      stamp.textContent = `Checked ${fmtDateTime(s.checked_at)}`;
      clearTimeout(timer);
      // the model is still loading, or the index is being built
      if (s.drafting.state === "starting" || (s.index.background || {}).state === "indexing") timer = setTimeout(load, 5000);
    } catch (err) { clear(body); SDI.showError(body, err); }
    refresh.disabled = false;
  }
  load();
})();
