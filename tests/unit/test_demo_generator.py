"""The demo installed base: deterministic, in the agreed file formats, with firing and near-miss populations."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pyarrow.csv as pacsv
import pytest
import yaml
from openpyxl import load_workbook

from sdi.demo import generator as demo

N = 300
AS_OF = demo.DEFAULT_AS_OF
TRIGGERS = {"contract_renewal", "warranty_sla", "modernization", "retrofit_age", "maintenance_due", "error_pattern",
            "wear", "parts_reminder", "end_of_life", "precursor"}
HEADERS = {
    "customers.csv": "customer_id,name,territory,account_manager,contact_name,contact_email,contact_phone",
    "machines.csv": "SerialNo;Model;CustomerNo;Site;InstallDate;BuildYear;Status;OperatingHours",
    "contracts.csv": "contract_id,serial,type,start_date,end_date,value,currency,status",
    "telemetry.csv": "serial,date,operating_hours,vibration,temperature",
    "events.csv": "event_id,serial,timestamp,kind,code,severity,description",
    "service_records.csv": "record_id,serial,date,type,technician,text,parts,cost",
    "parts_orders.csv": "order_id,serial,customer_id,date,part_number,quantity,value",
}
EVENT_FORMAT = "%m/%d/%Y %I:%M:%S %p"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """One small demo base shared by the read-only tests."""
    out = tmp_path_factory.mktemp("demo")
    return out, demo.generate(out, machines=N, seed=7)


def _rows(path: Path, delimiter: str = ",") -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh, delimiter=delimiter))


def _machines(out: Path) -> dict[str, dict[str, str]]:
    return {m["SerialNo"]: m for m in _rows(out / "machines.csv", ";")}


def _days_until(iso: str) -> int:
    return (date.fromisoformat(iso) - AS_OF).days


def _age_years(machine: dict[str, str]) -> float | None:
    if not machine["InstallDate"]:
        return None
    return (AS_OF - datetime.strptime(machine["InstallDate"], "%d.%m.%Y").date()).days / 365.25


def _telemetry(out: Path) -> dict[str, dict[str, np.ndarray]]:
    """Per serial: day offsets from as_of (0 = as_of, negative before) and the metric arrays, in date order."""
    table = pacsv.read_csv(out / "telemetry.csv")
    serial = np.array(table["serial"].to_pylist())
    day = table["date"].to_numpy().astype("datetime64[D]").astype(np.int64) - (AS_OF - date(1970, 1, 1)).days
    cols = {c: table[c].to_numpy(zero_copy_only=False).astype(float) for c in ("operating_hours", "vibration")}
    order = np.lexsort((day, serial))
    serial, day = serial[order], day[order]
    names, starts = np.unique(serial, return_index=True)
    bounds = list(starts) + [len(serial)]
    return {
        name: {"day": day[lo:hi], **{c: v[order][lo:hi] for c, v in cols.items()}}
        for name, lo, hi in zip(names, bounds[:-1], bounds[1:])
    }


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    demo.generate(first, machines=N, seed=42)
    demo.generate(second, machines=N, seed=42)
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir())
    assert set(demo.FILES) | {"mapping.yaml"} == set(names)
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_other_seed_gives_other_data(tmp_path: Path, base: tuple[Path, dict]) -> None:
    out, _ = base
    demo.generate(tmp_path, machines=N, seed=8)
    catalogs = {"models.xlsx", "service_offers.json"}
    for name in set(demo.FILES) - catalogs:
        assert (tmp_path / name).read_bytes() != (out / name).read_bytes(), name


def test_summary_counts_the_written_rows(base: tuple[Path, dict]) -> None:
    out, summary = base
    assert summary["as_of"] == AS_OF.isoformat()
    for name in HEADERS:
        rows = _rows(out / name, ";" if name == "machines.csv" else ",")
        assert summary[name] == len(rows), name
    assert summary["machines.csv"] == N
    assert summary["customers.csv"] >= 20
    assert summary["service_offers.json"] == len(json.loads((out / "service_offers.json").read_text("utf-8")))
    assert summary["models.xlsx"] == load_workbook(out / "models.xlsx")["Models"].max_row - 1


def test_files_have_the_agreed_headers(base: tuple[Path, dict]) -> None:
    out, _ = base
    for name, header in HEADERS.items():
        first_line = (out / name).read_bytes().split(b"\n", 1)[0].decode("utf-8-sig").rstrip("\r")
        assert first_line == header, name
    sheet = load_workbook(out / "models.xlsx")["Models"]
    assert [c.value for c in sheet[1]] == [
        "Model", "Product line", "Maintenance interval (h)", "End of life", "Successor", "Parts discontinued"
    ]


def test_machines_csv_is_an_erp_export_with_gaps(base: tuple[Path, dict]) -> None:
    out, _ = base
    raw = (out / "machines.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.split(b"\r\n", 1)[0].count(b";") == 7
    machines = list(_machines(out).values())
    assert len({m["SerialNo"] for m in machines}) == N
    assert all(re.fullmatch(r"[A-Z]{2}\d{3,4}-\d{6}", m["SerialNo"]) for m in machines)
    assert all(re.fullmatch(r"\d\d\.\d\d\.\d{4}", m["InstallDate"]) for m in machines if m["InstallDate"])
    missing = [m for m in machines if not m["InstallDate"]]
    assert missing and any(m["BuildYear"] for m in missing)
    assert any(not m["Site"] for m in machines)
    assert {m["Status"] for m in machines} <= {"active", "standby", "decommissioned"}
    ages = [a for a in map(_age_years, machines) if a is not None]
    assert 0.08 <= sum(a > 10 for a in ages) / len(ages) <= 0.25
    assert sum(8 <= a <= 12 for a in ages) / len(ages) >= 0.25
    assert all(float(m["OperatingHours"]) >= 0 for m in machines)


def test_models_have_end_of_life_successors_and_intervals(base: tuple[Path, dict]) -> None:
    out, _ = base
    rows = list(load_workbook(out / "models.xlsx")["Models"].iter_rows(min_row=2, values_only=True))
    eol = [r for r in rows if isinstance(r[3], datetime) and r[3].date() < AS_OF and r[4]]
    assert len(eol) >= 2
    assert any(r[5] == "yes" for r in rows) and {r[5] for r in rows} == {"yes", "no"}
    assert len({r[2] for r in rows}) > 1
    assert {m["Model"] for m in _machines(out).values()} <= {r[0] for r in rows}


def test_contracts_have_firing_and_near_miss_end_dates(base: tuple[Path, dict]) -> None:
    out, _ = base
    contracts = _rows(out / "contracts.csv")
    machines = _machines(out)
    assert {c["serial"] for c in contracts} <= set(machines)

    def ending(kind: str, low: int, high: int) -> int:
        ends = [_days_until(c["end_date"]) for c in contracts if c["type"] == kind and c["end_date"]]
        return sum(low <= days <= high for days in ends)

    assert ending("maintenance", 0, 89) > 0
    assert ending("maintenance", 90, 120) > 0
    assert ending("warranty", 0, 59) > 0
    assert ending("warranty", 60, 75) > 0
    assert any(not c["end_date"] for c in contracts)
    for c in contracts:
        if c["end_date"]:
            ended = _days_until(c["end_date"]) < 0
            assert c["status"] in (("expired", "cancelled") if ended else ("active",)), c
        assert _days_until(c["start_date"]) <= 0
    values = [float(c["value"]) for c in contracts if c["type"] == "maintenance"]
    assert min(values) >= 2000 and max(values) <= 60000
    with_maintenance = {c["serial"] for c in contracts if c["type"] == "maintenance"}
    assert 0.3 <= len(with_maintenance) / N <= 0.5


def test_telemetry_counters_and_vibration_populations(base: tuple[Path, dict]) -> None:
    out, _ = base
    machines = _machines(out)
    series = _telemetry(out)
    assert set(series) <= set(machines)
    assert all(machines[s]["Status"] != "decommissioned" for s in series)
    assert 0.8 <= len(series) / N <= 0.95
    assert max(s["day"].max() for s in series.values()) == 0
    assert min(s["day"].min() for s in series.values()) == -364
    over = near = rising = 0
    for serial, s in series.items():
        hours = s["operating_hours"][~np.isnan(s["operating_hours"])]
        assert np.all(np.diff(hours) >= 0), serial
        assert hours[-1] == pytest.approx(float(machines[serial]["OperatingHours"]))
        vib = s["vibration"]
        recent = vib[(s["day"] > -30) & ~np.isnan(vib)]
        if recent.max() > 7.1:
            over += 1
        elif recent.max() >= 6.0:
            near += 1
        earlier = vib[(s["day"] <= -76) & (s["day"] > -90) & ~np.isnan(vib)]
        if len(earlier) and recent.max() <= 7.1 and np.nanmean(vib[s["day"] > -14]) - earlier.mean() >= 1.0:
            rising += 1
    assert over > 0 and near > 0 and rising > 0


def test_telemetry_has_a_few_sensor_dropouts(base: tuple[Path, dict]) -> None:
    out, summary = base
    table = pacsv.read_csv(out / "telemetry.csv")
    nulls = sum(table[c].null_count for c in ("operating_hours", "vibration", "temperature"))
    assert 0 < nulls < 0.005 * 3 * summary["telemetry.csv"]


def test_events_have_critical_recurring_and_near_miss_codes(base: tuple[Path, dict]) -> None:
    out, _ = base
    events = _rows(out / "events.csv")
    connected = set(_telemetry(out))
    stamps = [datetime.strptime(e["timestamp"], EVENT_FORMAT) for e in events]
    assert all(-364 <= (t.date() - AS_OF).days <= 0 for t in stamps)
    assert {e["serial"] for e in events} <= connected
    assert {e["kind"] for e in events} <= {"error", "alarm", "failure"}
    assert {e["severity"] for e in events} <= {"info", "warning", "critical"}
    assert all(re.fullmatch(r"E-\d{3}", e["code"]) for e in events)
    recent = [e for e, t in zip(events, stamps) if (AS_OF - t.date()).days < 30]
    assert any(e["severity"] == "critical" for e in recent)
    per_code = Counter((e["serial"], e["code"]) for e in recent)
    assert any(n >= 3 for n in per_code.values())
    assert any(n == 2 for n in per_code.values())


def test_last_maintenance_gives_due_and_near_miss_machines(base: tuple[Path, dict]) -> None:
    out, _ = base
    machines = _machines(out)
    sheet = load_workbook(out / "models.xlsx")["Models"]
    interval = {r[0]: r[2] for r in sheet.iter_rows(min_row=2, values_only=True)}
    last: dict[str, date] = {}
    for r in _rows(out / "service_records.csv"):
        if r["type"] == "maintenance" and r["serial"] in machines and re.fullmatch(r"\d{4}-\d\d-\d\d", r["date"]):
            last[r["serial"]] = max(last.get(r["serial"], date.min), date.fromisoformat(r["date"]))
    share = Counter()
    for serial, s in _telemetry(out).items():
        assert serial in last, f"connected machine {serial} without a maintenance record"
        offset = (last[serial] - AS_OF).days
        hit = np.flatnonzero(s["day"] == offset)
        if not len(hit):
            assert offset < s["day"].min(), serial
            continue
        since = np.nanmax(s["operating_hours"]) - s["operating_hours"][hit[0]]
        fraction = since / interval[machines[serial]["Model"]]
        share["due" if fraction >= 1 else "near" if fraction >= 0.85 else "ok"] += 1
    assert share["due"] > 0 and share["near"] > 0 and share["ok"] > share["due"]


def test_service_records_read_like_notes_and_include_odd_rows(base: tuple[Path, dict]) -> None:
    out, _ = base
    machines = _machines(out)
    records = _rows(out / "service_records.csv")
    assert all(len(r) == 8 and None not in r for r in records)
    assert len({r["record_id"] for r in records}) == len(records)
    assert all(re.fullmatch(r"SR-\d{6}", r["record_id"]) for r in records)
    assert sum(r["serial"] not in machines for r in records) == 3
    bad_dates = [r["date"] for r in records if not re.fullmatch(r"\d{4}-\d\d-\d\d", r["date"])]
    assert len(bad_dates) == 2 and "31.02.2024" in bad_dates
    known = [r for r in records if r["serial"] in machines and r["date"] not in bad_dates]
    per_machine = Counter(r["serial"] for r in known)
    assert set(per_machine) == set(machines)
    assert 2 <= min(per_machine.values()) and max(per_machine.values()) <= 10
    words = [sum(1 for w in r["text"].split() if any(ch.isalnum() for ch in w)) for r in records]
    assert min(words) >= 5 and max(words) <= 60 and max(words) >= 30
    texts = " ".join(r["text"] for r in records)
    assert any("," in r["text"] for r in records)
    for token in ("hyd", "L/H", "R/H", "chk", "repl", "w/"):
        assert token.lower() in texts.lower(), token
    assert re.search(r"\b\d{4}-\d{3}\b", texts) and re.search(r"mm/s", texts, re.IGNORECASE)
    assert any(r["text"].isupper() for r in records) and any(r["text"].islower() for r in records)
    assert all(re.fullmatch(r"(\d{4}-\d{3})(;\d{4}-\d{3})*", r["parts"]) for r in records if r["parts"])
    codes_by_machine: dict[str, set[str]] = {}
    for e in _rows(out / "events.csv"):
        codes_by_machine.setdefault(e["serial"], set()).add(e["code"])
    cited = [(r["serial"], c) for r in known for c in re.findall(r"E-\d{3}", r["text"])]
    assert cited and all(c in codes_by_machine.get(s, set()) for s, c in cited)
    assert len({r["technician"] for r in records}) >= 10


def test_old_machines_include_service_history_gaps(base: tuple[Path, dict]) -> None:
    out, _ = base
    machines = _machines(out)
    latest: dict[str, date] = {}
    for r in _rows(out / "service_records.csv"):
        if re.fullmatch(r"\d{4}-\d\d-\d\d", r["date"]):
            latest[r["serial"]] = max(latest.get(r["serial"], date.min), date.fromisoformat(r["date"]))
    old = [s for s, m in machines.items() if (_age_years(m) or 0) > 10]
    assert any((AS_OF - latest[s]).days > 3653 for s in old)


def test_parts_orders_have_lapsed_and_near_miss_machines(base: tuple[Path, dict]) -> None:
    out, _ = base
    machines = _machines(out)
    orders = _rows(out / "parts_orders.csv")
    assert all(-5 * 366 <= _days_until(o["date"]) <= 0 for o in orders)
    assert {o["serial"] for o in orders if o["serial"]} <= set(machines)
    last: dict[str, int] = {}
    for o in orders:
        if o["serial"]:
            last[o["serial"]] = max(last.get(o["serial"], -10**6), _days_until(o["date"]))
    eligible = [s for s, m in machines.items() if m["Status"] != "decommissioned" and (_age_years(m) or 0) > 2.1]
    months = [-last.get(s, -10**6) / 30.44 for s in eligible]
    lapsed = sum(m > 24 for m in months)
    assert 0.05 <= lapsed / len(eligible) <= 0.2
    assert any(20 <= m <= 24 for m in months)


def test_service_offers_answer_catalog_triggers(base: tuple[Path, dict]) -> None:
    out, _ = base
    offers = json.loads((out / "service_offers.json").read_text("utf-8"))
    assert 12 <= len(offers) <= 20
    models = {r[0] for r in load_workbook(out / "models.xlsx")["Models"].iter_rows(min_row=2, values_only=True)}
    for offer in offers:
        assert set(offer) == {"offer_id", "name", "price", "currency", "models", "triggers", "duration"}
        assert set(offer["triggers"]) <= TRIGGERS and offer["triggers"]
        assert set(offer["models"]) <= models
    prices = [o["price"] for o in offers]
    assert min(prices) < 1500 < max(prices)
    assert TRIGGERS == {t for o in offers for t in o["triggers"]}


def test_mapping_describes_every_file_in_dependency_order(base: tuple[Path, dict]) -> None:
    out, _ = base
    mapping = yaml.safe_load((out / "mapping.yaml").read_text("utf-8"))
    assert mapping["as_of"] == AS_OF
    entities = [f["entity"] for f in mapping["files"]]
    assert entities == ["model", "customer", "machine", "contract", "telemetry", "event", "service_record",
                        "parts_order", "service_offer"]
    assert [f["path"] for f in mapping["files"]] == list(demo.FILES)
    by_entity = {f["entity"]: f for f in mapping["files"]}
    assert by_entity["machine"]["delimiter"] == ";" and by_entity["machine"]["date_format"] == "%d.%m.%Y"
    assert by_entity["event"]["date_format"] == EVENT_FORMAT
    assert by_entity["telemetry"]["metrics"] == ["operating_hours", "vibration", "temperature"]
    assert by_entity["model"]["sheet"] == "Models"
    for f in mapping["files"]:
        if f["path"].endswith(".csv"):
            header = set(HEADERS[f["path"]].split(";" if f.get("delimiter") == ";" else ","))
        elif f["path"].endswith(".json"):
            header = set(json.loads((out / f["path"]).read_text("utf-8"))[0])
        else:
            header = {c.value for c in load_workbook(out / f["path"])[f["sheet"]][1]}
        for source in f["columns"].values():
            assert set(re.findall(r"\{([^{}]+)\}", source) or [source]) <= header, source
    machine_customers = {"CU-" + m["CustomerNo"] for m in _machines(out).values()}
    assert machine_customers <= {c["customer_id"] for c in _rows(out / "customers.csv")}


def test_progress_is_reported_per_step(tmp_path: Path) -> None:
    messages: list[str] = []
    demo.generate(tmp_path, machines=40, seed=1, progress=messages.append)
    assert any(m.startswith("telemetry: ") and m.endswith(" machines") for m in messages)
    assert any(m.startswith("service records") for m in messages)
