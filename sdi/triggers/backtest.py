"""Back-test the rules on imported history: replay as-of dates (each sees only records dated on or before it) and
score every rule against a target that follows within a window (failure events, or opportunities won).

Definitions (README "Back-test"): an alert is a (rule, machine, as-of date) on which the rule fired; it is a hit when
a target happens on that machine in (as-of, as-of + window days]. precision = hits / alerts. A target is scored
when some replayed date had its machine in the base and the target in that date's window; recall = scored targets
preceded by an alert of the rule within that window / scored targets. base rate = share of (machine in the base,
date) pairs followed by a target within the window; lift = precision / base rate. Lead time of a caught target =
days from the first date of the run of consecutive alerting dates that holds the last alert before it. Dates whose
window runs past the data's end (its as-of date) are neither replayed nor scored: their misses are not known yet.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any, Callable

from sdi.errors import SdiError
from sdi.store import MachineFile
from sdi.triggers.engine import prepare
from sdi.triggers.facts import base_machines_sql, connected_sql, d
from sdi.triggers.rules import RulesFile

TARGETS = ("event", "won")
ANY_RULE = "(any rule)"
MAX_DAYS = 3650
KIND = re.compile(r"[\w-]{1,40}")
MAX_DATES = 400


@dataclass(frozen=True)
class Spec:
    """What to replay and what counts as a target."""

    start: date
    end: date
    step: int = 7
    window: int = 14
    target: str = "event"  # 'event': events of `kinds`; 'won': an outcome 'won' on an opportunity of the machine
    kinds: tuple[str, ...] = ("failure",)

    def dates(self) -> list[date]:
        """The replayed as-of dates: start, start + step, … up to end."""
        count = (self.end - self.start).days // self.step + 1
        return [self.start + timedelta(days=self.step * i) for i in range(count)]

    def label(self) -> str:
        """The target in words."""
        return "opportunity won" if self.target == "won" else "event of kind " + " or ".join(self.kinds)


@dataclass
class RuleScore:
    """One rule's figures over the scored dates."""

    rule_id: str
    alerts: int
    hits: int
    precision: float | None
    recall: float | None
    lift: float | None
    caught: int
    median_lead_days: float | None


@dataclass
class Backtest:
    """The result: per-rule scores and the totals they rest on."""

    spec: Spec
    horizon: date
    dates: int
    dates_scored: int
    machines: int
    pairs: int
    pairs_followed: int
    targets: int
    targets_scored: int
    rules: list[RuleScore] = field(default_factory=list)

    @property
    def base_rate(self) -> float | None:
        """Share of (machine, date) pairs followed by a target within the window."""
        return self.pairs_followed / self.pairs if self.pairs else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        s = self.spec
        return {"target": s.target, "target_kinds": list(s.kinds) if s.target == "event" else [],
                "target_label": s.label(), "window_days": s.window, "step_days": s.step,
                "from": s.start.isoformat(), "to": s.end.isoformat(), "horizon": self.horizon.isoformat(),
                "dates": self.dates, "dates_scored": self.dates_scored, "machines": self.machines,
                "pairs": self.pairs, "pairs_followed": self.pairs_followed, "base_rate": _r(self.base_rate),
                "targets": self.targets, "targets_scored": self.targets_scored,
                "rules": [asdict(r) for r in self.rules]}


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def check_spec(spec: Spec) -> None:
    """Refuse impossible parameters with a hint."""
    if not 0 < spec.window <= MAX_DAYS:
        raise SdiError(f"--window must be 1 to {MAX_DAYS} days (got {spec.window})", "e.g. --window 14")
    if not 0 < spec.step <= MAX_DAYS:
        raise SdiError(f"--step must be 1 to {MAX_DAYS} days (got {spec.step})", "e.g. --step 7 for weekly dates")
    if spec.start > spec.end:
        raise SdiError(f"--from {spec.start} is after --to {spec.end}", "swap them, or move --from back")
    if (spec.end - spec.start).days // spec.step >= MAX_DATES:
        raise SdiError(f"more than {MAX_DATES} as-of dates from {spec.start} to {spec.end} every {spec.step} days",
                       "use a larger --step or a shorter span")
    if spec.target not in TARGETS:
        raise SdiError(f"unknown target {spec.target!r}", f"use one of {', '.join(TARGETS)}")
    if spec.target == "event" and not spec.kinds:
        raise SdiError("no target event kind given", "e.g. --target-kind failure")
    if not all(KIND.fullmatch(k) for k in spec.kinds):
        raise SdiError(f"not an event kind: {', '.join(spec.kinds)!r}", "letters, digits, '-' and '_', e.g. failure")


