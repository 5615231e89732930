// Telemetry charts people read (no library): drawn at the container's own width (1 SVG unit = 1 CSS pixel, so
// 12 px labels stay 12 px on a phone), a date axis in the user's locale, the unit in the title, the rules'
// thresholds as dashed lines, error events and service visits as markers, and a legend.
"use strict";
const Plot = (() => {
  const { svg: node, el, fmtNum, fmtDate } = SDI;
  const H = 210, L = 52, R = 10, T = 26, B = 46, LANE = 12; // LANE: the marker row under the plot area
  const DAY = 86400000;

  const day = (iso) => Date.parse(`${String(iso).slice(0, 10)}T00:00:00Z`);
  const iso = (ms) => new Date(ms).toISOString().slice(0, 10);
  const digits = (span) => (span < 1 ? 3 : span < 10 ? 2 : span < 100 ? 1 : 0);

  /** About `n` round y values covering lo..hi. */
  function yTicks(lo, hi, n) {
    const raw = (hi - lo) / Math.max(1, n);
    const mag = 10 ** Math.floor(Math.log10(raw));
    const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
    const out = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(v);
    return out;
  }

  /** First days of months between a and b, thinned to at most `n`. */
  function xTicks(a, b, n) {
    const months = [];
    const d = new Date(a);
    let m = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    while (m <= b) { months.push(m); const x = new Date(m); m = Date.UTC(x.getUTCFullYear(), x.getUTCMonth() + 1, 1); }
    if (months.length <= n) return months;
    const every = Math.ceil(months.length / Math.max(1, n));
    return months.filter((_, i) => i % every === 0);
  }

  function thresholdName(t, unit) {
    const rule = SDI.RULE_LABEL[t.rule_id] || t.rule_id;
    const value = `${fmtNum(t.value, Math.abs(t.value) >= 100 ? 0 : 2)}${unit ? " " + unit : ""}`;
    if (t.rule_id === "maintenance_due") return `maintenance due at ${value}`;
    return `${rule} threshold ${value}${t.fired ? " (fired)" : ""}`;
  }

  function eventTitle(e) {
    return `${fmtDate(e.date)} · ${e.kind} ${e.code || ""}${e.severity ? " (" + e.severity + ")" : ""}${e.description ? ": " + e.description : ""}`;
  }

  function visitTitle(v) {
    return `${fmtDate(v.date)} · service visit: ${v.type || "visit"}${v.technician ? " by " + v.technician : ""}`;
  }

  /** Draw one chart `width` px wide. */
  function draw(width, c) {
    const W = Math.max(240, Math.round(width));
    const title = `${c.label}${c.unit ? " (" + c.unit + ")" : ""}`;
    const pts = c.series.filter((p) => p[1] !== null && !Number.isNaN(Number(p[1]))).map((p) => [day(p[0]), Number(p[1])]);
    const svg = node("svg", { class: "plot", width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: "img", "data-metric": c.metric });
    svg.append(node("text", { x: 0, y: 15, class: "plot-title" }, title));
    if (pts.length < 2) {
      svg.setAttribute("aria-label", `${title}: not enough data`);
      svg.append(node("text", { x: L, y: H / 2 }, "not enough data"));
      return svg;
    }
    const lines = c.thresholds || [];
    const vals = pts.map((p) => p[1]).concat(lines.map((t) => Number(t.value)));
    let lo = Math.min(...vals), hi = Math.max(...vals);
    const pad = (hi - lo) * 0.08 || Math.abs(hi) * 0.1 || 1;
    lo -= pad; hi += pad;
    const x0 = Math.min(pts[0][0], c.start ? day(c.start) : Infinity), x1 = Math.max(pts[pts.length - 1][0], c.end ? day(c.end) : -Infinity);
    const bottom = H - B;
    const x = (t) => L + ((t - x0) / Math.max(DAY, x1 - x0)) * (W - L - R);
    const y = (v) => T + (1 - (v - lo) / (hi - lo)) * (bottom - T);

    const grid = node("g", { class: "grid" });
    const ticks = yTicks(lo, hi, 4);
    const dig = digits(ticks.length > 1 ? ticks[1] - ticks[0] : hi - lo);
    for (const v of ticks) {
      grid.append(node("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "gridline" }),
        node("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end" }, fmtNum(v, dig)));
    }
    const months = xTicks(x0, x1, Math.floor((W - L - R) / 90));
    for (const m of months) {
      grid.append(node("line", { x1: x(m), x2: x(m), y1: bottom, y2: bottom + LANE + 4, class: "axis" }),
        node("text", { x: x(m), y: H - 12, "text-anchor": "middle" }, fmtDate(iso(m))));
    }
    svg.append(grid, node("line", { x1: L, y1: T, x2: L, y2: bottom, class: "axis" }),
      node("line", { x1: L, y1: bottom, x2: W - R, y2: bottom, class: "axis" }));

    for (const t of lines) {
      const g = node("g", { class: `threshold rule-${t.rule_id}${t.fired ? " fired" : ""}`, "data-value": t.value });
      const name = thresholdName(t, c.unit);
      g.append(node("title", {}, name), node("line", { x1: L, x2: W - R, y1: y(t.value), y2: y(t.value) }),
        node("text", { x: W - R - 2, y: y(t.value) - 4, "text-anchor": "end" }, name));
      svg.append(g);
    }
    svg.append(node("polyline", { class: "line", points: pts.map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(" ") }));

    const lane = bottom + LANE / 2 + 2;
    const inside = (m) => day(m.date) >= x0 && day(m.date) <= x1;
    const visits = (c.visits || []).filter(inside), events = (c.events || []).filter(inside);
    for (const v of visits) {
      const g = node("g", { class: "marker visit" });
      g.append(node("title", {}, visitTitle(v)), node("line", { x1: x(day(v.date)), x2: x(day(v.date)), y1: T, y2: bottom, class: "visit-line" }),
        node("circle", { cx: x(day(v.date)), cy: lane, r: 4.5 }));
      svg.append(g);
    }
    for (const e of events) {
      const cx = x(day(e.date));
      const g = node("g", { class: `marker event kind-${e.kind}` });
      g.append(node("title", {}, eventTitle(e)), node("path", { d: `M${cx - 5},${lane - 5} L${cx + 5},${lane - 5} L${cx},${lane + 4} Z` }));
      svg.append(g);
    }
    const last = pts[pts.length - 1];
    svg.setAttribute("aria-label", `${title} from ${fmtDate(iso(x0))} to ${fmtDate(iso(x1))}; last ${fmtNum(last[1], 2)}` +
      lines.map((t) => `; ${thresholdName(t, c.unit)}`).join("") + `; ${events.length} error events, ${visits.length} service visits`);
    return svg;
  }

  function legend(c) {
    const item = (cls, text) => el("span", { class: "legend-item" }, el("span", { class: `key ${cls}`, "aria-hidden": "true" }), text);
    const events = (c.events || []).length, visits = (c.visits || []).length;
    return el("div", { class: "plot-legend" },
      item("key-line", c.label),
      ...(c.thresholds || []).map((t) => item(`key-threshold rule-${t.rule_id}`, thresholdName(t, c.unit))),
      item("key-event", `error events (${fmtNum(events)})`),
      item("key-visit", `service visits (${fmtNum(visits)})`));
  }

  /** A figure that draws itself at its own width and redraws when that changes.
   *  c: {metric, label, unit, series: [[isoDate, value], …], thresholds, events, visits, start, end, caption} */
  function chart(c) {
    const holder = el("div", { class: "plot-holder" });
    const fig = el("figure", { class: "chart" }, holder, legend(c), c.caption ? el("figcaption", { class: "muted", text: c.caption }) : null);
    let drawn = 0;
    const render = () => {
      const w = holder.clientWidth;
      if (!w || Math.abs(w - drawn) < 4) return;
      drawn = w;
      SDI.clear(holder).append(draw(w, c));
    };
    new ResizeObserver(render).observe(holder);
    renderers.set(fig, render);
    return fig;
  }

  const renderers = new WeakMap();
  /** Draw the charts under `root` now (once they are in the page) instead of at the next frame. */
  function drawIn(root) {
    for (const fig of root.querySelectorAll("figure.chart")) (renderers.get(fig) || (() => {}))();
  }

  return { chart, draw, drawIn };
})();
