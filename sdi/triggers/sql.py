"""One set-based query per rule over the whole base. Each returns, per machine it concerns:
serial, status ('fired' | 'not_evaluable'), conditions (JSON array), missing (VARCHAR[]), source_ids (VARCHAR[]),
facts (JSON object). The engine runs them over temp tables `_base` (machines in service) and `_conn` (connected)."""

from __future__ import annotations

from datetime import date
from typing import Any, Callable

from sdi.triggers.facts import d
from sdi.triggers.rules import RulesFile


def literal(value: Any) -> str:
    """A SQL literal for a param value."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(float(value)) if isinstance(value, float) else str(value)
    if isinstance(value, list):
        return "list_value(" + ", ".join(literal(v) for v in value) + ")" if value else "CAST([] AS VARCHAR[])"
    return "'" + str(value).replace("'", "''") + "'"


class Params:
    """SQL for a rule's params, resolving per-model overrides with a CASE on the machine's model."""

    def __init__(self, rules: RulesFile, rule_id: str, model_col: str = "b.model") -> None:
        self.rules, self.rule_id, self.model_col = rules, rule_id, model_col

    def __call__(self, name: str) -> str:
        default = literal(self.rules.rules[self.rule_id].params[name])
        overrides = self.rules.overrides(self.rule_id, name)
        if not overrides:
            return default
        whens = " ".join(f"WHEN {literal(m)} THEN {literal(v)}" for m, v in overrides.items())
        return f"(CASE {self.model_col} {whens} ELSE {default} END)"


def cond(field: str, operator: str, threshold: str, value: str, unit: str | None = None) -> str:
    """A JSON condition {field, operator, threshold, value[, unit]} built in SQL."""
    extra = f", 'unit', {literal(unit)}" if unit else ""
    return f"json_object('field', {literal(field)}, 'operator', {literal(operator)}, 'threshold', {threshold}, 'value', {value}{extra})"


NO_CONDITIONS = "CAST('[]' AS JSON)"
NO_FACTS = "CAST('{}' AS JSON)"


def contract_expiry(rules: RulesFile, rule_id: str, as_of: date) -> str:
    """contract_renewal / warranty_sla: a contract of the given types ends within `days` of as_of."""
    p = Params(rules, rule_id)
    return f"""
    WITH c AS (
        SELECT b.serial, c.contract_id, c.type, c.end_date, {p('days')} AS lim,
               date_diff('day', {d(as_of)}, c.end_date) AS days_left
        FROM _base b JOIN contracts c ON c.serial = b.serial
        WHERE list_contains({p('contract_types')}, c.type) AND coalesce(c.start_date, {d(as_of)}) <= {d(as_of)}
          AND coalesce(c.status, '') <> 'cancelled'),
    fired AS (
        SELECT * FROM c WHERE days_left >= 0 AND days_left < lim
        QUALIFY row_number() OVER (PARTITION BY serial ORDER BY days_left, contract_id) = 1)
    SELECT serial, 'fired' AS status,
           to_json(list_value({cond('contract.end_date - as_of', '<', 'lim', 'days_left', 'days')})) AS conditions,
           CAST([] AS VARCHAR[]) AS missing, list_value('contract:' || contract_id) AS source_ids,
           json_object('contract_id', contract_id, 'contract_type', type, 'end_date', end_date) AS facts
    FROM fired
    UNION ALL
    SELECT serial, 'not_evaluable', {NO_CONDITIONS}, list_value('contract.end_date'),
           list_sort(list('contract:' || contract_id)), {NO_FACTS}
    FROM c WHERE end_date IS NULL AND serial NOT IN (SELECT serial FROM fired)
    GROUP BY serial
    """


def modernization(rules: RulesFile, as_of: date) -> str:
    """Age within [min, max] years AND error events in the window above the model's average (both required)."""
    p = Params(rules, "modernization")
    window = f"{d(as_of)} + INTERVAL 1 DAY - INTERVAL ({p('window_days')}) DAY"
    return f"""
    WITH ev AS (
        SELECT b.serial, list_sort(list('event:' || e.event_id)) AS ids, count(*) AS n
        FROM _base b JOIN events e ON e.serial = b.serial
        WHERE list_contains({p('event_kinds')}, e.kind) AND e.timestamp >= {window}
          AND e.timestamp < {d(as_of)} + INTERVAL 1 DAY
        GROUP BY b.serial),
    rate AS (
        SELECT b.serial, b.model, b.age_years, b.age_basis, coalesce(ev.n, 0) AS n, coalesce(ev.ids, []) AS ids,
               {p('min_age_years')} AS lo, {p('max_age_years')} AS hi, {p('window_days')} AS win,
               avg(coalesce(ev.n, 0)) OVER (PARTITION BY b.model) AS model_avg,
               count(*) OVER (PARTITION BY b.model) AS model_machines
        FROM _base b JOIN _conn USING (serial) LEFT JOIN ev USING (serial))
    SELECT serial, 'fired',
           to_json(list_value(
               {cond('age_years', 'between', 'list_value(lo, hi)', 'age_years', 'years')},
               {cond('error_events_in_window', '>', 'round(model_avg, 2)', 'n', 'events')})),
           CAST([] AS VARCHAR[]), list_prepend('machine:' || serial, ids),
           json_object('age_basis', age_basis, 'window_days', win, 'model', model,
                       'model_average_events', round(model_avg, 2), 'model_machines_connected', model_machines)
    FROM rate WHERE age_years BETWEEN lo AND hi AND n > model_avg
    UNION ALL
    SELECT b.serial, 'not_evaluable', {NO_CONDITIONS},
           list_filter(list_value(CASE WHEN b.age_years IS NULL THEN 'machine.install_date' END,
                                  CASE WHEN c.serial IS NULL THEN 'telemetry (no connection)' END), lambda x: x IS NOT NULL),
           CAST([] AS VARCHAR[]), {NO_FACTS}
    FROM _base b LEFT JOIN _conn c USING (serial)
    WHERE b.age_years IS NULL OR c.serial IS NULL
    """