def horizon(db: MachineFile, spec: Spec) -> date:
    """The last day the data can speak for: the data's as-of date, else its last event; outcomes are recorded as
    they happen, so for `won` it runs to today."""
    stored = db.get_meta("data_as_of")
    end = date.fromisoformat(stored) if stored else db.scalar("SELECT CAST(max(timestamp) AS DATE) FROM events")
    if spec.target == "won":
        return max(end or date.min, date.today())
    return end or date.today()


def _target_sql(spec: Spec) -> str:
    """serial, ts, target_id of every target record."""
    if spec.target == "won":
        return ("SELECT o.serial, x.recorded_at AS ts, 'outcome:' || x.id AS target_id FROM outcomes x "
                "JOIN opportunities o ON o.id = x.opportunity_id WHERE x.result = 'won'")
    kinds = ", ".join(f"'{k}'" for k in spec.kinds)  # check_spec allows word characters only
    return f"SELECT serial, timestamp AS ts, 'event:' || event_id AS target_id FROM events WHERE kind IN ({kinds})"


def _enabled(rules: RulesFile) -> list[Any]:
    """The registered rules the rules file enables, in run order."""
    return [r for r in rules.registered if rules.rules[r.rule_id].enabled]


def replay(db: MachineFile, rules: RulesFile, dates: list[date]) -> None:
    """Fill the replay tables (`replay_dates`) and _bt_alerts with every enabled rule's alerts, in one transaction."""
    with db.transaction():
        replay_dates(db, dates)
        for rule in _enabled(rules):
            replay_rule(db, rules, rule, dates)


def replay_dates(db: MachineFile, dates: list[date]) -> None:
    """Temp tables _bt_dates, _bt_base (as_of, the machines in service and their facts), _bt_conn (as_of, serial)
    and an empty _bt_alerts (rule_id, as_of, serial)."""
    db.execute("CREATE OR REPLACE TEMP TABLE _bt_dates AS SELECT unnest(CAST(? AS DATE[])) AS as_of", [dates])
    db.execute("CREATE OR REPLACE TEMP TABLE _bt_alerts (rule_id VARCHAR, as_of DATE, serial VARCHAR)")
    for table, render in (("_bt_base", base_machines_sql), ("_bt_conn", connected_sql)):
        db.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS "
                   f"SELECT dt.as_of, q.* FROM _bt_dates dt, LATERAL ({over_dates(render)}) q")


def replay_rule(db: MachineFile, rules: RulesFile, rule: Any, dates: list[date], label: str | None = None) -> None:
    """Add one rule's alerts on every date to _bt_alerts (as `label`, default its id): the very SQL `detect` runs,
    once for all dates (a LATERAL join on the dates), so each date sees nothing after it."""
    label = (label or rule.rule_id).replace("'", "''")
    fired = "AS q(serial, status, c, m, s, f) WHERE status = 'fired'"
    query = over_dates(lambda day: rule.sql(rules, day))
    if query is not None:
        db.execute(f"INSERT INTO _bt_alerts SELECT DISTINCT '{label}', dt.as_of, q.serial "
                   f"FROM _bt_dates dt, LATERAL ({query}) {fired}")
        return
    for day in dates:  # a rule that uses the date other than as a SQL literal: one run per date
        prepare(db, day)
        db.execute(f"INSERT INTO _bt_alerts SELECT DISTINCT '{label}', {d(day)}, q.serial "
                   f"FROM ({rule.sql(rules, day)}) {fired}")


def over_dates(render: Callable[[date], str]) -> str | None:
    """`render(day)` as one query for every date of _bt_dates: the day's SQL literal becomes the column dt.as_of and
    _base/_conn that date's rows of _bt_base/_bt_conn. None when the query uses the date other than as a literal."""
    one, two = date(2000, 1, 3), date(2001, 2, 5)
    query = render(one).replace(d(one), "dt.as_of")
    if query != render(two).replace(d(two), "dt.as_of"):
        return None
    return re.sub(r"\b(_base|_conn)\b", r"(SELECT * EXCLUDE (as_of) FROM _bt\1 WHERE _bt\1.as_of = dt.as_of)", query)


def alerts_on(db: MachineFile, day: date) -> set[tuple[str, str]]:
    """(rule_id, serial) alerts the replay recorded for one date (after `replay`)."""
    return set(db.sql(f"SELECT rule_id, serial FROM _bt_alerts WHERE as_of = {d(day)}"))


