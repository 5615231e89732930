"""A realistic, deterministic demo installed base of an industrial machine maker, plus the mapping that imports it."""

from __future__ import annotations

import csv
import json
import random
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from sdi.demo.text import (
    CODES,
    COMPONENTS,
    FAMILY_COMPONENTS,
    MODELS,
    OFFERS,
    PARTS,
    SPECIALIST,
    TECHNICIANS,
    TERRITORIES,
    Customers,
    EventCode,
    NoteContext,
    make_customers,
    mapping_text,
    scrapped_note,
    service_note,
)

DEFAULT_AS_OF = date(2026, 11, 1)
DEFAULT_MACHINES = 8000
DEFAULT_SEED = 42
TELEMETRY_DAYS = 365
WARRANTY_YEARS = 2
MODEL_COLUMNS = ["Model", "Product line", "Maintenance interval (h)", "End of life", "Successor", "Parts discontinued"]
FILES = (
    "models.xlsx", "customers.csv", "machines.csv", "contracts.csv", "telemetry.csv", "events.csv",
    "service_records.csv", "parts_orders.csv", "service_offers.json",
)
_CHUNK = 2000
_EPOCH = date(1970, 1, 1).toordinal()
_FIXED_STAMP = datetime(2026, 1, 1, 0, 0, 0)
_ACTIVE, _STANDBY, _DECOM = 0, 1, 2
_STATUS = ("active", "standby", "decommissioned")
_WEAR, _RISING, _VIB_NEAR = 1, 2, 3
_DUE, _MAINT_NEAR = 1, 2
_CRITICAL, _RECURRING, _ERR_NEAR = 1, 2, 3

Progress = Callable[[str], None]


def _rng(seed: int, *stage: int) -> np.random.Generator:
    """An independent generator per stage, so one stage's draws never shift another's."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, *stage])))


def _pyrng(seed: int, stage: int) -> random.Random:
    """A stdlib generator for the per-row text work."""
    return random.Random(seed * 1009 + stage)


@lru_cache(maxsize=None)
def _iso(ordinal: int) -> str:
    """ISO date of a proleptic ordinal."""
    return date.fromordinal(ordinal).isoformat()


def _add_years(day: date, years: int) -> date:
    """Same calendar day `years` later (28 Feb for 29 Feb)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _quota(rng: np.random.Generator, pool: np.ndarray, frac: float, minimum: int, size: int) -> np.ndarray:
    """Pick round(frac*size) (at least `minimum`) members of pool without replacement."""
    k = min(len(pool), max(minimum, int(round(frac * size))))
    return np.sort(rng.choice(pool, size=k, replace=False)) if k else np.zeros(0, dtype=np.int64)


@dataclass
class _Fleet:
    """Per-machine arrays of the installed base (index = machine; dates are proleptic ordinals)."""

    n: int
    model: np.ndarray  # index into MODELS
    customer: np.ndarray  # index into Customers
    install: np.ndarray
    age: np.ndarray  # years at as_of
    status: np.ndarray  # _ACTIVE, _STANDBY, _DECOM
    decom: np.ndarray  # decommissioning date, -1 if in use
    connected: np.ndarray
    start: np.ndarray  # first telemetry day index (0 unless installed during the telemetry year)
    standby_from: np.ndarray  # day index from which a standby machine stood still
    h_mean: np.ndarray  # hours per running day
    p_run: np.ndarray  # share of days it runs
    base_hours: np.ndarray  # counter at the start of the telemetry year
    vib_cat: np.ndarray
    vib_base: np.ndarray
    maint_cat: np.ndarray
    maint_frac: np.ndarray  # planted share of the interval run since the last maintenance
    err_cat: np.ndarray
    err_factor: np.ndarray  # multiplies the model's event rate
    gap_old: np.ndarray  # old machine without a service record in the last 10 years
    install_missing: np.ndarray
    build_year: np.ndarray  # -1 = empty in the export
    serial: list[str]
    site: list[str]
    warranty_planted: np.ndarray
    hours_end: np.ndarray  # filled by the telemetry step: counter at as_of
    lm_ord: np.ndarray  # filled by the telemetry step: last maintenance date, -1 = to be chosen later
    lm_hours: np.ndarray  # counter on the last maintenance day, NaN if outside telemetry
    vib_last: np.ndarray


def generate(
    out_dir: Path,
    machines: int = DEFAULT_MACHINES,
    seed: int = DEFAULT_SEED,
    as_of: date = DEFAULT_AS_OF,
    progress: Progress | None = None,
) -> dict:
    """Write the demo installed base and its mapping.yaml into out_dir; return file name -> rows, as_of, and under
    `planted` the cases planted for resolution, coverage and calibration (see `_plant_fixes`, `_covered`,
    `_plant_precursors`)."""
    if machines < 1:
        raise ValueError("machines must be at least 1")
    if seed < 0:
        raise ValueError("seed must be a non-negative integer")
    say = progress or (lambda _msg: None)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    summary: dict = {}
    summary["models.xlsx"] = _write_models(out_dir / "models.xlsx")
    say(f"models: {summary['models.xlsx']}")
    customers = make_customers(_pyrng(seed, 1), max(20, machines // 6))
    summary["customers.csv"] = _write_rows(
        out_dir / "customers.csv",
        ["customer_id", "name", "territory", "account_manager", "contact_name", "contact_email", "contact_phone"],
        customers.rows,
    )
    say(f"customers: {summary['customers.csv']:,}")
    fleet = _make_fleet(seed, machines, as_of, customers)
    summary["telemetry.csv"] = _write_telemetry(out_dir / "telemetry.csv", seed, fleet, as_of, say)
    summary["machines.csv"] = _write_machines(out_dir / "machines.csv", fleet, customers)
    say(f"machines: {summary['machines.csv']:,}")
    planted: dict = {}
    summary["contracts.csv"] = _write_contracts(out_dir / "contracts.csv", seed, fleet, as_of, planted)
    say(f"contracts: {summary['contracts.csv']:,}")
    events = _make_events(seed, fleet)
    precursors, planted["precursors"] = _plant_precursors(seed, fleet, events, as_of.toordinal())
    summary["events.csv"] = _write_events(out_dir / "events.csv", fleet, events, as_of, precursors)
    say(f"events: {summary['events.csv']:,}")
    summary["service_records.csv"] = _write_service_records(
        out_dir / "service_records.csv", seed, fleet, customers, events, as_of, planted
    )
    say(f"service records: {summary['service_records.csv']:,}")
    summary["parts_orders.csv"] = _write_parts_orders(out_dir / "parts_orders.csv", seed, fleet, customers, as_of)
    say(f"parts orders: {summary['parts_orders.csv']:,}")
    summary["service_offers.json"] = _write_offers(out_dir / "service_offers.json")
    (out_dir / "mapping.yaml").write_text(mapping_text(as_of, machines, seed), encoding="utf-8")
    say("mapping.yaml written")
    summary = {name: summary[name] for name in FILES}
    summary["as_of"] = as_of.isoformat()
    summary["planted"] = planted
    return summary


def _write_rows(path: Path, header: list[str], rows: list[list[str]], **kwargs: str) -> int:
    """Write a CSV with the csv module (quotes commas in text); return the data row count."""
    delimiter = kwargs.get("delimiter", ",")
    with path.open("w", encoding=kwargs.get("encoding", "utf-8"), newline="") as fh:
        writer = csv.writer(fh, delimiter=delimiter, lineterminator=kwargs.get("lineterminator", "\n"))
        writer.writerow(header)
        writer.writerows(rows)
    return len(rows)


# ---------------------------------------------------------------- models.xlsx


class _StableZip(zipfile.ZipFile):
    """A ZipFile that stamps every member with one fixed time, so the xlsx is byte-stable."""

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):  # type: ignore[override]
        """Write a member with a fixed timestamp."""
        if isinstance(zinfo_or_arcname, str):
            info = zipfile.ZipInfo(zinfo_or_arcname, date_time=_FIXED_STAMP.timetuple()[:6])
            info.compress_type = self.compression
            info.external_attr = 0o600 << 16
            zinfo_or_arcname = info
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):  # type: ignore[override]
        """Add a file from disk (openpyxl's worksheet temp file) with the fixed timestamp, not its mtime."""
        self.writestr(arcname or Path(filename).name, Path(filename).read_bytes(), compress_type, compresslevel)


