"""Win rates over bands of a numeric input: round band edges chosen from the data, Wilson intervals, the clearest split."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

from sdi.triggers.calibrate import wilson_low

MIN_BAND = 5  # a band with fewer closed opportunities is merged into its neighbour
MIN_SIDE = 10  # each side of a suggested threshold needs this many closed opportunities
TARGET_BANDS = 6
NICE = (1.0, 2.0, 2.5, 5.0, 10.0)


def rate(won: int, n: int) -> dict[str, Any]:
    """n, won, win rate and its 95 % Wilson interval."""
    return {"n": n, "won": won, "win_rate": round(won / n, 4) if n else None,
            "ci_low": round(max(0.0, wilson_low(won, n)), 4) if n else None,
            "ci_high": round(min(1.0, 1 - wilson_low(n - won, n)), 4) if n else None}


def fmt_num(x: float) -> str:
    """A band edge as people write it (12, 2.5, 1,500)."""
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.4g}"


def nice_step(span: float, integral: bool) -> float:
    """A round step (1, 2, 2.5, 5 × 10^k) that cuts the span into about TARGET_BANDS bands."""
    raw = span / TARGET_BANDS if span > 0 else 1.0
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in NICE if m * power >= raw)
    return max(step, 1.0) if integral else step


@dataclass
class Band:
    """Closed opportunities with lo < value <= hi (the first band also holds lo itself)."""

    lo: float
    hi: float
    n: int = 0
    won: int = 0

    def to_dict(self, unit: str | None) -> dict[str, Any]:
        """The band with its label and rate."""
        label = f"{fmt_num(self.lo)}–{fmt_num(self.hi)}" if self.hi != self.lo else fmt_num(self.lo)
        return {"lo": self.lo, "hi": self.hi, "label": label + (f" {unit}" if unit else ""), **rate(self.won, self.n)}


def make_bands(points: Sequence[tuple[float, bool]]) -> list[Band]:
    """Round-edged bands over (value, won) points, each with at least MIN_BAND points where the data allows."""
    if not points:
        return []
    values = [v for v, _ in points]
    low, high = min(values), max(values)
    if low == high:
        return [Band(low, high, len(points), sum(w for _, w in points))]
    step = nice_step(high - low, all(float(v).is_integer() for v in values))
    start = math.floor(low / step) * step
    edges = [start]
    while edges[-1] < high:
        edges.append(round(edges[-1] + step, 10))
    bands = [Band(a, b) for a, b in zip(edges, edges[1:])]
    for v, won in points:
        i = next((i for i, b in enumerate(bands) if v <= b.hi), len(bands) - 1)
        bands[i].n += 1
        bands[i].won += int(won)
    return _merge_small([b for b in bands if b.n] or bands[:1])


def _merge_small(bands: list[Band]) -> list[Band]:
    while len(bands) > 1:
        small = [i for i, b in enumerate(bands) if b.n < MIN_BAND]
        if not small:
            break
        i = min(small, key=lambda k: bands[k].n)
        j = i - 1 if i == len(bands) - 1 or (i > 0 and bands[i - 1].n <= bands[i + 1].n) else i + 1
        a, b = sorted((i, j))
        bands[a:b + 1] = [Band(bands[a].lo, bands[b].hi, bands[a].n + bands[b].n, bands[a].won + bands[b].won)]
    return bands


def best_split(bands: list[Band]) -> dict[str, Any] | None:
    """The band edge where the win rates below and above differ most clearly (95 % Wilson intervals apart), or None."""
    best: tuple[float, dict[str, Any]] | None = None
    for k in range(1, len(bands)):
        left, right = bands[:k], bands[k:]
        ln, lw = sum(b.n for b in left), sum(b.won for b in left)
        rn, rw = sum(b.n for b in right), sum(b.won for b in right)
        if ln < MIN_SIDE or rn < MIN_SIDE:
            continue
        below, above = rate(lw, ln), rate(rw, rn)
        apart = below["ci_low"] > above["ci_high"] or above["ci_low"] > below["ci_high"]
        if not apart:
            continue
        pooled = (lw + rw) / (ln + rn)
        z = abs(lw / ln - rw / rn) / math.sqrt(pooled * (1 - pooled) * (1 / ln + 1 / rn))
        if best is None or z > best[0]:
            best = (z, {"at": bands[k].lo, "low": bands[0].lo, "high": bands[-1].hi, "below": below, "above": above,
                        "z": round(z, 2)})
    return best[1] if best else None
