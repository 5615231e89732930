"""Per-machine facts shared by the trigger rules and the assessment: which machines count, and how old they are."""

from __future__ import annotations

from datetime import date


OUT_OF_SERVICE = ("decommissioned", "scrapped")  # lifecycle statuses of machines no longer in service


def d(as_of: date) -> str:
    """SQL DATE literal."""
    return f"DATE '{as_of.isoformat()}'"


def age_years_sql(as_of: date, m: str = "m") -> str:
    """Age in years at as_of: from install date, else build year, else an age given at a reference date."""
    return (
        f"coalesce(date_diff('day', {m}.install_date, {d(as_of)}) / 365.25, "
        f"CAST(year({d(as_of)}) - {m}.year_of_manufacture AS DOUBLE), "
        f"{m}.age_years + coalesce(date_diff('day', {m}.age_as_of, {d(as_of)}), 0) / 365.25)"
    )


def age_basis_sql(m: str = "m") -> str:
    """Which machine field the age came from."""
    return (
        f"CASE WHEN {m}.install_date IS NOT NULL THEN 'machine.install_date' "
        f"WHEN {m}.year_of_manufacture IS NOT NULL THEN 'machine.year_of_manufacture' "
        f"WHEN {m}.age_years IS NOT NULL THEN 'machine.age_years' END"
    )


def base_machines_sql(as_of: date) -> str:
    """Machines in service with their age, model and customer: the population every rule runs over."""
    return f"""
    SELECT m.serial, m.model, m.customer_id, m.install_date, m.year_of_manufacture,
           round({age_years_sql(as_of)}, 2) AS age_years, {age_basis_sql()} AS age_basis
    FROM machines m
    WHERE coalesce(m.lifecycle_status, '') NOT IN ({", ".join(f"'{x}'" for x in OUT_OF_SERVICE)})
      AND (m.install_date IS NULL OR m.install_date <= {d(as_of)})  -- not yet installed on that day: not in service
    """


def connected_sql(as_of: date) -> str:
    """Machines with any telemetry or event on or before as_of (a telemetry connection)."""
    end = f"{d(as_of)} + INTERVAL 1 DAY"
    return (
        f"SELECT DISTINCT serial FROM telemetry WHERE timestamp < {end} "
        f"UNION SELECT DISTINCT serial FROM events WHERE timestamp < {end}"
    )
