"""Calibrate the rules on a fleet's own history (`sdi rules suggest`): search each rule's numeric params on a
training period, fit a precursor rule (which event codes and telemetry excursions came before the target), and
validate both on the period after it. Every figure is a back-test score (sdi/triggers/backtest.py): the candidates'
alerts go into one alerts table and one query scores them all.

Choice (README "Calibration"): a candidate needs `min_alerts` alerts on the training period; candidates are ranked
by the lower bound of the 95 % Wilson interval of their precision (a few lucky hits do not win). A param change is
kept when it beats the current value on that bound in training, and on the validation period by 10 % in precision
and better than random alerting (lift above 1); a precursor signal when its validation lift is at least `MIN_LIFT`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Callable

import yaml

from sdi.errors import SdiError
from sdi.store import MachineFile
from sdi.triggers.backtest import (Backtest, RuleScore, Spec, check_spec, horizon, parse_kinds, plan, replay_dates,
                                   replay_rule, score)
from sdi.triggers.rules import RulesFile
from sdi.triggers.rules.precursor import Signal

MULTIPLIERS = (0.5, 0.75, 1.25, 1.5, 2.0)
WINDOWS = (7, 14, 30)
COUNTS = (1, 2, 3)
QUANTILES = (0.95, 0.99)
MIN_LIFT = 2.0
PRECURSOR = "precursor"


@dataclass
class Change:
    """A param value tried for a rule, with its scores next to the current value's."""

    rule_id: str
    param: str
    current: Any
    suggested: Any
    train_current: RuleScore
    train: RuleScore
    validation_current: RuleScore | None = None
    validation: RuleScore | None = None
    kept: bool = False


@dataclass
class Fit:
    """A precursor signal fitted on the training period and checked after it."""

    signal: Signal
    train: RuleScore
    validation: RuleScore | None = None
    kept: bool = False


@dataclass
class Calibration:
    """What `sdi rules suggest` found, and the rules file it suggests."""

    train: Backtest
    validation: Backtest
    min_alerts: int
    changes: list[Change] = field(default_factory=list)
    fits: list[Fit] = field(default_factory=list)
    precursor: RuleScore | None = None  # the fitted precursor rule (kept signals) on the validation period
    suggested: RulesFile | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        def period(b: Backtest) -> dict[str, Any]:
            return {"from": b.spec.start.isoformat(), "to": b.spec.end.isoformat(), "dates": b.dates_scored,
                    "base_rate": b.base_rate and round(b.base_rate, 4), "targets": b.targets_scored}

        return {"target": self.train.spec.label(), "window_days": self.train.spec.window, "min_alerts": self.min_alerts,
                "train": period(self.train), "validation": period(self.validation),
                "changes": [{**dataclasses.asdict(c), "text": change_text(c, self)} for c in self.changes],
                "signals": [{"signal": f.signal.model_dump(exclude_none=True), "train": dataclasses.asdict(f.train),
                             "validation": f.validation and dataclasses.asdict(f.validation), "kept": f.kept,
                             "text": signal_text(f, self)} for f in self.fits],
                "precursor_validation": self.precursor and dataclasses.asdict(self.precursor)}


def wilson_low(hits: int, alerts: int, z: float = 1.96) -> float:
    """Lower bound of the Wilson score interval of a precision (0 without alerts)."""
    if not alerts:
        return 0.0
    p = hits / alerts
    centre = p + z * z / (2 * alerts)
    margin = z * math.sqrt(p * (1 - p) / alerts + z * z / (4 * alerts * alerts))
    return (centre - margin) / (1 + z * z / alerts)


def periods(db: MachineFile, kinds: str, window: int, train_from: date, train_to: date, step: int) -> tuple[Spec, Spec]:
    """The training spec and the validation spec after it (to the last date with a full window)."""
    train = Spec(train_from, train_to, step, window, "event", parse_kinds(kinds))
    check_spec(train)
    end = horizon(db, train) - timedelta(days=window)
    start = train_to + timedelta(days=step)
    if start > end:
        raise SdiError(f"no period after --train-to {train_to} to validate on (the last date with a full "
                       f"{window}-day window is {end})", f"use --train-to {end - timedelta(days=28)} or earlier")
    return train, dataclasses.replace(train, start=start, end=end)


