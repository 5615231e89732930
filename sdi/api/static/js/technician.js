// Shared by My machines and the machine file: what falls due next, in words, with dates in the user's locale.
"use strict";
const Tech = (() => {
  const { el, fmtNum, fmtDate } = SDI;
  /** A due date in words: "maintenance contract ends 12 Jan 2027", "maintenance overdue since 3 Mar 2026". */
  function dueText(d) {
    if (!d) return null;
    if (d.kind === "contract_end") return el("span", { class: "due" }, `${d.contract_type ? d.contract_type + " " : ""}contract ends ${fmtDate(d.date)}`);
    if (!d.estimated) return el("span", { class: "due overdue" }, `maintenance overdue since ${fmtDate(d.date)}`);
    return el("span", { class: "due" }, `maintenance due ≈ ${fmtDate(d.date)} `, el("span", { class: "est", text: `(${fmtNum(d.hours_left)} h left)` }));
  }
  return { dueText };
})();