def _score_sql(rule_ids: list[str], any_rule: bool = True) -> str:
    """One query: per rule (and any rule) alerts, hits, caught targets and median lead, over the scored dates."""
    labels = [*rule_ids, ANY_RULE] if any_rule else rule_ids
    order = ", ".join(f"('{r.replace(chr(39), chr(39) * 2)}', {i})" for i, r in enumerate(labels))
    return f"""
    WITH ix AS (SELECT as_of, row_number() OVER (ORDER BY as_of) AS k FROM (SELECT DISTINCT as_of FROM _bt_base)),
    pair_tgt AS (SELECT * FROM _bt_pairs),
    alerts AS (
        SELECT rule_id, as_of, serial FROM _bt_alerts
        {f"UNION ALL SELECT DISTINCT '{ANY_RULE}', as_of, serial FROM _bt_alerts" if any_rule else ""}),
    runs AS (
        SELECT a.*, ix.k - row_number() OVER (PARTITION BY a.rule_id, a.serial ORDER BY a.as_of) AS run
        FROM alerts a JOIN ix USING (as_of)),
    run_start AS (
        SELECT *, min(as_of) OVER (PARTITION BY rule_id, serial, run) AS first_alert FROM runs),
    followed AS (SELECT DISTINCT as_of, serial FROM pair_tgt),
    hit AS (
        SELECT a.rule_id, count(*) AS alerts, count(f.serial) AS hits
        FROM alerts a LEFT JOIN followed f USING (as_of, serial) GROUP BY a.rule_id),
    caught AS (
        SELECT r.rule_id, p.target_id, arg_max(r.first_alert, r.as_of) AS first_alert, any_value(p.ts) AS ts
        FROM pair_tgt p JOIN run_start r ON r.as_of = p.as_of AND r.serial = p.serial
        GROUP BY r.rule_id, p.target_id),
    lead AS (
        SELECT rule_id, count(*) AS caught, median(date_diff('day', first_alert, CAST(ts AS DATE))) AS lead
        FROM caught GROUP BY rule_id),
    rules(rule_id, pos) AS (VALUES {order})
    SELECT rules.rule_id, coalesce(alerts, 0), coalesce(hits, 0), coalesce(caught, 0), lead
    FROM rules LEFT JOIN hit USING (rule_id) LEFT JOIN lead USING (rule_id) ORDER BY pos"""


def _pairs_sql(window: int) -> str:
    """Every (date, machine in the base) pair with a target in (as-of, as-of + window]: as_of, serial, target_id, ts."""
    return f"""
    SELECT DISTINCT b.as_of, b.serial, t.target_id, t.ts FROM _bt_base b JOIN _bt_target t
    ON t.serial = b.serial AND t.ts >= b.as_of + INTERVAL 1 DAY AND t.ts < b.as_of + INTERVAL ({window + 1}) DAY"""


TOTALS_SQL = """
    WITH b AS (SELECT * FROM _bt_base), followed AS (SELECT * FROM _bt_pairs)
    SELECT (SELECT count(DISTINCT as_of) FROM b), (SELECT count(DISTINCT serial) FROM b), (SELECT count(*) FROM b),
           (SELECT count(*) FROM (SELECT DISTINCT as_of, serial FROM followed)),
           (SELECT count(DISTINCT target_id) FROM followed)"""


def require_targets(db: MachineFile, spec: Spec) -> None:
    """Fill _bt_target (serial, ts, target_id); refuse a target the data never shows."""
    db.execute(f"CREATE OR REPLACE TEMP TABLE _bt_target AS {_target_sql(spec)}")
    if db.scalar("SELECT count(*) FROM _bt_target"):
        return
    if spec.target == "won":
        raise SdiError("nothing to back-test against: no opportunity has been recorded as won",
                       "record outcomes first (POST /api/opportunities/{id}/outcome), or use --target event")
    kinds = ", ".join(r[0] for r in db.sql("SELECT DISTINCT kind FROM events ORDER BY 1"))
    raise SdiError(f"nothing to back-test against: no events of kind {' or '.join(spec.kinds)}",
                   f"event kinds in the data: {kinds or 'none'}; use --target-kind with one of them")


def run_backtest(db: MachineFile, rules: RulesFile, spec: Spec) -> Backtest:
    """Replay every date, then score all rules at once."""
    end, dates, scored_dates = plan(db, spec)
    replay(db, rules, scored_dates)
    return score(db, spec, end, dates, scored_dates, [r.rule_id for r in _enabled(rules)])


