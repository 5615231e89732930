// Data loads: pick a mapping on the server or upload export files with their mapping, run the import with progress,
// then each import's counts per file and its rejected rows (file, line, reason), and the history of every import.
"use strict";
(async () => {
  const { el, $, clear, api, fmtNum, fmtDateTime } = SDI;
  await SDI.boot();
  const content = clear($("#content"));
  const MAX_FILE = 8 * 2 ** 20;  // the server's limit per uploaded file
  const PAGE = 50;
  const TYPES = [".csv", ".txt", ".tsv", ".parquet", ".json", ".jsonl", ".ndjson", ".xlsx", ".xlsm"];
  const isMapping = (name) => /\.ya?ml$/i.test(name);
  const baseName = (p) => String(p || "").split("/").pop();

  const jobBox = el("section", { class: "card", id: "job", hidden: true, "aria-live": "polite" });
  const detail = el("div", { id: "run-detail" });
  const history = el("section", { class: "card", id: "history" }, el("h2", { text: "Import history" }));
  content.append(el("div", { class: "load-ways" }, pickCard(), uploadCard()), jobBox, detail, history);

  // ---------------------------------------------------------------- starting an import

  function triggersBox(id) {
    const box = el("input", { type: "checkbox", id, checked: true });
    return [el("label", { class: "check", for: id }, box, "Re-run trigger detection afterwards"), box];
  }

  function pickCard() {
    const select = el("select", { id: "mapping-select", name: "mapping", required: true });
    const [label, rerun] = triggersBox("pick-triggers");
    const go = el("button", { type: "submit", class: "primary", text: "Import" });
    const msg = el("div");
    const form = el("form", { id: "pick-form" }, el("label", { for: "mapping-select" }, "Mapping on the server", select), label, go, msg);
    api("/api/admin/mappings").then((r) => {
      if (!r.items.length) select.append(el("option", { value: "", text: "no mapping found under SDI_HOME" }));
      for (const m of r.items) {
        select.append(el("option", { value: m.path, text: `${m.name} · ${m.where} · ${m.folder}` }));
      }
    }).catch((err) => SDI.showError(msg, err));
    form.addEventListener("submit", async (e) => {
      e.preventDefault(); clear(msg);
      if (!select.value) { msg.append(el("p", { class: "error", role: "alert", text: "Pick a mapping first." })); return; }
      go.disabled = true;
      try { await start(select.value, rerun.checked); } catch (err) { SDI.showError(msg, err); }
      go.disabled = false;
    });
    return el("section", { class: "card", id: "pick" }, el("h2", { text: "Import from the server" }),
      el("p", { class: "muted", text: "Mapping files (YAML with files:) in SDI_HOME, its demo-data folder and earlier uploads. " +
        "Big exports belong here: copy them to the server next to their mapping." }), form);
  }

  function uploadCard() {
    const files = el("input", { type: "file", id: "upload-files", name: "files", multiple: true, required: true,
      accept: [...TYPES, ".yaml", ".yml"].join(",") });
    const [label, rerun] = triggersBox("upload-triggers");
    const go = el("button", { type: "submit", class: "primary", text: "Upload and import" });
    const msg = el("div", { id: "upload-msg" });
    const form = el("form", { id: "upload-form" }, el("label", { for: "upload-files" }, "Export files and their mapping", files),
      label, go, msg);
    form.addEventListener("submit", async (e) => {
      e.preventDefault(); clear(msg);
      const chosen = [...files.files];
      const problem = checkUpload(chosen);
      if (problem) { msg.append(el("p", { class: "error", role: "alert", text: problem })); return; }
      go.disabled = true;
      try {
        const up = await api("/api/admin/uploads", { method: "POST" });
        let mapping = null;
        for (const [i, f] of chosen.entries()) {
          clear(msg).append(el("p", { class: "muted", text: `Uploading ${f.name} (${i + 1} of ${chosen.length})…` }));
          const saved = await put(`/api/admin/uploads/${encodeURIComponent(up.upload)}/${encodeURIComponent(f.name)}`, f);
          if (saved.mapping) mapping = saved.path;
        }
        clear(msg).append(el("p", { class: "muted", text: `${fmtNum(chosen.length)} files uploaded to ${up.folder}.` }));
        await start(mapping, rerun.checked);
        form.reset();
      } catch (err) { clear(msg); SDI.showError(msg, err); }
      go.disabled = false;
    });
    return el("section", { class: "card", id: "upload" }, el("h2", { text: "Upload exports" }),
      el("p", { class: "muted", text: `Choose the export files (${TYPES.join(", ")}) and one mapping (.yaml) naming them by ` +
        `file name; up to ${fmtNum(MAX_FILE / 2 ** 20)} MB a file.` }), form);
  }

  function checkUpload(chosen) {
    if (!chosen.length) return "Choose the export files and their mapping first.";
    const maps = chosen.filter((f) => isMapping(f.name));
    if (maps.length !== 1) return `Choose exactly one mapping file (.yaml) with the exports; ${maps.length} chosen.`;
    if (chosen.length < 2) return "Choose the export files the mapping names, too.";
    const big = chosen.find((f) => f.size > MAX_FILE);
    if (big) return `${big.name} is ${fmtNum(big.size / 2 ** 20, 1)} MB, over the ${fmtNum(MAX_FILE / 2 ** 20)} MB upload limit: copy it to the server and import it from there.`;
    const odd = chosen.find((f) => !isMapping(f.name) && !TYPES.some((t) => f.name.toLowerCase().endsWith(t)));
    if (odd) return `${odd.name} is not an export SDI reads (${TYPES.join(", ")}).`;
    return null;
  }

  /** PUT a file's bytes (not JSON); errors read like the API's. */
  async function put(path, blob) {
    const resp = await fetch(path, { method: "PUT", body: blob, headers: { Authorization: `Bearer ${SDI.token() || ""}`,
      "Content-Type": "application/octet-stream", Accept: "application/json" } });
    let body = {};
    try { body = await resp.json(); } catch (e) { /* not JSON */ }
    if (!resp.ok) throw new SDI.ApiError(resp.status, body.detail || `upload failed (HTTP ${resp.status})`, body.hint);
    return body;
  }

  async function start(mapping, runTriggers) {
    const job = await api("/api/admin/imports", { method: "POST", body: { mapping, run_triggers: runTriggers } });
    follow(job.run_id);
  }

  // ---------------------------------------------------------------- progress

  const PHASE = { queued: "Waiting to start", importing: "Importing", detecting: "Re-running trigger detection",
    done: "Finished", failed: "Failed" };

  async function follow(runId) {
    jobBox.hidden = false;
    clear(detail);
    for (;;) {
      let run;
      try { run = await api(`/api/admin/imports/${runId}`); } catch (err) { clear(jobBox); SDI.showError(jobBox, err); return; }
      const job = run.job;
      drawJob(run, job);
      if (!job || !job.running) break;
      await new Promise((ok) => setTimeout(ok, 600));
    }
    const run = await api(`/api/admin/imports/${runId}`);
    showRun(run);
    loadHistory(0);
  }

  function drawJob(run, job) {
    clear(jobBox).append(el("h2", { text: `Import #${run.run_id}: ${baseName(run.mapping)}` }));
    if (!job) { jobBox.append(el("p", { class: "muted", text: `State: ${run.state}` })); return; }
    const total = Math.max(1, job.total_files);
    const done = job.running ? job.files_done : total;
    jobBox.append(
      el("p", {}, el("span", { class: `phase phase-${job.phase}`, id: "job-phase", text: PHASE[job.phase] || job.phase }),
        job.current_file && job.running ? ` · ${job.current_file}` : "", ` · ${fmtNum(job.seconds, 1)} s`),
      el("progress", { id: "job-progress", value: done, max: total, "aria-label": "Files imported" }),
      el("p", { id: "job-counts", text: `${fmtNum(job.files_done)} of ${fmtNum(job.total_files)} files · ${fmtNum(job.rows_read)} rows read, ` +
        `${fmtNum(job.rows_stored)} stored, ${fmtNum(job.rows_rejected)} rejected` }),
      job.messages.length ? el("ul", { class: "job-log" }, ...job.messages.slice(-6).map((m) => el("li", { text: m }))) : null);
    if (job.phase === "done") {
      const t = job.triggers;
      jobBox.append(el("p", { class: "ok", role: "status", id: "job-result", text: `Import #${run.run_id} finished: ` +
        `${fmtNum(job.rows_stored)} rows stored, ${fmtNum(job.rows_rejected)} rejected` +
        (t ? `; detection re-ran as of ${SDI.fmtDate(t.as_of)} over ${fmtNum(t.machines)} machines.` : ".") }));
    }
    if (job.phase === "failed") {
      jobBox.append(el("p", { class: "error", role: "alert", id: "job-result",
        text: `Import #${run.run_id} failed: ${job.error}${job.hint ? ` (${job.hint})` : ""}` }));
    }
  }

  // ---------------------------------------------------------------- one import's detail

  const num = (v) => el("td", { class: "num", text: fmtNum(v) });
  const stateTag = (s) => el("span", { class: `run-state ${s}`, text: s });

  function showRun(run) {
    clear(detail);
    const files = el("div", { class: "table-wrap" }, el("table", { id: "run-files" },
      el("caption", { class: "muted", text: "Every row read is stored or rejected; identical duplicates merge into one stored row." }),
      el("thead", {}, el("tr", {}, el("th", { text: "File" }), el("th", { text: "Entity" }),
        ...["Read", "Stored", "Rejected", "Duplicates merged", "New", "Changed", "Unchanged"].map((h) => el("th", { class: "num", text: h })))),
      el("tbody", {}, ...run.files.map((f) => el("tr", {}, el("td", { text: f.file }), el("td", { text: f.entity }),
        num(f.rows_read), num(f.rows_stored), num(f.rows_rejected),
        f.duplicates_merged === null ? el("td", { class: "num", text: "–" }) : num(f.duplicates_merged),
        num(f.inserted), num(f.updated), num(f.unchanged))))));
    const rejected = el("div", { id: "rejections" });
    const card = el("section", { class: "card", id: "run", "data-run": run.run_id },
      el("h2", { text: `Import #${run.run_id} · ${baseName(run.mapping)}` }),
      el("dl", { class: "facts" }, el("dt", { text: "State" }), el("dd", {}, stateTag(run.state)),
        el("dt", { text: "Started" }), el("dd", { text: fmtDateTime(run.started_at) }),
        el("dt", { text: "Finished" }), el("dd", { text: fmtDateTime(run.finished_at) }),
        el("dt", { text: "By" }), el("dd", { text: run.started_by || run.source || "–" }),
        el("dt", { text: "Mapping" }), el("dd", { class: "small", text: run.mapping || "–" })),
      run.error ? el("p", { class: "error", role: "alert", text: run.error }) : null,
      files, el("h3", { text: "Rejected rows" }), rejected);
    detail.append(card);
    showRejections(run, rejected, null, 0);
  }

  async function showRejections(run, box, file, offset) {
    const q = new URLSearchParams({ limit: PAGE, offset });
    if (file) q.set("file", file);
    let r;
    try { r = await api(`/api/admin/imports/${run.run_id}/rejections?${q}`); } catch (err) { clear(box); SDI.showError(box, err); return; }
    clear(box);
    if (run.files.length > 1) {
      const pick = el("select", { id: "rejections-file", "aria-label": "Rejected rows of file" },
        el("option", { value: "", text: "all files" }), ...run.files.map((f) => el("option", { value: f.file, text: f.file })));
      pick.value = file || "";
      pick.addEventListener("change", () => showRejections(run, box, pick.value || null, 0));
      box.append(el("div", { class: "row" }, el("label", {}, "File", pick)));
    }
    if (!r.total) { box.append(el("p", { class: "muted", id: "no-rejections", text: "No rejected rows." })); return; }
    box.append(el("div", { class: "table-wrap" }, el("table", { id: "rejections-table" },
      el("thead", {}, el("tr", {}, ...["File", "Line", "Reason", "Row as read"].map((h) => el("th", { text: h })))),
      el("tbody", {}, ...r.items.map((x) => el("tr", {}, el("td", { text: x.file }),
        el("td", { class: "line", text: x.location === "line" ? fmtNum(x.line) : `${x.location} ${fmtNum(x.line)}` }),
        el("td", { class: "reason", text: x.reason + (x.scope === "value" ? " (this value only; the rest of the row was stored)" : "") }),
        el("td", { class: "raw", text: x.raw || "" })))))));
    box.append(pager(r.total, offset, (o) => showRejections(run, box, file, o), "rejected rows"));
  }

  function pager(total, offset, go, what, size = PAGE) {
    const prev = el("button", { type: "button", class: "secondary", text: "Previous", disabled: offset <= 0 });
    const next = el("button", { type: "button", class: "secondary", text: "Next", disabled: offset + size >= total });
    prev.addEventListener("click", () => go(Math.max(0, offset - size)));
    next.addEventListener("click", () => go(offset + size));
    return el("div", { class: "pager" }, prev, next,
      el("span", { class: "muted", text: `${fmtNum(offset + 1)}–${fmtNum(Math.min(total, offset + size))} of ${fmtNum(total)} ${what}` }));
  }

  // ---------------------------------------------------------------- history

  async function loadHistory(offset) {
    let r;
    try { r = await api(`/api/admin/imports?limit=20&offset=${offset}`); } catch (err) { SDI.showError(history, err); return; }
    clear(history).append(el("h2", { text: "Import history" }));
    if (!r.total) { history.append(el("p", { class: "muted", text: "Nothing imported yet." })); return; }
    const open = async (id) => {
      try { showRun(await api(`/api/admin/imports/${id}`)); detail.scrollIntoView({ block: "start" }); }
      catch (err) { SDI.showError(detail, err); }
    };
    history.append(el("div", { class: "table-wrap" }, el("table", { id: "history-table" },
      el("thead", {}, el("tr", {}, el("th", { text: "When" }), el("th", { text: "Mapping" }), el("th", { text: "By" }),
        el("th", { text: "State" }), ...["Files", "Read", "Stored", "Rejected", "Duplicates"].map((h) => el("th", { class: "num", text: h })),
        el("th", {}, el("span", { class: "visually-hidden", text: "Details" })))),
      el("tbody", {}, ...r.items.map((x) => el("tr", { "data-run": x.run_id },
        el("td", { text: fmtDateTime(x.finished_at || x.started_at) }), el("td", { text: baseName(x.mapping), title: x.mapping }),
        el("td", { text: x.started_by || x.source || "–" }), el("td", {}, stateTag(x.state)),
        num(x.files.length), num(x.totals.rows_read), num(x.totals.rows_stored), num(x.totals.rows_rejected),
        num(x.totals.duplicates_merged),
        el("td", {}, el("button", { type: "button", class: "secondary", text: "Details",
          "aria-label": `Details of import #${x.run_id}`, onclick: () => open(x.run_id) }))))))));
    history.append(pager(r.total, offset, loadHistory, "imports", 20));
    if (r.active !== null && r.active !== undefined && jobBox.hidden) follow(r.active);  // an import already running
  }

  loadHistory(0);
  const wanted = SDI.param("run");
  if (wanted) {
    try { showRun(await api(`/api/admin/imports/${encodeURIComponent(wanted)}`)); } catch (err) { SDI.showError(detail, err); }
  }
})();
