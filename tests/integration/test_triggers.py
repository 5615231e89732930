"""Trigger engine on a hand-built base: each rule fires, nearly fires, or is not evaluable — exact output."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from connectors.ingest import ingest
from sdi.errors import SdiError
from sdi.store import MachineFile
from sdi.triggers.engine import TriggerRun, detect
from sdi.triggers.opportunities import list_opportunities, set_status
from sdi.triggers.rules import load_rules, parse_rules
from sdi.triggers.service import run_triggers
from tests.integration.trigger_base import AS_OF, build

RULES_TEXT = (Path(__file__).resolve().parents[2] / "sdi" / "rules.yaml").read_text()

EXPECTED_FIRED = {
    "contract_renewal": {"F-CR": [28]},
    "warranty_sla": {"F-WS": [30]},
    "modernization": {"F-MOD": [9.0, 4]},
    "retrofit_age": {"F-RET": [11.0], "Y-RET": [12.0]},
    "maintenance_due": {"F-MD": [640.0], "LB-MD": [952.0]},
    "error_pattern": {"F-EP": [3], "F-EPC": ["critical"]},
    "wear": {"F-W": [7.5], "F-WR": [1.011]},
    "parts_reminder": {"F-PR": [25.0], "F-PR0": [60.0]},
    "end_of_life": {"F-EOL": ["2026-03-22", "NEW", 0]},
}
EXPECTED_NOT_EVALUABLE = {
    "contract_renewal": {"X-CR": ["contract.end_date"]},
    "modernization": {"X-AGE": ["machine.install_date"], "X-PR": ["machine.install_date"], "X-TEL": ["telemetry (no connection)"]},
    "retrofit_age": {"X-AGE": ["machine.install_date"], "X-PR": ["machine.install_date"]},
    "maintenance_due": {
        "X-EOL": ["model.maintenance_interval_hours"],
        "X-MD": ["service_record (type maintenance)"],
        "X-TEL": ["telemetry.operating_hours"],
    },
    "error_pattern": {"X-TEL": ["events / telemetry (no connection)"]},
    "wear": {"X-TEL": ["telemetry.vibration (trend window)"]},
    "parts_reminder": {"X-PR": ["parts_order.date or machine.install_date"]},
    "end_of_life": {"X-EOL": ["model (catalog entry)"]},
    "note_lead": {"X-MD": ["service_record.text (no service notes on file)"]},
}


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> MachineFile:
    folder = tmp_path_factory.mktemp("base")
    db = MachineFile(folder / "home" / "machine-file.duckdb")
    ingest(db, build(folder))
    yield db
    db.close()


def fired(run: TriggerRun) -> dict[str, dict[str, list]]:
    out: dict[str, dict[str, list]] = {}
    for t in run.triggers:
        out.setdefault(t["rule_id"], {})[t["serial"]] = [c["value"] for c in t["conditions"]]
    return out


def gaps(run: TriggerRun) -> dict[str, dict[str, list]]:
    out: dict[str, dict[str, list]] = {}
    for t in run.not_evaluable:
        out.setdefault(t["rule_id"], {})[t["serial"]] = t["missing"]
    return out


def test_each_rule_fires_exactly_where_it_should(base: MachineFile) -> None:
    run = detect(base, load_rules(), AS_OF)
    assert fired(run) == EXPECTED_FIRED  # near misses (N-*) and the decommissioned machine are absent
    assert gaps(run) == EXPECTED_NOT_EVALUABLE
    assert run.machines == 50


def test_evidence_lets_a_reviewer_recompute_the_trigger(base: MachineFile) -> None:
    run = detect(base, load_rules(), AS_OF)
    by_id = {t["trigger_id"]: t for t in run.triggers}
    renewal = by_id["contract_renewal:F-CR"]
    assert renewal["condition"] == {"field": "contract.end_date - as_of", "operator": "<", "threshold": 90, "value": 28, "unit": "days"}
    assert renewal["evidence"]["source_ids"] == ["contract:K1"]
    end = base.scalar("SELECT end_date FROM contracts WHERE source_id = 'contract:K1'")
    assert (end - AS_OF).days == renewal["condition"]["value"]
    assert renewal["rule_version"] == 2 and renewal["rules_file_version"] == "2026.11.3" and renewal["as_of"] == "2026-06-30"
    due = by_id["maintenance_due:F-MD"]
    ids = due["evidence"]["source_ids"]
    assert ids[0] == "service_record:R-F-MD"
    readings = [base.scalar("SELECT value FROM telemetry WHERE source_id = ?", [i]) for i in ids[2:]]
    assert readings[1] - readings[0] == due["condition"]["value"] == 640.0
    assert due["evidence"]["facts"]["reference_is_first_reading_after_maintenance"] is False
    assert by_id["maintenance_due:LB-MD"]["evidence"]["facts"]["reference_is_first_reading_after_maintenance"] is True
    pattern = by_id["error_pattern:F-EP"]
    codes = base.sql(f"SELECT DISTINCT code FROM events WHERE source_id IN ({', '.join(repr(i) for i in pattern['evidence']['source_ids'])})")
    assert len(pattern["evidence"]["source_ids"]) == 3 and codes == [("E-417",)]


def test_records_after_as_of_change_nothing_until_their_date(base: MachineFile) -> None:
    # The base holds records dated after AS_OF (a new contract, a critical event, a maintenance, a parts order).
    run = detect(base, load_rules(), AS_OF)
    assert "Q01" not in fired(run).get("contract_renewal", {})
    assert "Q02" not in fired(run)["error_pattern"]
    later = fired(detect(base, load_rules(), AS_OF + timedelta(days=10)))
    assert "Q01" in later["contract_renewal"] and "Q02" in later["error_pattern"]
    assert "F-MD" not in later["maintenance_due"] and "F-PR" not in later["parts_reminder"]


def test_same_data_same_as_of_gives_byte_identical_json(base: MachineFile, tmp_path: Path) -> None:
    first = detect(base, load_rules(), AS_OF).to_json()
    assert detect(base, load_rules(), AS_OF).to_json() == first
    fresh = MachineFile(tmp_path / "again.duckdb")
    ingest(fresh, build(tmp_path))
    assert detect(fresh, load_rules(), AS_OF).to_json() == first
    fresh.close()


def test_thresholds_and_per_model_overrides_come_from_the_rules_file(base: MachineFile, tmp_path: Path) -> None:
    text = RULES_TEXT.replace("days: 90, contract_types", "days: 100, contract_types").replace(
        "models: {}", "models:\n  TL:\n    wear: {threshold: 6.5}\n    maintenance_due: {interval_hours: 460}"
    )
    run = detect(base, parse_rules(text, "custom.yaml"), AS_OF)
    got = fired(run)
    assert set(got["contract_renewal"]) == {"F-CR", "N-CR"}
    assert "N-W" in got["wear"]
    assert "N-MD" in got["maintenance_due"]  # 480 h since maintenance >= 460
    assert "F-EOL" not in got["wear"]  # model OLD keeps the default threshold


@pytest.mark.parametrize(
    "change,line,words",
    [
        (("threshold: 7.1", "threshold: -1"), 40, "threshold"),
        (("days: 90, contract_types", "days: 90, colour: 3, contract_types"), 10, "colour"),
        (("models: {}", "models:\n  TL:\n    wear: {threshold: high}"), 64, "threshold"),
        (("campaign_order: [contract_renewal, ", "campaign_order: ["), 65, "campaign_order"),
        (("  end_of_life:\n    version: 1", "  end_of_life:\n    version: [1"), None, "not valid YAML"),
    ],
)
def test_malformed_rules_file_is_refused_with_the_line(tmp_path: Path, change: tuple[str, str], line: int | None, words: str) -> None:
    home = tmp_path
    (home / "rules.yaml").write_text(RULES_TEXT.replace(*change))
    with pytest.raises(SdiError) as err:
        load_rules(home)
    message = str(err.value)
    assert words in message
    if line:
        assert f"line {line}:" in message


def test_opportunities_merge_stay_stable_and_resolve_without_losing_status(tmp_path: Path) -> None:
    db = MachineFile(tmp_path / "home" / "machine-file.duckdb")
    ingest(db, build(tmp_path))
    db.set_meta("data_as_of", AS_OF.isoformat())
    first = run_triggers(db, tmp_path / "home")
    items = {o["serial"]: o for o in list_opportunities(db)}
    assert len(items) == len({t["serial"] for t in first.run.triggers})
    ids = {s: o["id"] for s, o in items.items()}
    assert run_triggers(db, tmp_path / "home").sync.updated == len(ids)
    assert {o["serial"]: o["id"] for o in list_opportunities(db)} == ids
    set_status(db, ids["F-MD"], "in_progress")
    # Ten days later the maintenance and parts triggers no longer hold: marked resolved, never deleted.
    db.set_meta("data_as_of", (AS_OF + timedelta(days=10)).isoformat())
    later = run_triggers(db, tmp_path / "home")
    assert later.sync.resolved >= 2
    everything = {o["serial"]: o for o in list_opportunities(db, include_closed=True)}
    assert everything["F-PR"]["status"] == "resolved" and everything["F-PR"]["trigger_state"] == "resolved"
    assert everything["F-MD"]["status"] == "in_progress" and everything["F-MD"]["trigger_state"] == "resolved"
    assert "F-PR" not in {o["serial"] for o in list_opportunities(db)}
    db.close()


def test_point_in_time_run_leaves_opportunities_alone(tmp_path: Path) -> None:
    db = MachineFile(tmp_path / "home" / "machine-file.duckdb")
    ingest(db, build(tmp_path))
    db.set_meta("data_as_of", AS_OF.isoformat())
    run_triggers(db, tmp_path / "home")
    before = list_opportunities(db, include_closed=True)
    result = run_triggers(db, tmp_path / "home", AS_OF - timedelta(days=365))
    assert result.sync is None and list_opportunities(db, include_closed=True) == before
    db.close()