def _write_models(path: Path) -> int:
    """The model catalogue as an Excel sheet with real date cells."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.writer.excel import ExcelWriter

    book = Workbook()
    sheet = book.active
    sheet.title = "Models"
    sheet.append(MODEL_COLUMNS)
    for spec in MODELS:
        sheet.append([spec.name, spec.line, spec.interval_h, spec.end_of_life, spec.successor or None,
                      "yes" if spec.parts_discontinued else "no"])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in sheet.iter_rows(min_row=2, min_col=4, max_col=4):
        row[0].number_format = "yyyy-mm-dd"
    for letter, width in zip("ABCDEF", (12, 26, 24, 14, 12, 18)):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    book.properties.creator = "SDI demo generator"
    book.properties.created = _FIXED_STAMP
    book.properties.modified = _FIXED_STAMP
    with _StableZip(path, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(book, archive).save()
    return len(MODELS)


# ---------------------------------------------------------------- machines


def _make_fleet(seed: int, n: int, as_of: date, customers: Customers) -> _Fleet:
    """Ages, models, owners, status, connectivity, usage and the planted trigger populations."""
    rng = _rng(seed, 2)
    asof = as_of.toordinal()
    band = rng.choice(4, size=n, p=[0.55, 0.30, 0.08, 0.07])
    age = rng.uniform(np.array([0.02, 8.0, 10.0, 12.0])[band], np.array([8.0, 10.0, 12.0, 21.0])[band])
    install = asof - np.round(age * 365.25).astype(np.int64)
    planted = _plant_warranty_ends(rng, install, age, asof)
    age = (asof - install) / 365.25
    model = _pick_models(rng, install)
    status, decom = _pick_status(rng, age, asof, planted)
    live = np.flatnonzero(status != _DECOM)
    connected = status != _DECOM
    connected[_quota(rng, live, 0.12, 3, len(live))] = False
    start = np.clip(install - (asof - TELEMETRY_DAYS + 1), 0, TELEMETRY_DAYS - 1)
    customer = _assign_customers(rng, n, len(customers.ids))
    fleet = _Fleet(
        n=n, model=model, customer=customer, install=install, age=age, status=status, decom=decom,
        connected=connected, start=start, standby_from=np.full(n, TELEMETRY_DAYS, dtype=np.int64),
        h_mean=rng.uniform(5.0, 17.0, n), p_run=rng.uniform(0.55, 0.9, n), base_hours=np.zeros(n),
        vib_cat=np.zeros(n, dtype=np.int64), vib_base=rng.uniform(1.5, 3.4, n),
        maint_cat=np.zeros(n, dtype=np.int64), maint_frac=np.zeros(n), err_cat=np.zeros(n, dtype=np.int64),
        err_factor=np.ones(n), gap_old=np.zeros(n, dtype=bool), install_missing=np.zeros(n, dtype=bool),
        build_year=np.zeros(n, dtype=np.int64), serial=_serials(rng, model, install),
        site=_sites(rng, customer, customers, n), hours_end=np.zeros(n), lm_ord=np.full(n, -1, dtype=np.int64),
        lm_hours=np.full(n, np.nan), vib_last=np.full(n, np.nan), warranty_planted=planted,
    )
    _plan_usage(rng, fleet, asof)
    _plan_vibration(rng, fleet)
    _plan_maintenance(rng, fleet)
    _plan_errors(rng, fleet)
    _plan_erp_gaps(rng, fleet)
    return fleet


def _plan_usage(rng: np.random.Generator, fleet: _Fleet, asof: int) -> None:
    """Hours run before the telemetry year, and when standby machines went idle."""
    pre_days = np.clip(asof - TELEMETRY_DAYS + 1 - fleet.install, 0, None)
    usage = fleet.h_mean * fleet.p_run * rng.uniform(0.8, 1.05, fleet.n)
    fleet.base_hours = np.round(pre_days * usage, 1)
    standby = np.flatnonzero(fleet.status == _STANDBY)
    idle_from = rng.integers(TELEMETRY_DAYS - 200, TELEMETRY_DAYS - 30, len(standby))
    fleet.standby_from[standby] = np.maximum(fleet.start[standby] + 1, idle_from)


def _plan_vibration(rng: np.random.Generator, fleet: _Fleet) -> None:
    """~3 % worn (> 7.1 mm/s lately), ~3 % rising, ~2 % sitting just below the threshold."""
    steady = np.flatnonzero(fleet.connected & (fleet.start == 0) & (fleet.status == _ACTIVE))
    for cat, frac in ((_WEAR, 0.03), (_RISING, 0.03), (_VIB_NEAR, 0.02)):
        fleet.vib_cat[_quota(rng, steady[fleet.vib_cat[steady] == 0], frac, 3, len(steady))] = cat


def _plan_maintenance(rng: np.random.Generator, fleet: _Fleet) -> None:
    """Share of the interval run since the last maintenance: due, near miss (85-99 %) or fine."""
    gap_pool = np.flatnonzero((fleet.age >= 11.0) & (fleet.status != _DECOM))
    fleet.gap_old[_quota(rng, gap_pool, 0.25, 1, len(gap_pool))] = True
    conn = np.flatnonzero(fleet.connected)
    for cat, frac in ((_DUE, 0.06), (_MAINT_NEAR, 0.04)):
        free = conn[(fleet.maint_cat[conn] == 0) & ~fleet.gap_old[conn]]
        fleet.maint_cat[_quota(rng, free, frac, 3, len(conn))] = cat
    fleet.maint_cat[fleet.gap_old & fleet.connected] = _DUE  # their last maintenance is 10+ years old
    n = fleet.n
    fleet.maint_frac = np.select(
        [fleet.maint_cat == _DUE, fleet.maint_cat == _MAINT_NEAR],
        [rng.uniform(1.05, 1.6, n), rng.uniform(0.87, 0.95, n)],
        rng.uniform(0.1, 0.75, n),
    )


def _plan_errors(rng: np.random.Generator, fleet: _Fleet) -> None:
    """Error-rate factor (error-prone 8-12-year-olds) and the planted recent critical/recurring/near-miss codes."""
    fleet.err_factor = np.exp(rng.normal(0.0, 0.35, fleet.n))
    mid = np.flatnonzero((fleet.age >= 8.0) & (fleet.age <= 12.0))
    prone = mid[rng.random(len(mid)) < 0.3]
    fleet.err_factor[prone] *= rng.uniform(2.2, 3.5, len(prone))
    pool = np.flatnonzero(fleet.connected & (fleet.start < TELEMETRY_DAYS - 60) & (fleet.status == _ACTIVE))
    for cat, frac in ((_CRITICAL, 0.025), (_RECURRING, 0.03), (_ERR_NEAR, 0.02)):
        fleet.err_cat[_quota(rng, pool[fleet.err_cat[pool] == 0], frac, 3, len(pool))] = cat


def _plan_erp_gaps(rng: np.random.Generator, fleet: _Fleet) -> None:
    """Build year (a year early for some winter installs) and ~3 % missing install dates, half without year."""
    n = fleet.n
    days = [date.fromordinal(int(o)) for o in fleet.install]
    fleet.build_year = np.array([d.year for d in days], dtype=np.int64)
    fleet.build_year[np.array([d.month <= 3 for d in days]) & (rng.random(n) < 0.35)] -= 1
    fleet.install_missing[_quota(rng, np.flatnonzero(~fleet.warranty_planted), 0.03, 3, n)] = True
    fleet.build_year[fleet.install_missing & (rng.random(n) < 0.5)] = -1


def _plant_warranty_ends(rng: np.random.Generator, install: np.ndarray, age: np.ndarray, asof: int) -> np.ndarray:
    """Move a few ~2-year-old machines so their warranty ends in 0-59 days (fires) or 60-75 days (near miss)."""
    n = len(install)
    pool = np.flatnonzero((age > 1.3) & (age < 3.5))
    planted = np.zeros(n, dtype=bool)
    for frac, low, lo, hi in ((0.012, 3, 3, 57), (0.005, 2, 61, 74)):
        chosen = _quota(rng, pool[~planted[pool]], frac, low, n)
        for i in chosen:
            end = date.fromordinal(asof + int(rng.integers(lo, hi + 1)))
            install[i] = _add_years(end, -WARRANTY_YEARS).toordinal()
        planted[chosen] = True
    return planted


def _pick_models(rng: np.random.Generator, install: np.ndarray) -> np.ndarray:
    """A model that was built in the install year, weighted by popularity."""
    lo = np.array([m.built_from for m in MODELS])
    hi = np.array([m.built_to for m in MODELS])
    pop = np.array([m.popularity for m in MODELS])
    # Clipped so any as_of still finds a model: the oldest ones before, the current range after the catalogue.
    years = np.clip([date.fromordinal(int(o)).year for o in install], lo.min(), hi.max())
    weights = ((years[:, None] >= lo) & (years[:, None] <= hi)) * pop
    cum = np.cumsum(weights, axis=1)
    pick = rng.random(len(years)) * cum[:, -1]
    return (cum < pick[:, None]).sum(axis=1)


def _pick_status(
    rng: np.random.Generator, age: np.ndarray, asof: int, planted: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Few decommissioned (old) machines, some on standby; decommissioning date for the former."""
    n = len(age)
    status = np.full(n, _ACTIVE, dtype=np.int64)
    decom = np.full(n, -1, dtype=np.int64)
    gone = _quota(rng, np.flatnonzero((age > 5.0) & ~planted), 0.015, 2, n)
    status[gone] = _DECOM
    span = np.minimum((age[gone] - 1.0) * 365.25, 6 * 365.25)
    decom[gone] = asof - rng.uniform(150, np.maximum(span, 200)).astype(np.int64)
    status[_quota(rng, np.flatnonzero(status == _ACTIVE), 0.04, 3, n)] = _STANDBY
    return status, decom