def _candidates(rules: RulesFile, rule_id: str) -> list[tuple[str, Any, Any]]:
    """(param, current, candidate) for each numeric param of a rule: the current value times each multiplier."""
    rule, params = rules.rule(rule_id), rules.rules[rule_id].params
    out = []
    for name, info in rule.params.model_fields.items():
        current = params.get(name, info.default)
        if info.annotation not in (int, float) or isinstance(current, bool) or not isinstance(current, (int, float)):
            continue
        seen = {current}
        for m in MULTIPLIERS:
            value = round(current * m) if info.annotation is int else round(current * m, 3)
            if value in seen:
                continue
            seen.add(value)
            try:
                rule.params(**{**params, name: value})
            except ValueError:  # pydantic's ValidationError: outside the param's bounds
                continue
            out.append((name, current, value))
    return out


def _label(rule_id: str, param: str, value: Any) -> str:
    return f"{rule_id}|{param}={value}"


def _signal_candidates_sql(kinds: tuple[str, ...]) -> str:
    """Alerts of every (event code, window, count) and (metric above a fleet quantile, window, count) candidate on
    the dates of _bt_base, labelled `precursor|…`, with the same window as the precursor rule's SQL."""
    target = ", ".join(f"'{k}'" for k in kinds)  # word characters only (check_spec)
    longest, windows, counts = max(WINDOWS), ", ".join(f"({w})" for w in WINDOWS), ", ".join(f"({k})" for k in COUNTS)
    return f"""
    WITH ws(w) AS (VALUES {windows}), ks(k) AS (VALUES {counts}),
    ev AS (
        SELECT b.as_of, e.serial, e.code, date_diff('day', CAST(e.timestamp AS DATE), b.as_of) AS age
        FROM _bt_base b JOIN events e ON e.serial = b.serial
        WHERE e.code IS NOT NULL AND e.kind NOT IN ({target}) AND e.timestamp < b.as_of + INTERVAL 1 DAY
          AND e.timestamp >= b.as_of + INTERVAL 1 DAY - INTERVAL ({longest}) DAY),
    ev_n AS (SELECT as_of, serial, code, w, count(*) AS n FROM ev JOIN ws ON age < w GROUP BY ALL),
    lim AS (SELECT metric, q.level FROM _cal_levels q),
    tm AS (
        SELECT b.as_of, t.serial, t.metric, lim.level, date_diff('day', CAST(t.timestamp AS DATE), b.as_of) AS age
        FROM _bt_base b JOIN telemetry t ON t.serial = b.serial JOIN lim ON lim.metric = t.metric AND t.value > lim.level
        WHERE t.timestamp < b.as_of + INTERVAL 1 DAY AND t.timestamp >= b.as_of + INTERVAL 1 DAY - INTERVAL ({longest}) DAY),
    tm_n AS (SELECT as_of, serial, metric, level, w, count(*) AS n FROM tm JOIN ws ON age < w GROUP BY ALL)
    SELECT 'precursor|code=' || code || '|w=' || w || '|k=' || k, as_of, serial FROM ev_n JOIN ks ON n >= k
    UNION ALL
    SELECT 'precursor|metric=' || metric || '|above=' || level || '|w=' || w || '|k=' || k, as_of, serial
    FROM tm_n JOIN ks ON n >= k"""


def _levels(db: MachineFile, train: Spec) -> None:
    """_cal_levels (metric, level): each telemetry metric's fleet quantiles over the training period."""
    qs = ", ".join(str(q) for q in QUANTILES)
    db.execute(f"""CREATE OR REPLACE TEMP TABLE _cal_levels AS
        SELECT metric, round(unnest(quantile_cont(value, [{qs}])), 3) AS level FROM telemetry
        WHERE timestamp >= DATE '{train.start - timedelta(days=max(WINDOWS))}' AND timestamp < DATE '{train.end}'
        GROUP BY metric""")


