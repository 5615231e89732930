// A small SVG line chart (no library): a daily series with min/max labels and the first/last dates.
"use strict";
const Plot = (() => {
  const node = SDI.svg;
  /** series: [[isoDate, value], …] */
  function line(series, title, unit) {
    const W = 360, H = 150, L = 44, R = 8, T = 18, B = 22;
    const svg = node("svg", { viewBox: `0 0 ${W} ${H}`, class: "plot", role: "img", "aria-label": title });
    svg.append(node("text", { x: L, y: 12 }, `${title}${unit ? " (" + unit + ")" : ""}`));
    const pts = series.filter((p) => p[1] !== null && !Number.isNaN(Number(p[1])));
    if (pts.length < 2) { svg.append(node("text", { x: L, y: H / 2 }, "not enough data")); return svg; }
    const vals = pts.map((p) => Number(p[1]));
    let lo = Math.min(...vals), hi = Math.max(...vals);
    if (hi === lo) { hi += 1; lo -= 1; }
    const x = (i) => L + (i / (pts.length - 1)) * (W - L - R);
    const y = (v) => T + (1 - (v - lo) / (hi - lo)) * (H - T - B);
    svg.append(node("line", { x1: L, y1: T, x2: L, y2: H - B, class: "axis" }), node("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, class: "axis" }));
    svg.append(node("text", { x: 2, y: T + 4 }, hi.toFixed(hi < 10 ? 2 : 0)), node("text", { x: 2, y: H - B }, lo.toFixed(lo < 10 ? 2 : 0)));
    svg.append(node("text", { x: L, y: H - 6 }, pts[0][0]), node("text", { x: W - R - 62, y: H - 6 }, pts[pts.length - 1][0]));
    svg.append(node("polyline", { class: "line", points: pts.map((p, i) => `${x(i).toFixed(1)},${y(Number(p[1])).toFixed(1)}`).join(" ") }));
    return svg;
  }
  return { line };
})();