def _assign_customers(rng: np.random.Generator, n: int, count: int) -> np.ndarray:
    """Every customer gets a machine (when there are enough); the rest go to a few big accounts."""
    weights = np.exp(rng.normal(0.0, 1.0, count))
    owner = rng.choice(count, size=n, p=weights / weights.sum())
    perm = rng.permutation(n)[: min(n, count)]
    owner[perm] = np.arange(len(perm))
    return owner


def _sites(rng: np.random.Generator, customer: np.ndarray, customers: Customers, n: int) -> list[str]:
    """Plant and hall of each machine, ~2 % left empty."""
    halls = rng.integers(1, 6, n)
    which = rng.random(n)
    sites = []
    for i in range(n):
        plants = customers.cities[customer[i]]
        sites.append(f"{plants[int(which[i] * len(plants))]} / Hall {halls[i]}")
    for i in _quota(rng, np.arange(n), 0.02, 2, n):
        sites[i] = ""
    return sites


def _serials(rng: np.random.Generator, model: np.ndarray, install: np.ndarray) -> list[str]:
    """Model prefix + a number that grows with the build date, with gaps as in real production."""
    serial = [""] * len(model)
    for k, spec in enumerate(MODELS):
        members = np.flatnonzero(model == k)
        members = members[np.argsort(install[members], kind="stable")]
        numbers = 100 + int(rng.integers(0, 900)) + np.cumsum(rng.integers(1, 8, len(members)))
        prefix = spec.name.replace("-", "")
        for i, number in zip(members, numbers):
            serial[i] = f"{prefix}-{number:06d}"
    return serial


def _write_machines(path: Path, fleet: _Fleet, customers: Customers) -> int:
    """ERP-style export: semicolon, UTF-8 with BOM, CRLF, German dates, data gaps."""
    rows = []
    for i in range(fleet.n):
        install = "" if fleet.install_missing[i] else date.fromordinal(int(fleet.install[i])).strftime("%d.%m.%Y")
        year = "" if fleet.build_year[i] < 0 else str(int(fleet.build_year[i]))
        rows.append([fleet.serial[i], MODELS[fleet.model[i]].name, customers.ids[fleet.customer[i]].removeprefix("CU-"),
                     fleet.site[i], install, year, _STATUS[fleet.status[i]], f"{fleet.hours_end[i]:.1f}"])
    header = ["SerialNo", "Model", "CustomerNo", "Site", "InstallDate", "BuildYear", "Status", "OperatingHours"]
    return _write_rows(path, header, rows, delimiter=";", encoding="utf-8-sig", lineterminator="\r\n")


# ---------------------------------------------------------------- telemetry


def _write_telemetry(path: Path, seed: int, fleet: _Fleet, as_of: date, say: Progress) -> int:
    """Daily wide telemetry for connected machines, vectorised per chunk and streamed with pyarrow."""
    asof = as_of.toordinal()
    first = asof - TELEMETRY_DAYS + 1
    doy = np.array([date.fromordinal(first + d).timetuple().tm_yday for d in range(TELEMETRY_DAYS)])
    hall = 18.0 + 6.0 * np.sin(2 * np.pi * (doy - 110) / 365.25)
    ids = np.flatnonzero(fleet.connected)
    intervals = np.array([m.interval_h for m in MODELS], dtype=float)
    schema = pa.schema([("serial", pa.string()), ("date", pa.date32()), ("operating_hours", pa.float64()),
                        ("vibration", pa.float64()), ("temperature", pa.float64())])
    options = pacsv.WriteOptions(include_header=False, quoting_style="none")
    rows = 0
    with pa.OSFile(str(path), "wb") as sink:
        sink.write(b"serial,date,operating_hours,vibration,temperature\n")
        with pacsv.CSVWriter(sink, schema, write_options=options) as writer:
            for c0 in range(0, len(ids), _CHUNK):
                sub = ids[c0 : c0 + _CHUNK]
                table = _telemetry_chunk(_rng(seed, 3, c0), fleet, sub, first, hall, intervals[fleet.model[sub]])
                writer.write_table(table)
                rows += table.num_rows
                say(f"telemetry: {c0 + len(sub):,}/{len(ids):,} machines")
    _offline_hours(_rng(seed, 3, 1 << 30), fleet, asof)
    return rows


def _telemetry_chunk(
    rng: np.random.Generator, fleet: _Fleet, sub: np.ndarray, first: int, hall: np.ndarray, interval: np.ndarray
) -> pa.Table:
    """One chunk of machines x 365 days; also records counter, last maintenance and last vibration per machine."""
    n, days = len(sub), TELEMETRY_DAYS
    day = np.arange(days)[None, :]
    start = fleet.start[sub][:, None]
    in_use = (day >= start) & (day < fleet.standby_from[sub][:, None])
    run = (rng.random((n, days)) < fleet.p_run[sub][:, None]) & in_use
    daily = np.where(run, np.clip(rng.normal(fleet.h_mean[sub][:, None], 2.5, (n, days)), 1.0, 23.5), 0.0)
    counter = np.round(fleet.base_hours[sub][:, None] + np.cumsum(np.round(daily, 1), axis=1), 1)
    vib = _vibration(rng, fleet.vib_cat[sub], fleet.vib_base[sub])
    wear_heat = np.where(fleet.vib_cat[sub][:, None] == _WEAR, 0.5 * (vib - fleet.vib_base[sub][:, None]), 0.0)
    offset = rng.uniform(8.0, 16.0, n)[:, None]
    temp = np.round(hall[None, :] + np.where(run, offset, 1.5) + wear_heat + rng.normal(0.0, 0.7, (n, days)), 1)
    lm_day = _last_maintenance_day(rng, fleet, sub, counter, start[:, 0], interval, first)
    fleet.hours_end[sub] = counter[:, -1]
    fleet.vib_last[sub] = vib[:, -1]
    keep = (day >= start).ravel()
    hours_gap = rng.random((n, days)) < 0.0004
    hours_gap[:, -1] = False
    has_lm = lm_day >= 0
    hours_gap[np.flatnonzero(has_lm), lm_day[has_lm]] = False
    local = np.repeat(np.arange(n, dtype=np.int32), days)[keep]
    serials = pa.array([fleet.serial[i] for i in sub], pa.string())
    dates = np.tile(np.arange(first - _EPOCH, first - _EPOCH + days, dtype=np.int32), n)[keep]
    return pa.table(
        {
            "serial": pc.take(serials, pa.array(local)),
            "date": pa.array(dates, pa.date32()),
            "operating_hours": pa.array(counter.ravel()[keep], mask=hours_gap.ravel()[keep]),
            "vibration": pa.array(vib.ravel()[keep], mask=(rng.random(n * days) < 0.001)[keep]),
            "temperature": pa.array(temp.ravel()[keep], mask=(rng.random(n * days) < 0.001)[keep]),
        }
    )