def retrofit_age(rules: RulesFile, as_of: date) -> str:
    """More than min_age_years since installation."""
    p = Params(rules, "retrofit_age")
    return f"""
    SELECT serial, 'fired', to_json(list_value({cond('age_years', '>', p('min_age_years'), 'age_years', 'years')})),
           CAST([] AS VARCHAR[]), list_value('machine:' || serial),
           json_object('age_basis', age_basis, 'install_date', install_date, 'year_of_manufacture', year_of_manufacture)
    FROM _base b WHERE age_years > {p('min_age_years')}
    UNION ALL
    SELECT serial, 'not_evaluable', {NO_CONDITIONS}, list_value('machine.install_date'), CAST([] AS VARCHAR[]), {NO_FACTS}
    FROM _base WHERE age_years IS NULL
    """


def _model_join(rules: RulesFile, rule_id: str, *params: str) -> str:
    """Join telemetry to machine models only when a per-model override needs them (scanning is the hot path)."""
    if any(rules.overrides(rule_id, name) for name in params):
        return "JOIN _base bm ON bm.serial = t.serial"
    return ""


def maintenance_due(rules: RulesFile, as_of: date) -> str:
    """Operating hours since the last maintenance record >= the model's maintenance interval."""
    p = Params(rules, "maintenance_due")
    pt = Params(rules, "maintenance_due", "bm.model")
    end = f"{d(as_of)} + INTERVAL 1 DAY"
    return f"""
    WITH lm AS (
        SELECT b.serial, arg_max(s.record_id, (s.date, s.record_id)) AS record_id, max(s.date) AS mdate
        FROM _base b JOIN service_records s ON s.serial = b.serial
        WHERE s.type = 'maintenance' AND s.date <= {d(as_of)} GROUP BY b.serial),
    hours AS (
        SELECT t.serial,
               max(t.timestamp) AS now_ts, arg_max(t.value, t.timestamp) AS now_hours,
               max(t.timestamp) FILTER (WHERE t.timestamp < lm.mdate + INTERVAL 1 DAY) AS at_ts,
               arg_max(t.value, t.timestamp) FILTER (WHERE t.timestamp < lm.mdate + INTERVAL 1 DAY) AS at_hours,
               min(t.timestamp) FILTER (WHERE t.timestamp >= lm.mdate + INTERVAL 1 DAY) AS after_ts,
               arg_min(t.value, t.timestamp) FILTER (WHERE t.timestamp >= lm.mdate + INTERVAL 1 DAY) AS after_hours
        FROM telemetry t {_model_join(rules, 'maintenance_due', 'metric')} LEFT JOIN lm ON lm.serial = t.serial
        WHERE t.metric = {pt('metric')} AND t.timestamp < {end}
        GROUP BY t.serial),
    x AS (
        SELECT b.serial, b.model, lm.record_id, lm.mdate, hours.now_ts, hours.now_hours,
               coalesce(hours.at_ts, hours.after_ts) AS ref_ts, coalesce(hours.at_hours, hours.after_hours) AS ref_hours,
               hours.at_ts IS NULL AS lower_bound,
               coalesce({p('interval_hours')}, md.maintenance_interval_hours) AS interval_hours,
               {p('metric')} AS metric
        FROM _base b LEFT JOIN lm USING (serial) LEFT JOIN hours USING (serial)
        LEFT JOIN models md ON md.model = b.model)
    SELECT serial, 'fired',
           to_json(list_value({cond('operating_hours(as_of) - operating_hours(last maintenance)', '>=', 'interval_hours', 'round(now_hours - ref_hours, 1)', 'hours')})),
           CAST([] AS VARCHAR[]),
           list_value('service_record:' || record_id, 'model:' || model,
                      'telemetry:' || serial || '/' || metric || '@' || strftime(ref_ts, '%Y-%m-%dT%H:%M:%S'),
                      'telemetry:' || serial || '/' || metric || '@' || strftime(now_ts, '%Y-%m-%dT%H:%M:%S')),
           json_object('last_maintenance', mdate, 'hours_at_reference', ref_hours, 'hours_at_as_of', now_hours,
                       'reference_is_first_reading_after_maintenance', lower_bound)
    FROM x WHERE record_id IS NOT NULL AND now_hours IS NOT NULL AND ref_hours IS NOT NULL
      AND interval_hours IS NOT NULL AND now_hours - ref_hours >= interval_hours
    UNION ALL
    SELECT serial, 'not_evaluable', {NO_CONDITIONS},
           list_filter(list_value(
               CASE WHEN record_id IS NULL THEN 'service_record (type maintenance)' END,
               CASE WHEN now_hours IS NULL THEN 'telemetry.' || metric END,
               CASE WHEN record_id IS NOT NULL AND now_hours IS NOT NULL AND ref_hours IS NULL THEN 'telemetry.' || metric || ' after last maintenance' END,
               CASE WHEN interval_hours IS NULL THEN 'model.maintenance_interval_hours' END), lambda v: v IS NOT NULL),
           CAST([] AS VARCHAR[]), {NO_FACTS}
    FROM x WHERE record_id IS NULL OR now_hours IS NULL OR ref_hours IS NULL OR interval_hours IS NULL
    """