def _signal(label: str) -> Signal:
    """The Signal a `precursor|…` label stands for."""
    parts = dict(p.split("=", 1) for p in label.split("|")[1:])
    common = {"window_days": int(parts["w"]), "min_count": int(parts["k"])}
    if "code" in parts:
        return Signal(code=parts["code"], **common)
    return Signal(metric=parts["metric"], above=float(parts["above"]), **common)


def _scores(result: Backtest) -> dict[str, RuleScore]:
    return {r.rule_id: r for r in result.rules}


def _rank(s: RuleScore) -> tuple[float, int]:
    return wilson_low(s.hits, s.alerts), s.alerts


def _train(db: MachineFile, rules: RulesFile, spec: Spec, tries: dict[str, tuple[str, str, Any]]) -> Backtest:
    """Score the current rules, every param candidate and every precursor candidate on the training dates."""
    def fill(scored: list[date]) -> list[str]:
        enabled = [r for r in rules.registered if rules.rules[r.rule_id].enabled and r.rule_id != PRECURSOR]
        for rule in enabled:
            replay_rule(db, rules, rule, scored)
            for param, _, value in _candidates(rules, rule.rule_id):
                label = _label(rule.rule_id, param, value)
                tries[label] = (rule.rule_id, param, value)
                variant = rules.with_params(rule.rule_id, {**rules.rules[rule.rule_id].params, param: value})
                replay_rule(db, variant, rule, scored, label)
        _levels(db, spec)
        db.execute(f"INSERT INTO _bt_alerts {_signal_candidates_sql(spec.kinds)}")
        return [r[0] for r in db.sql("SELECT DISTINCT rule_id FROM _bt_alerts ORDER BY 1")]

    return _replayed(db, spec, fill)


def _best_signals(train: dict[str, RuleScore], min_alerts: int, most: int) -> list[Fit]:
    """The best candidate per code or metric (lift ≥ MIN_LIFT, ≥ min_alerts alerts), then the `most` best."""
    best: dict[str, RuleScore] = {}
    for label, s in train.items():
        if not label.startswith(PRECURSOR + "|") or s.alerts < min_alerts or not s.lift or s.lift < MIN_LIFT:
            continue
        key = label.split("|")[1].split("=", 1)[1]
        if key not in best or _rank(s) > _rank(best[key]):
            best[key] = s
    chosen = sorted(best.values(), key=_rank, reverse=True)[:most]
    return [Fit(_signal(s.rule_id), s) for s in chosen]


def _best_changes(rules: RulesFile, train: dict[str, RuleScore], tries: dict[str, tuple[str, str, Any]],
                  min_alerts: int) -> list[Change]:
    """Per rule, the candidate that beats the current value most on the training period, if any does."""
    out = []
    for rule_id in [r.rule_id for r in rules.registered if r.rule_id in train]:
        current = train[rule_id]
        options = [(train[label], param, value) for label, (rid, param, value) in tries.items()
                   if rid == rule_id and label in train and train[label].alerts >= min_alerts]
        if not options:
            continue
        s, param, value = max(options, key=lambda o: _rank(o[0]))
        if _rank(s) > _rank(current):
            out.append(Change(rule_id, param, rules.rules[rule_id].params.get(param), value, current, s))
    return out


def _with_signals(rules: RulesFile, fits: list[Fit], calibration: Calibration) -> RulesFile:
    """The rules with the precursor rule holding these fits' signals, each with what was measured as evidence."""
    signals = [f.signal.model_copy(update={"fitted": _evidence(f, calibration)}).model_dump(exclude_none=True)
               for f in fits]
    params = {**rules.rules[PRECURSOR].params, "target": calibration.train.spec.label().removeprefix("event of kind "),
              "signals": signals}
    return rules.with_params(PRECURSOR, params)