def _vibration(rng: np.random.Generator, cat: np.ndarray, base: np.ndarray) -> np.ndarray:
    """Daily vibration (mm/s): steady, worn (> 7.1 lately), rising over 90 days, or sitting at 6-7."""
    n, days = len(cat), TELEMETRY_DAYS
    t = np.arange(days, dtype=float)[None, :]
    vib = np.clip(base[:, None] + rng.normal(0.0, 0.15, (n, days)), 0.6, 4.8)
    wear = cat == _WEAR
    if wear.any():
        k, b = int(wear.sum()), base[wear][:, None]
        over = days - rng.integers(14, 41, k)[:, None]
        ramp = rng.integers(30, 61, k)[:, None]
        peak = rng.uniform(7.6, 9.4, k)[:, None]
        level = b + (peak - b) * np.clip((t - (over - ramp)) / ramp, 0.0, 1.0) + rng.normal(0.0, 0.2, (k, days))
        vib[wear] = np.where(t >= over, np.maximum(level, 7.2), np.clip(level, 0.6, None))
    rising = cat == _RISING
    if rising.any():
        k, b = int(rising.sum()), base[rising][:, None]
        top = np.minimum(np.maximum(rng.uniform(4.8, 6.0, k)[:, None], b + 1.6), 6.3)
        onset = days - 90 - rng.integers(0, 10, k)[:, None]
        level = b + (top - b) * np.clip((t - onset) / (days - 1 - onset), 0.0, 1.0)
        vib[rising] = np.clip(level + rng.normal(0.0, 0.15, (k, days)), 0.6, 6.6)
    near = cat == _VIB_NEAR
    if near.any():
        k, b = int(near.sum()), base[near][:, None]
        plateau_from = days - rng.integers(35, 81, k)[:, None]
        level = b + (rng.uniform(6.25, 6.75, k)[:, None] - b) * np.clip((t - plateau_from + 10) / 10, 0.0, 1.0)
        level = level + rng.normal(0.0, 0.12, (k, days))
        vib[near] = np.where(t >= plateau_from, np.clip(level, 6.0, 7.0), np.clip(level, 0.6, 7.0))
    return np.round(vib, 2)


def _last_maintenance_day(
    rng: np.random.Generator, fleet: _Fleet, sub: np.ndarray, counter: np.ndarray, start: np.ndarray,
    interval: np.ndarray, first: int,
) -> np.ndarray:
    """Day index of the last maintenance so hours since it hit the planted share of the interval (-1: before)."""
    since = counter[:, -1:] - counter
    valid = np.arange(TELEMETRY_DAYS)[None, :] >= start[:, None]
    target = fleet.maint_frac[sub] * interval
    # `since` never grows with the day, so the days still meeting the target form a prefix; its end is the day.
    count = ((since >= target[:, None]) & valid).sum(axis=1)
    day = np.where(count > 0, start + count - 1, start)
    # Low-use machines cannot run a whole interval in a year: their due maintenance lies before the telemetry.
    earliest = fleet.install[sub] + 14
    can_before = (count == 0) & (fleet.maint_cat[sub] == _DUE) & (earliest < first - 30)
    day[can_before] = -1
    lm = first + day
    back = first - rng.integers(30, 400, len(sub))
    lm[can_before] = np.maximum(back, earliest)[can_before]
    day[fleet.gap_old[sub]] = -1
    fleet.lm_ord[sub] = np.where(fleet.gap_old[sub], -1, lm)
    hours = counter[np.arange(len(sub)), np.clip(day, 0, None)]
    fleet.lm_hours[sub] = np.where(day >= 0, hours, np.nan)
    return day


def _offline_hours(rng: np.random.Generator, fleet: _Fleet, asof: int) -> None:
    """Counter at export time for machines without telemetry (estimated from use)."""
    off = np.flatnonzero(~fleet.connected)
    end = np.where(fleet.decom[off] >= 0, fleet.decom[off], asof)
    days = np.clip(end - fleet.install[off], 0, None)
    usage = fleet.h_mean[off] * fleet.p_run[off] * rng.uniform(0.8, 1.05, len(off))
    fleet.hours_end[off] = np.round(days * usage, 1)


# ---------------------------------------------------------------- contracts


class _Contract(NamedTuple):
    """One contract before ids are assigned; keep_end protects a planted end date from the blank-date gaps."""

    serial: str
    kind: str
    start: int
    end: int
    value: float | None
    keep_end: bool


def _write_contracts(path: Path, seed: int, fleet: _Fleet, as_of: date, manifest: dict) -> int:
    """Warranties, maintenance contract chains and SLAs with renewal and near-miss end dates; records in `manifest`
    which maintenance-due machines run under an active maintenance contract."""
    rng = _rng(seed, 5)
    asof = as_of.toordinal()
    contracts = [
        _Contract(fleet.serial[i], "warranty", int(fleet.install[i]),
                  _add_years(date.fromordinal(int(fleet.install[i])), WARRANTY_YEARS).toordinal(), None,
                  bool(fleet.warranty_planted[i]))
        for i in np.flatnonzero(~fleet.install_missing)
    ]
    chosen = _quota(rng, np.arange(fleet.n), 0.40, 5, fleet.n)
    ends = asof - rng.integers(30, 1500, fleet.n)
    settled = chosen[(fleet.status[chosen] != _DECOM) & (fleet.install[chosen] < asof - 400)]
    renew = _quota(rng, settled, 0.07, 3, len(settled))
    ends[renew] = asof + rng.integers(1, 86, len(renew))
    near = _quota(rng, np.setdiff1d(settled, renew), 0.04, 2, len(settled))
    ends[near] = asof + rng.integers(92, 119, len(near))
    others = np.setdiff1d(chosen[fleet.status[chosen] != _DECOM], np.concatenate([renew, near]))
    active = others[rng.random(len(others)) < 0.72]
    ends[active] = asof + rng.integers(125, 1000, len(active))
    planted = set(np.concatenate([renew, near]).tolist())
    for i in chosen.tolist():
        contracts += _contract_chain(rng, fleet, i, int(ends[i]), asof, "maintenance", i in planted)
    young = np.flatnonzero((fleet.status != _DECOM) & (fleet.age < 8))
    for i in _quota(rng, young, 0.08, 2, fleet.n).tolist():
        contracts += _contract_chain(rng, fleet, i, asof + int(rng.integers(-400, 900)), asof, "sla", False)
    contracts.sort(key=lambda c: (c.start, c.serial, c.kind))
    blank = rng.random(len(contracts)) < 0.02
    cancelled = rng.random(len(contracts)) < 0.04
    rows = []
    for k, c in enumerate(contracts):
        status = "active" if c.end >= asof else "cancelled" if cancelled[k] and c.kind != "warranty" else "expired"
        end = "" if blank[k] and not c.keep_end else _iso(c.end)
        value = "" if c.value is None else f"{c.value:.2f}"
        rows.append([f"CT-{100001 + k}", c.serial, c.kind, _iso(c.start), end, value, "EUR", status])
    header = ["contract_id", "serial", "type", "start_date", "end_date", "value", "currency", "status"]
    manifest["maintenance_due"] = _covered(fleet, rows)
    return _write_rows(path, header, rows)