def error_pattern(rules: RulesFile, as_of: date) -> str:
    """A critical event, or the same code at least min_count times, within the window."""
    p = Params(rules, "error_pattern")
    return f"""
    WITH w AS (
        SELECT b.serial, b.model, e.event_id, e.code, e.severity, e.timestamp,
               {p('min_count')} AS min_count, {p('critical_severities')} AS crit, {p('window_days')} AS win
        FROM _base b JOIN events e ON e.serial = b.serial
        WHERE list_contains({p('event_kinds')}, e.kind) AND e.timestamp < {d(as_of)} + INTERVAL 1 DAY
          AND e.timestamp >= {d(as_of)} + INTERVAL 1 DAY - INTERVAL ({p('window_days')}) DAY),
    per_code AS (
        SELECT serial, code, count(*) AS n, any_value(min_count) AS min_count, any_value(crit) AS crit,
               any_value(win) AS win, bool_or(list_contains(crit, severity)) AS critical,
               list_sort(list('event:' || event_id)) AS ids
        FROM w GROUP BY serial, code),
    hits AS (SELECT * FROM per_code WHERE critical OR n >= min_count)
    SELECT serial, 'fired',
           to_json(list(CASE WHEN n >= min_count
                   THEN {cond("count(events with code) in window", '>=', 'min_count', 'n', 'events')}
                   ELSE {cond('event.severity', 'in', 'crit', "'critical'")} END ORDER BY code)),
           CAST([] AS VARCHAR[]), list_sort(flatten(list(ids))),
           json_object('codes', list(code ORDER BY code), 'window_days', any_value(win))
    FROM hits GROUP BY serial
    UNION ALL
    SELECT b.serial, 'not_evaluable', {NO_CONDITIONS}, list_value('events / telemetry (no connection)'),
           CAST([] AS VARCHAR[]), {NO_FACTS}
    FROM _base b WHERE b.serial NOT IN (SELECT serial FROM _conn)
    """