def _evidence(f: Fit, c: Calibration) -> dict[str, Any]:
    """What calibration measured for a signal (stored in the rules file; the trigger shows it)."""
    out = {"train_from": c.train.spec.start.isoformat(), "train_to": c.train.spec.end.isoformat(),
           "target_window_days": c.train.spec.window, "alerts": f.train.alerts, "precision": f.train.precision,
           "base_rate": c.train.base_rate and round(c.train.base_rate, 4), "lift": f.train.lift,
           "median_lead_days": f.train.median_lead_days}
    if f.validation is not None:
        out.update({"validation_from": c.validation.spec.start.isoformat(),
                    "validation_to": c.validation.spec.end.isoformat(), "validation_alerts": f.validation.alerts,
                    "validation_precision": f.validation.precision, "validation_lift": f.validation.lift})
    return out


def _validate(db: MachineFile, rules: RulesFile, spec: Spec, changes: list[Change], fits: list[Fit],
              calibration: Calibration) -> Backtest:
    """Score the current rules, the changes and each signal alone after the training period."""
    def fill(scored: list[date]) -> list[str]:
        labels = []
        for c in changes:
            rule = rules.rule(c.rule_id)
            replay_rule(db, rules, rule, scored)
            variant = rules.with_params(c.rule_id, {**rules.rules[c.rule_id].params, c.param: c.suggested})
            replay_rule(db, variant, rule, scored, _label(c.rule_id, c.param, c.suggested))
            labels += [c.rule_id, _label(c.rule_id, c.param, c.suggested)]
        for k, f in enumerate(fits):
            one = _with_signals(rules, [f], calibration)
            replay_rule(db, one, one.rule(PRECURSOR), scored, f"{PRECURSOR}#{k}")
            labels.append(f"{PRECURSOR}#{k}")
        return labels

    return _replayed(db, spec, fill)


def _validate_precursor(db: MachineFile, rules: RulesFile, spec: Spec) -> RuleScore:
    """The precursor rule of a rules file, scored on the validation period."""
    def fill(scored: list[date]) -> list[str]:
        replay_rule(db, rules, rules.rule(PRECURSOR), scored)
        return [PRECURSOR]

    return _replayed(db, spec, fill).rules[0]


def _replayed(db: MachineFile, spec: Spec, fill: Callable[[list[date]], list[str]]) -> Backtest:
    """Replay the spec's dates, let `fill` add labelled alerts (returning the labels) and score them, in one
    transaction."""
    end, dates, scored = plan(db, spec)
    with db.transaction():
        replay_dates(db, scored)
        return score(db, spec, end, dates, scored, fill(scored), any_rule=False)


def suggest(db: MachineFile, rules: RulesFile, train_spec: Spec, validation_spec: Spec, min_alerts: int = 20,
            max_signals: int = 3) -> Calibration:
    """Search params and fit precursor signals on the training period, keep what holds after it, and build the
    suggested rules file."""
    tries: dict[str, tuple[str, str, Any]] = {}
    train = _train(db, rules, train_spec, tries)
    scores = _scores(train)
    calibration = Calibration(train, train, min_alerts)
    changes = _best_changes(rules, scores, tries, min_alerts)
    fits = _best_signals(scores, min_alerts, max_signals)
    validation = _validate(db, rules, validation_spec, changes, fits, calibration)
    calibration.validation = validation
    after = _scores(validation)
    for c in changes:
        c.validation_current, c.validation = after[c.rule_id], after[_label(c.rule_id, c.param, c.suggested)]
        now, then = c.validation.precision or 0.0, c.validation_current.precision or 0.0
        better_than_random = bool(c.validation.lift and c.validation.lift > 1)
        c.kept = c.validation.alerts > 0 and now >= 1.1 * then and better_than_random
    for k, f in enumerate(fits):
        f.validation = after[f"{PRECURSOR}#{k}"]
        f.kept = bool(f.validation.lift and f.validation.lift >= MIN_LIFT)
    kept = [f for f in fits if f.kept]
    calibration.changes, calibration.fits = changes, fits
    suggested = rules
    for c in changes:
        if c.kept:
            suggested = suggested.with_params(c.rule_id, {**suggested.rules[c.rule_id].params, c.param: c.suggested})
            suggested.rules[c.rule_id].version += 1
    if kept:
        suggested = _with_signals(suggested, kept, calibration)
        suggested.rules[PRECURSOR].version += 1
        calibration.precursor = _validate_precursor(db, suggested, validation_spec)
    if suggested is not rules:
        suggested.version = f"{rules.version}-calibrated-{train_spec.end}"
    calibration.suggested = suggested
    return calibration


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f} %"


