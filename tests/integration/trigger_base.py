"""A hand-built small installed base where each rule fires, nearly fires, and is not evaluable."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

AS_OF = date(2026, 6, 30)
QUIET = [f"Q{i:02d}" for i in range(1, 21)]


def ago(days: int) -> date:
    return AS_OF - timedelta(days=days)


def years_ago(years: float) -> date:
    return AS_OF - timedelta(days=round(years * 365.25))


def build(folder: Path, with_future_records: bool = True) -> Path:
    """Write the exports and mapping.yaml; returns the mapping path."""
    machines = {s: {"model": "TL", "install": years_ago(5), "year": ""} for s in QUIET}
    special = {
        "F-CR": {}, "N-CR": {}, "X-CR": {}, "E-CR": {}, "F-WS": {}, "N-WS": {},
        "F-MOD": {"install": years_ago(9)}, "N-MOD": {"install": years_ago(7.9)},
        "F-RET": {"install": years_ago(11)}, "N-RET": {"install": years_ago(9.9)},
        "Y-RET": {"install": "", "year": str(AS_OF.year - 12)}, "X-AGE": {"install": ""},
        "F-MD": {}, "N-MD": {}, "X-MD": {}, "LB-MD": {},
        "F-EP": {}, "N-EP": {}, "F-EPC": {},
        "F-W": {}, "N-W": {}, "F-WR": {}, "X-TEL": {},
        "F-PR": {}, "N-PR": {}, "F-PR0": {}, "X-PR": {"install": ""},
        "F-EOL": {"model": "OLD"}, "N-EOL": {"model": "OLD"}, "X-EOL": {"model": "ZZZ"},
        "DECOM": {"status": "decommissioned", "install": years_ago(15)},
    }
    for serial, over in special.items():
        machines[serial] = {"model": "TL", "install": years_ago(5), "year": ""} | over
    write(folder / "models.csv", ["model", "interval", "eol", "successor"],
          [["TL", 500, "", ""], ["OLD", 500, ago(100), "NEW"]])
    write(folder / "customers.csv", ["id", "name", "territory", "am"], [["C1", "Acme", "North", "Ann Rep"]])
    write(folder / "machines.csv", ["serial", "model", "customer", "install", "year", "status"],
          [[s, m["model"], "C1", m["install"], m["year"], m.get("status", "active")] for s, m in machines.items()])
    contracts = [
        ["K1", "F-CR", "maintenance", ago(300), AS_OF + timedelta(days=28), 30000],
        ["K2", "N-CR", "maintenance", ago(300), AS_OF + timedelta(days=95), 30000],
        ["K3", "X-CR", "maintenance", ago(300), "", 10000],
        ["K4", "E-CR", "maintenance", ago(400), ago(10), 10000],
        ["K5", "F-WS", "warranty", ago(700), AS_OF + timedelta(days=30), ""],
        ["K6", "N-WS", "warranty", ago(700), AS_OF + timedelta(days=61), ""],
        ["K7", "N-EOL", "maintenance", ago(100), AS_OF + timedelta(days=200), 5000],
    ]
    if with_future_records:
        contracts.append(["K8", "Q01", "maintenance", AS_OF + timedelta(days=3), AS_OF + timedelta(days=20), 1])
    write(folder / "contracts.csv", ["id", "serial", "type", "start", "end", "value"], contracts)
    telemetry = []
    for serial in machines:
        if serial in ("X-TEL", "DECOM"):
            continue
        for i in range(120):
            day = ago(119 - i)
            vib = 2.0 + (0.1 if i % 2 else -0.1)
            if serial == "F-W" and i >= 113:
                vib = 7.5
            if serial == "N-W" and i >= 113:
                vib = 6.9
            if serial == "F-WR" and i >= 30:
                vib = 2.0 + (i - 30) * 3.0 / 89
            telemetry.append([serial, day, 1000 + 8 * i, round(vib, 3)])
    write(folder / "telemetry.csv", ["serial", "day", "hours", "vibration"], telemetry)
    events = [
        ["F-MOD", ago(300), "E-101", "warning"], ["F-MOD", ago(200), "E-102", "warning"],
        ["F-MOD", ago(100), "E-103", "warning"], ["F-MOD", ago(50), "E-104", "warning"],
        ["N-MOD", ago(300), "E-101", "warning"], ["N-MOD", ago(200), "E-102", "warning"],
        ["N-MOD", ago(100), "E-103", "warning"], ["N-MOD", ago(50), "E-104", "warning"],
        ["F-EP", ago(1), "E-417", "warning"], ["F-EP", ago(10), "E-417", "warning"], ["F-EP", ago(20), "E-417", "warning"],
        ["N-EP", ago(5), "E-417", "warning"], ["N-EP", ago(25), "E-417", "warning"], ["N-EP", ago(40), "E-417", "warning"],
        ["F-EPC", ago(3), "E-900", "critical"],
    ]
    if with_future_records:
        events.append(["Q02", AS_OF + timedelta(days=1), "E-900", "critical"])
    write(folder / "events.csv", ["serial", "ts", "code", "severity"],
          [[s, f"{d.isoformat()} 10:00:00", c, sev] for s, d, c, sev in events])
    records = []
    for serial in machines:
        days = {"F-MD": 80, "N-MD": 60, "LB-MD": 200}.get(serial, 30)
        if serial not in ("X-MD",):
            records.append([f"R-{serial}", serial, ago(days), "maintenance", f"Scheduled maintenance on {serial}"])
    if with_future_records:
        records.append(["R-FUT", "F-MD", AS_OF + timedelta(days=2), "maintenance", "after as-of"])
    write(folder / "service.csv", ["id", "serial", "date", "type", "text"], records)
    orders = []
    for serial in machines:
        if serial in ("F-PR0", "X-PR"):
            continue
        when = {"F-PR": ago(int(25 * 30.44)), "N-PR": ago(int(23 * 30.44))}.get(serial, ago(100))
        orders.append([f"O-{serial}", serial, when, "4471-220"])
    if with_future_records:
        orders.append(["O-FUT", "F-PR", AS_OF + timedelta(days=5), "4471-220"])
    write(folder / "orders.csv", ["id", "serial", "date", "part"], orders)
    mapping = folder / "mapping.yaml"
    mapping.write_text(MAPPING)
    return mapping


def write(path: Path, header: list[str], rows: list[list[object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(header)
        out.writerows([["" if v is None else v for v in row] for row in rows])


MAPPING = """
files:
  - {path: models.csv, entity: model, columns: {model: model, maintenance_interval_hours: interval, end_of_life: eol, successor: successor}}
  - {path: customers.csv, entity: customer, columns: {customer_id: id, name: name, territory: territory, account_manager: am}}
  - {path: machines.csv, entity: machine, columns: {serial: serial, model: model, customer_id: customer, install_date: install, year_of_manufacture: year, lifecycle_status: status}}
  - {path: contracts.csv, entity: contract, columns: {contract_id: id, serial: serial, type: type, start_date: start, end_date: end, value: value}}
  - {path: telemetry.csv, entity: telemetry, columns: {serial: serial, timestamp: day}, metrics: {operating_hours: hours, vibration: vibration}}
  - {path: events.csv, entity: event, columns: {serial: serial, timestamp: ts, code: code, severity: severity}, values: {kind: error}}
  - {path: service.csv, entity: service_record, columns: {record_id: id, serial: serial, date: date, type: type, text: text}}
  - {path: orders.csv, entity: parts_order, columns: {order_id: id, serial: serial, date: date, part_number: part}}
"""