def wear(rules: RulesFile, as_of: date) -> str:
    """Wear signal: recent mean above threshold, or a steady rise over the trend window."""
    p = Params(rules, "wear")
    pt = Params(rules, "wear", "bm.model")  # params inside the telemetry scan, before machines are joined
    end = f"{d(as_of)} + INTERVAL 1 DAY"
    return f"""
    WITH v AS (
        SELECT t.serial, t.timestamp, t.value, {pt('metric')} AS metric,
               {pt('threshold')} AS thr,
               t.timestamp >= {end} - INTERVAL ({pt('recent_days')}) DAY AS is_recent,
               {pt('min_slope_per_30d')} AS min_slope, {pt('min_r2')} AS min_r2
        FROM telemetry t {_model_join(rules, 'wear', 'metric', 'threshold', 'recent_days', 'trend_days', 'min_slope_per_30d', 'min_r2')}
        WHERE t.metric = {pt('metric')} AND t.timestamp < {end}
          AND t.timestamp >= {end} - INTERVAL ({pt('trend_days')}) DAY),
    s AS (
        SELECT serial, any_value(metric) AS metric, any_value(thr) AS thr, any_value(min_slope) AS min_slope,
               any_value(min_r2) AS min_r2, count(*) AS n, min(timestamp) AS first_ts, max(timestamp) AS last_ts,
               round(avg(value) FILTER (WHERE is_recent), 3) AS recent_mean,
               count(*) FILTER (WHERE is_recent) AS recent_n,
               round(regr_slope(value, epoch(timestamp) / 86400.0) * 30, 3) AS slope30,
               round(regr_r2(value, epoch(timestamp) / 86400.0), 3) AS r2
        FROM v WHERE serial IN (SELECT serial FROM _base) GROUP BY serial),
    f AS (
        SELECT *, recent_mean > thr AS over, (n >= 14 AND slope30 >= min_slope AND r2 >= min_r2) AS rising FROM s)
    SELECT serial, 'fired',
           to_json(list_filter(list_value(
               CASE WHEN over THEN {cond('mean(vibration) over recent days', '>', 'thr', 'recent_mean', 'mm/s')} END,
               CASE WHEN rising THEN {cond('slope(vibration) per 30 days', '>=', 'min_slope', 'slope30', 'mm/s per 30 days')} END),
               lambda x: x IS NOT NULL)),
           CAST([] AS VARCHAR[]),
           list_value('telemetry:' || serial || '/' || metric || '@' || strftime(first_ts, '%Y-%m-%dT%H:%M:%S')
                      || '..' || strftime(last_ts, '%Y-%m-%dT%H:%M:%S')),
           json_object('readings', n, 'recent_readings', recent_n, 'recent_mean', recent_mean, 'slope_per_30d', slope30,
                       'r2', r2, 'window_start', first_ts, 'window_end', last_ts)
    FROM f WHERE over OR rising
    UNION ALL
    SELECT b.serial, 'not_evaluable', {NO_CONDITIONS}, list_value('telemetry.' || {p('metric')} || ' (trend window)'),
           CAST([] AS VARCHAR[]), {NO_FACTS}
    FROM _base b WHERE b.serial NOT IN (SELECT serial FROM s)
    """