def change_text(c: Change, cal: Calibration) -> str:
    """A param change in words, with its evidence."""
    after = "" if c.validation is None else (
        f", {_pct(c.validation.precision)} after it ({c.validation.alerts} alerts; current value "
        f"{_pct(c.validation_current and c.validation_current.precision)})")
    verdict = "suggested" if c.kept else "not kept: it does not hold after the training period"
    return (f"{c.rule_id}: {c.param} {c.current:g} → {c.suggested:g}: {_pct(c.train.precision)} precision on the training "
            f"period ({c.train.alerts} alerts; current value {_pct(c.train_current.precision)}){after}, against "
            f"{_pct(cal.train.base_rate)} at random — {verdict}")


def signal_text(f: Fit, cal: Calibration) -> str:
    """A fitted signal in words, with its evidence."""
    s = f.signal
    what = f"code {s.code}" if s.code else f"{s.metric} above {s.above:g}"
    after = "" if f.validation is None else (f", {_pct(f.validation.precision)} after it ({f.validation.alerts} "
                                             f"alerts, random {_pct(cal.validation.base_rate)})")
    lead = "" if f.train.median_lead_days is None else f"; median lead {f.train.median_lead_days:g} days"
    verdict = "kept" if f.kept else f"not kept: lift after the training period below {MIN_LIFT:g}"
    return (f"alert on {what} ≥ {s.min_count} times in {s.window_days} days: {_pct(f.train.precision)} precision on "
            f"the training period ({f.train.alerts} alerts){after}, against {_pct(cal.train.base_rate)} at random"
            f"{lead} — {verdict}")


def render(cal: Calibration) -> str:
    """The text report."""
    t, v = cal.train, cal.validation
    lines = [f"Calibration: target = {t.spec.label()} within {t.spec.window} days; training {t.spec.start} .. "
             f"{t.spec.end} ({t.dates_scored} dates, base rate {_pct(t.base_rate)}), validation {v.spec.start} .. "
             f"{v.spec.end} ({v.dates_scored} dates, base rate {_pct(v.base_rate)}); candidates need "
             f"{cal.min_alerts} alerts", "", "Params:"]
    lines += [f"  {change_text(c, cal)}" for c in cal.changes] or ["  no param value beats the current one"]
    lines += ["", "Precursor signals:"]
    lines += [f"  {signal_text(f, cal)}" for f in cal.fits] or [
        f"  none: no event code or telemetry excursion reached lift {MIN_LIFT:g} with {cal.min_alerts} alerts"]
    if cal.precursor is not None:
        p = cal.precursor
        lines += ["", f"The precursor rule with these signals, after the training period: {p.alerts} alerts, "
                      f"precision {_pct(p.precision)}, lift {p.lift}, recall {_pct(p.recall)}, median lead "
                      f"{p.median_lead_days} days"]
    return "\n".join(lines)


def rules_yaml(cal: Calibration, source: str) -> str:
    """The suggested rules as a complete rules file, with a header saying where it came from."""
    assert cal.suggested is not None
    data = cal.suggested.model_dump(exclude={"sha256", "path"})
    t, v = cal.train.spec, cal.validation.spec
    head = (f"# Suggested by `sdi rules suggest` from {source}: trained {t.start} .. {t.end}, validated {v.start} .. "
            f"{v.end}, target {t.label()} within {t.window} days.\n"
            "# Review it, then apply it with `sdi rules apply FILE` (audited); nothing changes until then.\n")
    return head + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120)