def plan(db: MachineFile, spec: Spec) -> tuple[date, list[date], list[date]]:
    """Check the spec and fill _bt_target; the data's end, the dates asked for and those with a full window."""
    check_spec(spec)
    require_targets(db, spec)
    end = horizon(db, spec)
    dates = spec.dates()
    last_scored = end - timedelta(days=spec.window)
    if dates[0] > last_scored:
        raise SdiError(f"no as-of date has a full {spec.window}-day window before the data ends ({end})",
                       f"use --to {last_scored} or earlier, or a shorter --window")
    return end, dates, [x for x in dates if x <= last_scored]


def score(db: MachineFile, spec: Spec, end: date, dates: list[date], scored_dates: list[date], labels: list[str],
          any_rule: bool = True) -> Backtest:
    """Score the alerts of each label in _bt_alerts (and of any of them) against the targets, in one query."""
    db.execute(f"CREATE OR REPLACE TEMP TABLE _bt_pairs AS {_pairs_sql(spec.window)}")  # read by both queries below
    days, machines, pairs, followed, scored = db.one(TOTALS_SQL) or (0, 0, 0, 0, 0)
    in_period = db.scalar(f"SELECT count(*) FROM _bt_target WHERE ts >= {d(dates[0])} + INTERVAL 1 DAY "
                          f"AND ts < {d(scored_dates[-1])} + INTERVAL ({spec.window + 1}) DAY")
    result = Backtest(spec, end, len(dates), days, machines, pairs, followed, in_period, scored)
    base = result.base_rate
    for rule_id, alerts, hits, caught, lead in db.sql(_score_sql(labels, any_rule)):
        precision = hits / alerts if alerts else None
        result.rules.append(RuleScore(
            rule_id, alerts, hits, _r(precision), _r(caught / scored) if scored else None,
            _r(precision / base) if precision is not None and base else None, caught,
            None if lead is None else float(lead)))
    return result


def parse_kinds(target_kind: str) -> tuple[str, ...]:
    """--target-kind's comma-separated event kinds, lower-case."""
    return tuple(k.strip().lower() for k in target_kind.split(",") if k.strip())


def build_spec(db: MachineFile, target_kind: str = "failure", target: str = "event", window: int = 14,
               start: date | None = None, end: date | None = None, step: int = 7) -> Spec:
    """A Spec from user input: comma-separated kinds; a missing --from/--to from `default_span`."""
    spec = Spec(start or date.min, end or date.min, step, window, target, parse_kinds(target_kind))
    if start is None or end is None:
        first, last = default_span(db, spec)
        spec = dataclasses.replace(spec, start=start or first, end=end or last)
    return spec


def default_span(db: MachineFile, spec: Spec, dates: int = 52) -> tuple[date, date]:
    """--to: the last date with a full window before the data ends; --from: `dates` steps before it."""
    check_spec(dataclasses.replace(spec, start=date.min, end=date.min))
    require_targets(db, spec)
    try:
        end = horizon(db, spec) - timedelta(days=spec.window)
        return end - timedelta(days=spec.step * (dates - 1)), end
    except OverflowError as exc:
        raise SdiError("the data's dates leave no room for a back-test", "give --from and --to") from exc


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.2f}%"


def render(result: Backtest) -> str:
    """The text table: a row per rule, then the totals."""
    s = result.spec
    lines = [f"Back-test: target = {s.label()} within {s.window} days after an as-of date; "
             f"{result.dates_scored} of {result.dates} dates ({s.start} .. {s.end}, every {s.step} days) scored, "
             f"data ends {result.horizon}",
             f"{'rule':<18} {'alerts':>8} {'hits':>6} {'precision':>9} {'recall':>7} {'base rate':>9} {'lift':>6} "
             f"{'median lead d':>13}"]
    for r in result.rules:
        lift = "-" if r.lift is None else f"{r.lift:.2f}"
        lead = "-" if r.median_lead_days is None else f"{r.median_lead_days:g}"
        lines.append(f"{r.rule_id:<18} {r.alerts:>8,} {r.hits:>6,} {_pct(r.precision):>9} {_pct(r.recall):>7} "
                     f"{_pct(result.base_rate):>9} {lift:>6} {lead:>13}")
    lines.append(f"totals: {result.dates_scored} dates, {result.machines:,} machines, {result.pairs:,} machine-dates "
                 f"({result.pairs_followed:,} followed by a target), {result.targets_scored:,} target events scored "
                 f"({result.targets:,} in the period)")
    if result.dates_scored < result.dates:
        lines.append(f"{result.dates - result.dates_scored} date(s) after {result.horizon - timedelta(days=s.window)} "
                     f"left out: their {s.window}-day window runs past the data's end")
    return "\n".join(lines)