def parts_reminder(rules: RulesFile, as_of: date) -> str:
    """No spare-parts order for more than `months` (or never, on a machine older than that)."""
    p = Params(rules, "parts_reminder")
    return f"""
    WITH o AS (
        SELECT b.serial, max(po.date) AS last_date, arg_max(po.order_id, (po.date, po.order_id)) AS order_id
        FROM _base b JOIN parts_orders po ON po.serial = b.serial WHERE po.date <= {d(as_of)} GROUP BY b.serial),
    x AS (
        SELECT b.serial, b.age_years, o.last_date, o.order_id, {p('months')} AS months,
               round(date_diff('day', o.last_date, {d(as_of)}) / 30.44, 1) AS months_since
        FROM _base b LEFT JOIN o USING (serial))
    SELECT serial, 'fired',
           to_json(list_value(CASE WHEN last_date IS NOT NULL
               THEN {cond('months since last parts order', '>', 'months', 'months_since', 'months')}
               ELSE {cond('months in service without any parts order', '>', 'months', 'round(age_years * 12, 1)', 'months')} END)),
           CAST([] AS VARCHAR[]),
           CASE WHEN order_id IS NOT NULL THEN list_value('parts_order:' || order_id) ELSE list_value('machine:' || serial) END,
           json_object('last_order_date', last_date)
    FROM x WHERE (last_date IS NOT NULL AND last_date < {d(as_of)} - to_months(CAST(months AS INTEGER)))
              OR (last_date IS NULL AND age_years * 12 > months)
    UNION ALL
    SELECT serial, 'not_evaluable', {NO_CONDITIONS}, list_value('parts_order.date or machine.install_date'),
           CAST([] AS VARCHAR[]), {NO_FACTS}
    FROM x WHERE last_date IS NULL AND age_years IS NULL
    """


def end_of_life(rules: RulesFile, as_of: date) -> str:
    """Model end-of-life, parts discontinued or successor available, and no active service contract."""
    p = Params(rules, "end_of_life")
    return f"""
    WITH x AS (
        SELECT b.serial, b.model, md.model AS catalog_model, md.end_of_life, md.parts_discontinued, md.successor,
               (SELECT count(*) FROM contracts c WHERE c.serial = b.serial AND list_contains({p('active_contract_types')}, c.type)
                  AND coalesce(c.start_date, {d(as_of)}) <= {d(as_of)} AND coalesce(c.status, '') <> 'cancelled'
                  AND c.end_date >= {d(as_of)}) AS active,
               (SELECT count(*) FROM contracts c WHERE c.serial = b.serial AND list_contains({p('active_contract_types')}, c.type)
                  AND c.end_date IS NULL AND coalesce(c.status, '') <> 'cancelled') AS undated
        FROM _base b LEFT JOIN models md ON md.model = b.model),
    sig AS (
        SELECT *, coalesce(end_of_life <= {d(as_of)}, FALSE) AS eol, coalesce(parts_discontinued, FALSE) AS disc,
               successor IS NOT NULL AS succ FROM x)
    SELECT serial, 'fired',
           to_json(list_filter(list_value(
               CASE WHEN eol THEN {cond('model.end_of_life', '<=', f"'{as_of.isoformat()}'", 'CAST(end_of_life AS VARCHAR)')} END,
               CASE WHEN disc THEN {cond('model.parts_discontinued', '=', 'TRUE', 'TRUE')} END,
               CASE WHEN succ THEN {cond('model.successor', 'is', "'set'", 'successor')} END,
               {cond('active service contracts', '=', '0', 'active')}), lambda c: c IS NOT NULL)),
           CAST([] AS VARCHAR[]), list_value('model:' || model, 'machine:' || serial),
           json_object('end_of_life', end_of_life, 'successor', successor)
    FROM sig WHERE catalog_model IS NOT NULL AND (eol OR disc OR succ) AND active = 0 AND undated = 0
    UNION ALL
    SELECT serial, 'not_evaluable', {NO_CONDITIONS},
           list_value(CASE WHEN catalog_model IS NULL THEN 'model (catalog entry)' ELSE 'contract.end_date' END),
           CAST([] AS VARCHAR[]), {NO_FACTS}
    FROM sig WHERE catalog_model IS NULL OR ((eol OR disc OR succ) AND active = 0 AND undated > 0)
    """


RULE_SQL: dict[str, Callable[[RulesFile, date], str]] = {
    "contract_renewal": lambda r, a: contract_expiry(r, "contract_renewal", a),
    "warranty_sla": lambda r, a: contract_expiry(r, "warranty_sla", a),
    "modernization": modernization,
    "retrofit_age": retrofit_age,
    "maintenance_due": maintenance_due,
    "error_pattern": error_pattern,
    "wear": wear,
    "parts_reminder": parts_reminder,
    "end_of_life": end_of_life,
}