def _covered(fleet: _Fleet, rows: list[list[str]]) -> dict[str, object]:
    """Machines planted maintenance-due: those under an active, dated maintenance contract (-> a scheduling task,
    no package sale; the contract running longest) and the rest (-> a sale)."""
    due = {fleet.serial[i] for i in np.flatnonzero((fleet.maint_cat == _DUE) & fleet.connected & (fleet.status != _DECOM))}
    cover: dict[str, tuple[str, str]] = {}
    for contract_id, serial, kind, _, end, _, _, status in rows:
        if serial in due and kind == "maintenance" and status == "active" and end:
            cover[serial] = max(cover.get(serial, ("", "")), (end, contract_id))
    return {"covered": {s: cover[s][1] for s in sorted(cover)}, "open": sorted(due - set(cover))}


def _contract_chain(
    rng: np.random.Generator, fleet: _Fleet, i: int, end: int, asof: int, kind: str, planted: bool
) -> list[_Contract]:
    """The latest contract ending on `end` and, going back, earlier terms it renewed."""
    install = int(fleet.install[i])
    if fleet.decom[i] >= 0:
        end = min(end, int(fleet.decom[i]) - int(rng.integers(0, 200)))
        if end < install + 200:
            return []
    elif end < install + 200:
        end = asof + int(rng.integers(125, 1000))
    annual = MODELS[fleet.model[i]].contract_per_year * (1.4 if kind == "sla" else 1.0)
    chain = []
    while end > install + 60:
        years = int(rng.choice([1, 2, 3], p=[0.5, 0.3, 0.2]))
        years = max(years, min(3, (end - asof) // 365 + 1))  # long enough that no contract starts after as_of
        start = max(install, _add_years(date.fromordinal(end), -years).toordinal() + 1)
        value = round(annual * float(np.exp(rng.normal(0, 0.25))) * (end - start) / 365.25, -1)
        value = min(max(value, 2000.0), 60000.0)
        chain.append(_Contract(fleet.serial[i], kind, start, end, value, planted and not chain))
        if rng.random() > 0.6:
            break
        end = start - 1
    return chain


# ---------------------------------------------------------------- events


@dataclass
class _Events:
    """Events sorted by machine then time: machine, day index, second of day, code index; plus the code table."""

    machine: np.ndarray
    day: np.ndarray
    second: np.ndarray
    code: np.ndarray
    codes: list[EventCode]
    offsets: np.ndarray
    planted: dict[int, tuple[int, int]] = field(default_factory=dict)  # machine -> (code, last day) of a firing plant


def _model_codes(family: str) -> list[EventCode]:
    """Typical codes of a product family (combination machines mix laser and punching)."""
    if family == "combi":
        mixed = CODES["laser"][:6] + CODES["punch"][:5] + (CODES["laser"][8], CODES["punch"][6])
        return list(mixed + CODES["common"])
    return list(CODES[family] + CODES["common"])


def _code_table(rng: np.random.Generator) -> tuple[list[EventCode], list[tuple[np.ndarray, np.ndarray]]]:
    """All event codes, and per model its code indexes with their probabilities (critical ones rare)."""
    table: list[EventCode] = []
    index: dict[str, int] = {}
    per_model = []
    for spec in MODELS:
        codes = _model_codes(spec.family)
        for c in codes:
            if c[0] not in index:
                index[c[0]] = len(table)
                table.append(c)
        weight = np.array([{"info": 1.2, "warning": 1.0, "critical": 0.06}[c[3]] for c in codes])
        weight *= rng.uniform(0.4, 1.6, len(codes))
        per_model.append((np.array([index[c[0]] for c in codes]), weight / weight.sum()))
    return table, per_model


def _make_events(seed: int, fleet: _Fleet) -> _Events:
    """Poisson events per connected machine while in use, with planted critical, recurring and near-miss codes."""
    rng = _rng(seed, 6)
    table, per_model = _code_table(rng)
    ids = np.flatnonzero(fleet.connected)
    span = np.clip(fleet.standby_from[ids] - fleet.start[ids], 0, None)
    rate = np.array([m.events_per_year for m in MODELS])[fleet.model[ids]] * fleet.err_factor[ids]
    count = rng.poisson(rate * span / 365.0)
    machine = np.repeat(ids, count)
    day = fleet.start[machine] + np.floor(rng.random(len(machine)) * np.repeat(span, count)).astype(np.int64)
    code = np.zeros(len(machine), dtype=np.int64)
    for k, (codes, p) in enumerate(per_model):
        sel = fleet.model[machine] == k
        code[sel] = rng.choice(codes, size=int(sel.sum()), p=p)
    planted_m, planted_d, planted_c = _planted_events(rng, fleet, per_model, table)
    machine, day, code = _thin_recent(machine, day, code, planted_m, planted_c)
    machine = np.concatenate([machine, planted_m])
    day = np.concatenate([day, planted_d])
    code = np.concatenate([code, planted_c])
    total = len(machine)
    hour = np.where(rng.random(total) < 0.8, rng.integers(6, 22, total), rng.integers(0, 24, total))
    second = hour * 3600 + rng.integers(0, 3600, total)
    order = np.lexsort((second, day, machine))
    machine, day, second, code = machine[order], day[order], second[order], code[order]
    firing = {int(m): (int(c), int(d)) for m, d, c in sorted(zip(planted_m, planted_d, planted_c))
              if fleet.err_cat[m] in (_CRITICAL, _RECURRING)}
    return _Events(machine, day, second, code, table, np.searchsorted(machine, np.arange(fleet.n + 1)), firing)


def _planted_events(
    rng: np.random.Generator, fleet: _Fleet, per_model: list[tuple[np.ndarray, np.ndarray]], table: list[EventCode]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A critical code, a code 3-5 times, or a code exactly twice, all within the last 28 days."""
    machines, days, codes = [], [], []
    last = TELEMETRY_DAYS - 1
    for i in np.flatnonzero(fleet.err_cat > 0):
        pool, p = per_model[fleet.model[i]]
        critical = np.array([table[c][3] == "critical" for c in pool])
        if fleet.err_cat[i] == _CRITICAL:
            chosen, times = int(rng.choice(pool[critical])), 1
        else:
            weights = np.where(critical, 0.0, p)
            chosen = int(rng.choice(pool, p=weights / weights.sum()))
            times = int(rng.integers(3, 6)) if fleet.err_cat[i] == _RECURRING else 2
        for back in rng.choice(28, size=times, replace=False):
            machines.append(int(i))
            days.append(last - int(back))
            codes.append(chosen)
    return np.array(machines, dtype=np.int64), np.array(days, dtype=np.int64), np.array(codes, dtype=np.int64)


def _thin_recent(
    machine: np.ndarray, day: np.ndarray, code: np.ndarray, planted_m: np.ndarray, planted_c: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """In the last 40 days keep at most one random event per machine and code, none of a planted code.

    So the recurring (>= 3) and near-miss (exactly 2) populations in the last 30 days are exactly the planted ones.
    """
    recent = np.flatnonzero(day >= TELEMETRY_DAYS - 40)
    seen = set(zip(planted_m.tolist(), planted_c.tolist()))
    drop = []
    for j in recent[np.argsort(day[recent], kind="stable")]:
        key = (int(machine[j]), int(code[j]))
        if key in seen:
            drop.append(j)
        else:
            seen.add(key)
    keep = np.ones(len(machine), dtype=bool)
    keep[np.array(drop, dtype=np.int64)] = False
    return machine[keep], day[keep], code[keep]


def _write_events(path: Path, fleet: _Fleet, events: _Events, as_of: date, extra: list[_Planted]) -> int:
    """Events in time order with US-style timestamps (MM/DD/YYYY HH:MM:SS AM), then the `extra` planted ones
    (numbered after the others, so no id moves)."""
    first = as_of.toordinal() - TELEMETRY_DAYS + 1
    day_text = [date.fromordinal(first + d).strftime("%m/%d/%Y") for d in range(TELEMETRY_DAYS)]
    order = np.lexsort((events.machine, events.second, events.day))
    rows = []
    for k, j in enumerate(order):
        stamp = _stamp(day_text[events.day[j]], int(events.second[j]))
        rows.append(_event_row(k, fleet.serial[events.machine[j]], stamp, events.codes[events.code[j]]))
    for k, e in enumerate(extra, start=len(rows)):
        rows.append(_event_row(k, fleet.serial[e.machine], _stamp(day_text[e.day], e.second), e.code))
    return _write_rows(path, ["event_id", "serial", "timestamp", "kind", "code", "severity", "description"], rows)


def _stamp(day_text: str, sec: int) -> str:
    """US-style timestamp of a second of the day."""
    hour, minute, second = sec // 3600, sec // 60 % 60, sec % 60
    return f"{day_text} {(hour % 12) or 12:02d}:{minute:02d}:{second:02d} {'AM' if hour < 12 else 'PM'}"


def _event_row(k: int, serial: str, stamp: str, code: EventCode) -> list[str]:
    """An events.csv row, the k-th (0-based) of the file."""
    name, desc, kind, severity, _ = code
    return [f"EV-{k + 1:07d}", serial, stamp, kind, name, severity, desc]


# Warnings that precede a failure of the same unit within days, so a calibration can learn the pair from the history:
# punching, hydraulic pressure low -> punch head hydraulics fail; press brake, oil too hot -> proportional valve fault.
PRECURSORS = {"E-640": "E-658", "E-422": "E-448"}
EPISODES_PER_YEAR, LONE_WARNINGS_PER_YEAR = 0.35, 0.15
_QUIET_DAYS = 45  # episodes end this long before as_of: the planted recent populations stay exact
_CLEAR = 14  # days kept free of other events of the pair around a planted one
_WORKDAY = (7 * 3600, 17 * 3600)


class _Planted(NamedTuple):
    """A planted event written after all others: day index, second of day, machine, code."""

    day: int
    second: int
    machine: int
    code: EventCode


def _pair_of(family: str) -> tuple[EventCode, EventCode] | None:
    """The (precursor, failure) codes of the first pair a family carries both of."""
    codes = {c[0]: c for c in _model_codes(family)}
    return next(((codes[p], codes[f]) for p, f in PRECURSORS.items() if p in codes and f in codes), None)


def _plant_precursors(seed: int, fleet: _Fleet, events: _Events, asof: int) -> tuple[list[_Planted], dict]:
    """Precursor episodes (Poisson 0.35/year) on connected machines whose family carries a pair, lone warnings
    (0.15/year) on the others; returns the events in time order and what was planted."""
    rng = _rng(seed, 14)  # its own stream: the rest of the base stays as it was
    pairs = [_pair_of(spec.family) for spec in MODELS]
    ids = np.array([i for i in np.flatnonzero(fleet.connected) if pairs[fleet.model[i]]], dtype=np.int64)
    years = np.clip(fleet.standby_from[ids] - fleet.start[ids], 0, None) / 365.0
    episodes = rng.poisson(EPISODES_PER_YEAR * years)
    lone = np.where(episodes == 0, rng.poisson(LONE_WARNINGS_PER_YEAR * years), 0)
    index = {c[0]: k for k, c in enumerate(events.codes)}
    out: list[_Planted] = []
    manifest: dict = {"pairs": dict(PRECURSORS), "episodes": [], "noise": []}
    for i, n_episodes, n_lone in zip(ids.tolist(), episodes.tolist(), lone.tolist()):
        pre, fail = pairs[fleet.model[i]]  # type: ignore[misc]
        lo, hi = int(fleet.start[i]), min(int(fleet.standby_from[i]) - 1, TELEMETRY_DAYS - 1 - _QUIET_DAYS)
        taken = _pair_days(events, i, index[pre[0]], index[fail[0]])
        shapes = [_episode(rng, pre, fail) for _ in range(n_episodes)] + [[(0, pre)]] * n_lone
        for shape in shapes:
            start = _fit(rng, lo, hi, shape, taken)
            if start is None:
                continue
            placed = [_Planted(start + d, int(rng.integers(*_WORKDAY)), i, code) for d, code in shape]
            taken += [e.day for e in placed]
            out += placed
            _record(manifest, fleet.serial[i], placed, asof - TELEMETRY_DAYS + 1)
    manifest["episodes"].sort(key=lambda e: (e["serial"], e["failure_day"]))
    manifest["noise"].sort(key=lambda e: (e["serial"], e["day"]))
    return sorted(out, key=lambda e: (e.day, e.second, e.machine)), manifest


def _pair_days(events: _Events, i: int, *codes: int) -> list[int]:
    """Day indexes of the machine's events with one of the codes."""
    lo, hi = int(events.offsets[i]), int(events.offsets[i + 1])
    return [int(d) for d, c in zip(events.day[lo:hi], events.code[lo:hi]) if c in codes]


def _episode(rng: np.random.Generator, pre: EventCode, fail: EventCode) -> list[tuple[int, EventCode]]:
    """The precursor on 2-3 distinct days within 5 days, then the failure 3-10 days after the last (day offsets)."""
    later = rng.choice(np.arange(1, 5), size=int(rng.integers(1, 3)), replace=False)
    days = [0, *sorted(int(d) for d in later)]
    return [(d, pre) for d in days] + [(days[-1] + int(rng.integers(3, 11)), fail)]


def _fit(
    rng: np.random.Generator, lo: int, hi: int, shape: list[tuple[int, EventCode]], taken: list[int]
) -> int | None:
    """A start day putting the shape inside [lo, hi] and more than _CLEAR days from every taken day (5 tries)."""
    length = shape[-1][0]
    if hi - lo < length:
        return None
    for _ in range(5):
        start = int(rng.integers(lo, hi - length + 1))
        if not any(start - _CLEAR <= t <= start + length + _CLEAR for t in taken):
            return start
    return None


def _record(manifest: dict, serial: str, placed: list[_Planted], first: int) -> None:
    """Add a placed episode or lone warning to the manifest (ISO days)."""
    if len(placed) == 1:
        manifest["noise"].append({"serial": serial, "code": placed[0].code[0], "day": _iso(first + placed[0].day)})
        return
    *warnings, failure = placed
    manifest["episodes"].append({
        "serial": serial, "precursor": warnings[0].code[0], "precursor_days": [_iso(first + e.day) for e in warnings],
        "failure": failure.code[0], "failure_day": _iso(first + failure.day),
    })


# ---------------------------------------------------------------- service records


def _write_service_records(
    path: Path, seed: int, fleet: _Fleet, customers: Customers, events: _Events, as_of: date, manifest: dict
) -> int:
    """2-10 technician notes per machine, the last maintenance where the telemetry put it, plus odd rows; then the
    planted repairs that resolve some recent error patterns (numbered after the others, so no id moves)."""
    rng = _pyrng(seed, 7)
    asof = as_of.toordinal()
    ten_years = _add_years(as_of, -10).toordinal()
    records: list[tuple[int, str, str, str, str, str, str, str]] = []
    roomy = []
    for i in range(fleet.n):
        history = _machine_records(rng, fleet, customers, events, i, asof, ten_years)
        records += history
        if len(history) < 10:
            roomy.append(i)
    records += _odd_records(rng, fleet, customers, roomy)
    records.sort(key=lambda r: (r[0], r[1]))
    keyed = [(r[0], r[1], [f"SR-{k + 1:06d}", *r[1:]]) for k, r in enumerate(records)]
    fixes, manifest["error_pattern"] = _plant_fixes(seed, fleet, customers, events, keyed, asof)
    held: dict[str, int] = {}
    for _, serial, _row in keyed + fixes:
        held[serial] = held.get(serial, 0) + 1
    leads, manifest["note_lead"] = _plant_note_leads(seed, fleet, customers, held, asof)
    rows = [row for _, _, row in sorted(keyed + fixes + leads, key=lambda r: (r[0], r[1]))]
    return _write_rows(path, ["record_id", "serial", "date", "type", "technician", "text", "parts", "cost"], rows)


_FIXES = ("repair", "replacement")


def _natural_fix(rows: list[list[str]], code: str, last: str) -> tuple[str | None, bool]:
    """The record that already resolves a planted code (a repair or replacement after the day of its last event, or
    on that day naming the code), and whether another record that day makes the case ambiguous."""
    after = [r for r in rows if r[3] in _FIXES and len(r[2]) == 10 and r[2][4] == "-" and r[2] >= last]
    named = [r for r in after if code in r[5]]
    found = sorted(named or [r for r in after if r[2] > last], key=lambda r: (r[2], r[0]))
    return (found[0][0] if found else None), any(r[2] == last and code not in r[5] for r in after)


def _plant_fixes(
    seed: int, fleet: _Fleet, customers: Customers, events: _Events, keyed: list[tuple[int, str, list[str]]],
    asof: int,
) -> tuple[list[tuple[int, str, list[str]]], dict[str, list[dict[str, str]]]]:
    """For about half the planted critical/recurring codes not already repaired, a repair naming the code 0-4 days
    after its last event; returns the new rows and every planted case: resolved (by which record) or open."""
    rng = _pyrng(seed, 12)  # its own stream: the rest of the base stays as it was
    first = asof - TELEMETRY_DAYS + 1
    by_serial: dict[str, list[list[str]]] = {}
    for _, serial, row in keyed:
        by_serial.setdefault(serial, []).append(row)
    resolved, still_open, fixes = [], [], []
    for i, (code_ix, day) in sorted(events.planted.items()):
        serial, code = fleet.serial[i], events.codes[code_ix][0]
        last = _iso(first + day)
        record, ambiguous = _natural_fix(by_serial.get(serial, []), code, last)
        if ambiguous:
            continue  # a same-day note that names neither: not a clean planted case
        case = {"serial": serial, "code": code, "last_event": last}
        if record is None and len(by_serial.get(serial, [])) < 10 and rng.random() < 0.5:
            when = min(asof, first + day + rng.randint(0, 4))
            record = f"SR-{len(keyed) + len(fixes) + 1:06d}"
            fixes.append((when, serial, _fix_row(rng, fleet, customers, i, record, when, events.codes[code_ix])))
            resolved.append(case | {"record_id": record, "how": "planted"})
        elif record:
            resolved.append(case | {"record_id": record, "how": "already in the history"})
        else:
            still_open.append(case)
    return fixes, {"resolved": resolved, "open": still_open}


# Inspection notes with a lead in German (written in DE, AT and CH), with the offer each points to, and notes that
# look like a lead but are none (declined, not needed): the note_lead rule must find the first and not the second.
GERMAN_LEADS = (
    ("Sichtprüfung, Hydraulik dicht. Kd. wünscht Angebot für Wartungsvertrag.", "contract"),
    ("Inspektion ok. Empfehlung: Retrofit der Steuerung, Ersatzteile schwer zu beschaffen.", "retrofit"),
    ("Sichtprüfung. Verschleißteile geprüft, KVA folgt für Verschleißteilpaket.", "parts_kit"),
    ("Inspektion. Kunde möchte Angebot für Generalüberholung der Hydraulik.", "overhaul"),
)
NEAR_MISS_NOTES = (
    "visual insp, all ok. customer declined offer for maintenance contract.",
    "visual insp, no quote needed, all ok.",
    "Sichtprüfung ohne Befund. Kunde lehnt Angebot für Wartungsvertrag ab.",
    "Sichtprüfung ohne Befund, kein Bedarf an Ersatzteilen.",
)
LEAD_SHARE, NEAR_MISS_SHARE = 0.02, 0.01


def _plant_note_leads(
    seed: int, fleet: _Fleet, customers: Customers, held: dict[str, int], asof: int,
) -> tuple[list[tuple[int, str, list[str]]], dict[str, list[dict[str, str]]]]:
    """Inspection notes in the last 120 days: a German lead on ~2 % of the machines in service in DE, AT and CH, a
    near miss on ~1 % of the others (only machines with fewer than 10 records: no machine gets more); returns the rows
    (numbered after every other record) and what was planted."""
    rng = _pyrng(seed, 13)  # its own stream: the rest of the base stays as it was
    numbered = sum(held.values())
    live = [i for i in range(fleet.n) if fleet.status[i] != _DECOM and held.get(fleet.serial[i], 0) < 10]
    german = [i for i in live if TERRITORIES[customers.territory[fleet.customer[i]]][1] in ("de", "at", "ch")]
    leads = sorted(rng.sample(german, max(1, round(LEAD_SHARE * len(german))))) if german else []
    rest = [i for i in live if i not in set(leads)]
    misses = sorted(rng.sample(rest, max(1, round(NEAR_MISS_SHARE * len(rest))))) if rest else []
    rows: list[tuple[int, str, list[str]]] = []
    manifest: dict[str, list[dict[str, str]]] = {"leads": [], "near_misses": []}
    for kind, chosen in (("leads", leads), ("near_misses", misses)):
        for i in chosen:
            day = asof - rng.randint(1, 120)
            record = f"SR-{numbered + len(rows) + 1:06d}"
            text, offer = rng.choice(GERMAN_LEADS) if kind == "leads" else (rng.choice(NEAR_MISS_NOTES), "")
            tech = rng.choice(TECHNICIANS[TERRITORIES[customers.territory[fleet.customer[i]]][0]])
            rows.append((day, fleet.serial[i], [record, fleet.serial[i], _iso(day), "inspection", tech, text, "",
                                                  _cost(rng, "inspection", [])]))
            manifest[kind].append({"serial": fleet.serial[i], "record_id": record, "offer": offer})
    return rows, manifest


def _fix_row(
    rng: random.Random, fleet: _Fleet, customers: Customers, i: int, record: str, day: int, code: EventCode
) -> list[str]:
    """A service_records.csv row: a repair note naming the code."""
    spec = MODELS[fleet.model[i]]
    ctx = NoteContext(spec.family, spec.interval_h, old_machine=float(fleet.age[i]) > 10, successor=spec.successor,
                      code=code)
    text, parts = service_note(rng, "repair", ctx)
    if code[0] not in text:
        text = f"{code[0]}: {text}"
    tech = rng.choice(TECHNICIANS[TERRITORIES[customers.territory[fleet.customer[i]]][0]])
    return [record, fleet.serial[i], _iso(day), "repair", tech, text, ";".join(parts), _cost(rng, "repair", parts)]


def _machine_records(
    rng: random.Random, fleet: _Fleet, customers: Customers, events: _Events, i: int, asof: int, ten_years: int
) -> list[tuple[int, str, str, str, str, str, str, str]]:
    """One machine's service history (sort key, serial, date, type, technician, text, parts, cost)."""
    spec = MODELS[fleet.model[i]]
    install = int(fleet.install[i])
    life_end = int(fleet.decom[i]) if fleet.decom[i] >= 0 else asof
    rec_end = max(install, ten_years - 60) if fleet.gap_old[i] else life_end
    rec_start = min(install + 7, rec_end)
    last_maint = int(fleet.lm_ord[i])
    if last_maint < 0:
        back = rng.randint(30, 400) if fleet.decom[i] >= 0 else rng.randint(20, 540)
        last_maint = rng.randint(rec_start, rec_end) if fleet.gap_old[i] else max(rec_start, rec_end - back)
    age = float(fleet.age[i])
    count = min(10, max(2, 2 + int(age * 0.4) + rng.randint(0, 2)))
    ctx = NoteContext(spec.family, spec.interval_h, old_machine=age > 10, successor=spec.successor)
    hours = None if np.isnan(fleet.lm_hours[i]) else float(fleet.lm_hours[i])
    plan: list[tuple[int, str, NoteContext]] = [(last_maint, "maintenance", _with(ctx, counter_h=hours))]
    if fleet.connected[i] and not fleet.gap_old[i]:
        plan += _event_repairs(rng, events, i, asof, count - 2, ctx)
        vib = float(fleet.vib_last[i])
        if fleet.vib_cat[i] == _WEAR:
            plan.append((asof - rng.randint(1, 12), "inspection", _with(ctx, vibration=max(vib, 7.2))))
        elif fleet.vib_cat[i] == _RISING and rng.random() < 0.4:
            plan.append((asof - rng.randint(1, 20), "inspection", _with(ctx, vibration=vib)))
    while len(plan) < count:
        kind = rng.choices(("repair", "maintenance", "inspection", "replacement"), (0.4, 0.25, 0.2, 0.15))[0]
        day = rng.randint(rec_start, rec_end)
        if kind == "maintenance" and day >= last_maint:
            if last_maint - 30 > rec_start:
                day = rng.randint(rec_start, last_maint - 30)
            else:
                kind = "inspection"
        plan.append((day, kind, ctx))
    territory = TERRITORIES[customers.territory[fleet.customer[i]]][0]
    out = []
    for day, kind, note_ctx in plan:
        text, parts = service_note(rng, kind, note_ctx)
        specialist = spec.family in ("laser", "combi") and rng.random() < 0.1
        tech = SPECIALIST if specialist else rng.choice(TECHNICIANS[territory])
        out.append((day, fleet.serial[i], _iso(day), kind, tech, text, ";".join(parts), _cost(rng, kind, parts)))
    return out


def _with(ctx: NoteContext, **changes: object) -> NoteContext:
    """A copy of ctx with some fields changed."""
    return NoteContext(**{**ctx.__dict__, **changes})


def _event_repairs(
    rng: random.Random, events: _Events, i: int, asof: int, room: int, ctx: NoteContext
) -> list[tuple[int, str, NoteContext]]:
    """Repairs a few days after some of the machine's warning/critical events, naming their code."""
    lo, hi = int(events.offsets[i]), int(events.offsets[i + 1])
    serious = [j for j in range(lo, hi) if events.codes[events.code[j]][3] != "info"]
    take = min(len(serious), room, rng.choice((0, 1, 1, 2)))
    first = asof - TELEMETRY_DAYS + 1
    out = []
    for j in rng.sample(serious, take):
        day = min(asof, first + int(events.day[j]) + rng.randint(0, 4))
        out.append((day, "repair", _with(ctx, code=events.codes[events.code[j]])))
    return out


def _cost(rng: random.Random, kind: str, parts: list[str]) -> str:
    """Invoice amount in EUR, sometimes missing."""
    if rng.random() < 0.08:
        return ""
    if kind == "maintenance":
        value = rng.uniform(400, 3500)
    elif kind == "inspection":
        value = rng.uniform(150, 650)
    else:
        labour = rng.lognormvariate(6.2, 0.6) if kind == "repair" else rng.uniform(200, 900)
        value = labour + sum(PARTS[p][1] for p in parts) * 1.2
    return f"{value:.2f}"


# Real serial numbers start above 100 (see _serials), so these scrapped machines are never in machines.csv.
_SCRAPPED = (
    ("PB800-000017", date(2019, 3, 12), "repair"),
    ("PB800-000017", date(2020, 6, 2), "inspection"),
    ("TL2510-000023", date(2021, 1, 19), "inspection"),
)
_IMPOSSIBLE_DATES = (("31.02.2024", date(2024, 2, 28)), ("30.02.2023", date(2023, 2, 28)))


def _odd_records(
    rng: random.Random, fleet: _Fleet, customers: Customers, roomy: list[int]
) -> list[tuple[int, str, str, str, str, str, str, str]]:
    """Honest-accounting showcase: notes on scrapped machines unknown to the ERP, and two impossible dates."""
    out = []
    for serial, day, kind in _SCRAPPED:
        text = "hyd pump noisy, repl coupling" if kind == "repair" else scrapped_note(rng)
        out.append((day.toordinal(), serial, day.isoformat(), kind, rng.choice(TECHNICIANS["DE-South"]), text, "",
                    f"{rng.uniform(200, 900):.2f}"))
    cutoff = date(2022, 1, 1).toordinal()
    old = [i for i in roomy if fleet.install[i] < cutoff] or roomy or list(range(fleet.n))
    for text_date, meant in _IMPOSSIBLE_DATES:
        i = rng.choice(old)
        spec = MODELS[fleet.model[i]]
        note, parts = service_note(rng, "repair", NoteContext(spec.family, spec.interval_h))
        tech = rng.choice(TECHNICIANS[TERRITORIES[customers.territory[fleet.customer[i]]][0]])
        out.append((meant.toordinal(), fleet.serial[i], text_date, "repair", tech, note, ";".join(parts), ""))
    return out


# ---------------------------------------------------------------- parts orders


def _family_parts(family: str) -> tuple[list[str], list[float]]:
    """Part numbers a machine family orders, wear parts three times as often."""
    keys = FAMILY_COMPONENTS[family] + FAMILY_COMPONENTS["common"]
    numbers = sorted({COMPONENTS[k][0] for k in keys if COMPONENTS[k][0]})
    return numbers, [3.0 if PARTS[p][2] else 1.0 for p in numbers]


def _write_parts_orders(path: Path, seed: int, fleet: _Fleet, customers: Customers, as_of: date) -> int:
    """Five years of spare-parts orders; ~10 % of machines none in 24 months, some last 20-24 months ago."""
    rng = _rng(seed, 8)
    prng = _pyrng(seed, 8)
    asof = as_of.toordinal()
    five = _add_years(as_of, -5).toordinal()
    n = fleet.n
    live = fleet.status != _DECOM
    pool = np.flatnonzero(live & (fleet.install < asof - 760))
    last = asof - rng.integers(0, 590, n)
    lapsed = _quota(rng, pool, 0.10, 3, len(pool))
    last[lapsed] = np.where(rng.random(len(lapsed)) < 0.25, -1, asof - rng.integers(745, 1826, len(lapsed)))
    near = _quota(rng, np.setdiff1d(pool, lapsed), 0.04, 2, len(pool))
    last[near] = asof - rng.integers(610, 726, len(near))
    young = np.flatnonzero(live & (fleet.install >= asof - 760))
    spread = rng.random(len(young)) * (asof - fleet.install[young])
    last[young] = np.where(rng.random(len(young)) < 0.7, fleet.install[young] + spread.astype(np.int64), -1)
    gone = np.flatnonzero(~live)
    last[gone] = fleet.decom[gone] - rng.integers(0, 300, len(gone))
    gap = 365.0 / rng.uniform(1.0, 5.0, n)
    catalog = {spec.family: _family_parts(spec.family) for spec in MODELS}
    orders: list[tuple[int, str, str, str]] = []
    for i in range(n):
        numbers, weights = catalog[MODELS[fleet.model[i]].family]
        floor, day = max(int(fleet.install[i]) + 14, five), int(last[i])
        while day >= floor:
            part = prng.choices(numbers, weights)[0]
            orders.append((day, fleet.serial[i], customers.ids[fleet.customer[i]], part))
            day -= int(prng.expovariate(1.0 / gap[i])) + 7
    every = sorted(PARTS)
    for _ in range(max(2, n // 100)):
        cust = customers.ids[prng.randrange(len(customers.ids))]
        orders.append((asof - prng.randint(760, 1800), "", cust, prng.choice(every)))  # customer-level orders
    orders.sort(key=lambda o: (o[0], o[1], o[2]))
    rows = []
    for k, (day, serial, cust, part) in enumerate(orders):
        wear = PARTS[part][2]
        qty = prng.randint(1, 10) if wear else prng.randint(1, 2)
        value = qty * PARTS[part][1] * prng.uniform(0.85, 1.0)
        rows.append([f"PO-{1000001 + k}", serial, cust, _iso(day), part, str(qty), f"{value:.2f}"])
    return _write_rows(path, ["order_id", "serial", "customer_id", "date", "part_number", "quantity", "value"], rows)


# ---------------------------------------------------------------- offers and mapping


def _write_offers(path: Path) -> int:
    """Standard fixed-price service offers as a JSON array."""
    offers = [
        {"offer_id": oid, "name": name, "price": price, "currency": "EUR", "models": models, "triggers": triggers,
         "duration": duration}
        for oid, name, price, models, triggers, duration in OFFERS
    ]
    path.write_text(json.dumps(offers, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return len(offers)
