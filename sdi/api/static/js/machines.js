// Machines in scope (technicians: "My machines"), most urgent first: the best open opportunity (priority and its
// rules in words), then what falls due next (contract end, maintenance); links to the machine file and the briefing.
"use strict";
(async () => {
  const { el, $, clear, api, param, fmtNum, fmtDate } = SDI;
  const { dueText } = Tech;
  const me = await SDI.boot();
  if (me.role === "technician") { $("#title").textContent = "My machines"; document.title = "My machines · SDI"; }
  const PAGE = 100;
  const SORTS = [["urgency", "Urgency"], ["next_due", "Next due"], ["serial", "Serial"]];
  const content = clear($("#content"));
  const q = el("input", { type: "search", name: "q", placeholder: "serial, model, site, customer", value: param("q") || "" });
  const sort = el("select", { name: "sort" }, ...SORTS.map(([v, t]) => el("option", { value: v, text: t })));
  sort.value = SORTS.some(([v]) => v === param("sort")) ? param("sort") : "urgency";
  const form = el("form", { class: "filters" }, el("label", {}, "Search", q), el("label", {}, "Order by", sort),
    el("button", { type: "submit", class: "secondary", text: "Search" }));
  const count = el("p", { class: "muted", id: "machines-count", "aria-live": "polite" });
  const note = el("p", { class: "muted order-note", id: "order-note" });
  const how = el("details", { class: "order-note" }, el("summary", { text: "How is this ordered?" }), note);
  const body = el("tbody");
  const more = el("button", { type: "button", class: "secondary more", text: "Show more", hidden: true });
  const table = el("div", { class: "table-wrap" }, el("table", { id: "machines" }, el("thead", {}, el("tr", {},
    el("th", { text: "Machine" }), el("th", { text: "Why now · next due" }),
    el("th", { text: "Customer / site" }), el("th", { class: "hide-narrow", text: "Territory" }), el("th", { text: "Briefing" }))), body));
  content.append(el("div", { class: "list-tools" }, form), count, how, table, more);

  const NOTES = {
    urgency: "Most urgent first: machines with an open opportunity by its priority (0–100, the number before the reason), then by what falls due next; machines with nothing pending after.",
    next_due: "Soonest first by what falls due next; machines with no date after.",
    serial: "By serial number.",
  };
  const DUE_NOTE = " Next due is the earlier of the next contract end and the maintenance date (from the operating hours since the last maintenance, estimated at the last 90 days' usage when still ahead); the data has no planned visits.";

  /** The reason in words: the best open opportunity's priority and rules, then what falls due next. */
  function whyNow(m) {
    const top = m.top_opportunity;
    const rules = top ? top.rules.map((r) => SDI.RULE_LABEL[r] || r.replace(/_/g, " ")).join(", ") : "";
    const head = top
      ? [el("span", { class: `urg${top.priority >= 50 ? " high" : ""}`, title: `priority ${fmtNum(top.priority, 1)} of 100`, text: fmtNum(top.priority) }),
        el("a", { class: "rules", href: `opportunity.html?id=${encodeURIComponent(top.id)}`, text: rules || top.campaign || "open opportunity" })]
      : [el("span", { class: "muted", text: "nothing pending" })];
    return el("td", { class: "why-now" }, ...head, m.next_due ? " · " : "", dueText(m.next_due),
      ...m.dues.slice(1).map((d) => el("div", { class: "muted" }, "later: ", dueText(d))),
      top && m.open_opportunities > 1 ? el("div", { class: "muted", text: `${fmtNum(m.open_opportunities)} open opportunities` }) : null);
  }

  function row(m) {
    const top = m.top_opportunity;
    return el("tr", { "data-serial": m.serial, "data-priority": top ? top.priority : "", class: top ? null : "nothing-pending" },
      el("td", {}, el("a", { href: `machine.html?serial=${encodeURIComponent(m.serial)}`, text: m.serial }),
        el("div", { class: "muted", text: m.model })),
      whyNow(m),
      el("td", {}, m.customer || "", el("div", { class: "muted", text: m.site || "" })),
      el("td", { class: "hide-narrow", text: m.territory || "" }),
      el("td", {}, me.role === "compliance" ? "" : el("a", { class: "brief-link", href: `briefing.html?serial=${encodeURIComponent(m.serial)}`,
        text: "Briefing", "aria-label": `Briefing for ${m.serial}` })));
  }

  let offset = 0;
  async function load(reset) {
    if (reset) { offset = 0; clear(body); }
    more.hidden = true;
    try {
      const page = await api(`/api/machines?limit=${PAGE}&offset=${offset}&sort=${sort.value}&q=${encodeURIComponent(q.value)}`);
      for (const m of page.items) body.append(row(m));
      offset += page.items.length;
      count.textContent = `${fmtNum(page.total)} machine${page.total === 1 ? "" : "s"} in your scope` +
        (offset < page.total ? ` · showing ${fmtNum(offset)}` : "") + ` · data as of ${fmtDate(page.as_of)}`;
      note.textContent = NOTES[sort.value] + DUE_NOTE;
      more.hidden = offset >= page.total;
    } catch (err) { SDI.showError(content, err); }
  }
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const url = new URL(window.location.href);
    url.searchParams.set("sort", sort.value);
    if (q.value) url.searchParams.set("q", q.value); else url.searchParams.delete("q");
    history.replaceState(null, "", url.pathname + url.search);
    load(true);
  });
  sort.addEventListener("change", () => form.requestSubmit());
  more.addEventListener("click", () => load(false));
  load(true);
})();
