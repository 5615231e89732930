"""Every registered rule keeps the same contract, on the tiny base its module plants (`Rule.contract_case`):
the positive fires with the right condition and evidence, the near miss does not, missing inputs are reported
as not evaluable, and two runs give the same bytes. The example plug-in (eval/examples) is held to it too."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from connectors.ingest import ingest
from sdi.models import ENTITIES
from sdi.store import MachineFile
from sdi.triggers.engine import TriggerRun, detect
from sdi.triggers.rules import RULE_IDS, SHIPPED, RulesFile, load_rules, lookup
from sdi.triggers.rules.base import MISSING, NEAR_MISS, POSITIVE
from sdi.triggers.rules.registry import HELPERS
from tests.conftest import Exports
from tests.contracts.rule_cases import AS_OF, EXAMPLE, case_files, rules_with_example, sentences, write_case

SHIPPED_RULES_TEXT = (Path(__file__).resolve().parents[2] / "sdi" / "rules.yaml").read_text(encoding="utf-8")
RULES_UNDER_CONTRACT = [*RULE_IDS, "hydraulic_oil_age"]
DECLARE_RESOLUTION = ("contract_renewal", "warranty_sla", "modernization", "retrofit_age", "maintenance_due",
                      "error_pattern", "wear", "parts_reminder", "end_of_life", "note_lead", "precursor")


@pytest.fixture(scope="module")
def with_example(tmp_path_factory: pytest.TempPathFactory) -> RulesFile:
    """Rules of an SDI_HOME holding the example plug-in and its rules-file entry."""
    home = tmp_path_factory.mktemp("home")
    (home / "rules").mkdir()
    shutil.copy(EXAMPLE, home / "rules" / EXAMPLE.name)
    (home / "rules.yaml").write_text(rules_with_example(SHIPPED_RULES_TEXT), encoding="utf-8")
    return load_rules(home)


def _resolves(db: MachineFile, source_id: str) -> bool:
    """The source id names a row of the machine file (a telemetry range: both of its readings)."""
    kind = source_id.split(":", 1)[0]
    ids = [source_id]
    if ".." in source_id:
        first, last = source_id.split("..")
        ids = [first, first.rsplit("@", 1)[0] + "@" + last]
    return all(db.scalar(f"SELECT count(*) FROM {ENTITIES[kind].table} WHERE source_id = ?", [i]) == 1 for i in ids)


def test_the_registry_holds_every_rule_module_in_the_shipped_order() -> None:
    modules = {p.stem for p in (Path(__file__).resolve().parents[2] / "sdi" / "triggers" / "rules").glob("*.py")}
    assert set(RULE_IDS) == modules - HELPERS - {"__init__"}
    assert RULE_IDS == ("contract_renewal", "warranty_sla", "modernization", "retrofit_age", "maintenance_due",
                        "error_pattern", "wear", "parts_reminder", "end_of_life", "note_lead", "precursor")
    assert all(lookup(r.rule_id) is r and r.origin == f"sdi/triggers/rules/{r.rule_id}.py" for r in SHIPPED)


@pytest.mark.parametrize("rule_id", RULES_UNDER_CONTRACT)
def test_rule_contract(rule_id: str, exports: Exports, with_example: RulesFile, tmp_path: Path) -> None:
    rules = with_example if rule_id not in RULE_IDS else load_rules()
    rule = rules.rule(rule_id)
    assert rule.contract_case is not None, f"{rule.origin} has no contract_case"
    case = rule.contract_case(AS_OF)
    if case.params:
        rules = rules.with_params(rule_id, {**rules.rules[rule_id].params, **case.params})
    texts, files = case_files(case.rows)
    for name, text in texts.items():
        exports.write(name, text)
    assert exports.ingest(files).to_dict()["totals"]["rows_rejected"] == 0

    run = detect(exports.db, rules, AS_OF)
    fired = {t["serial"]: t for t in run.triggers if t["rule_id"] == rule_id}
    gaps = {t["serial"]: t for t in run.not_evaluable if t["rule_id"] == rule_id}

    positive = fired.get(POSITIVE)
    assert positive is not None, f"{rule_id}: the planted positive did not fire"
    assert positive["condition"] == positive["conditions"][0]
    assert (positive["condition"]["field"], positive["condition"]["value"]) == (case.field, case.value)
    assert positive["evidence"]["source_ids"] == case.source_ids
    assert all(_resolves(exports.db, i) for i in case.source_ids)
    assert positive["campaign"] == rules.rules[rule_id].campaign and positive["as_of"] == AS_OF.isoformat()

    assert NEAR_MISS not in fired and NEAR_MISS not in gaps, f"{rule_id}: the near miss fired or was not evaluable"
    assert MISSING not in fired
    assert gaps.get(MISSING, {}).get("missing") == case.missing
    _check_suppressed(exports.db, rule_id, run, case.suppressed, set(fired))

    assert detect(exports.db, rules, AS_OF).to_json() == run.to_json()
    fresh = MachineFile(tmp_path / "again.duckdb")
    ingest(fresh, write_case(tmp_path / "again", case.rows))
    assert detect(fresh, rules, AS_OF).to_json() == run.to_json()
    fresh.close()

    assert all(s.endswith(" [T1].") and len(s) > 20 for s in sentences(rule, positive))
    if rule_id in RULE_IDS:  # a shipped rule words each of its conditions itself (the UI and `sdi triggers` show them)
        assert rule.describe and all(rule.describe(c, positive) for c in positive["conditions"]), rule.origin
    assert 0 <= rule.urgency(positive) <= 1
    assert rule.query_words.strip()
    # the rules that came with resolution and coverage (issue 12); a newer rule should join them
    if rule_id in DECLARE_RESOLUTION:
        assert rule.resolution.strip(), f"{rule.origin}: say what resolves its triggers, or why nothing does"


def _check_suppressed(db: MachineFile, rule_id: str, run: TriggerRun, planted: dict[str, tuple[str, str]],
                      fired: set[str]) -> None:
    """Exactly the planted machines are held back, each by its planted record, which is cited and real."""
    held = {t["serial"]: t for t in run.suppressed if t["rule_id"] == rule_id}
    assert set(held) == set(planted), f"{rule_id}: suppressed {sorted(held)}, planted {sorted(planted)}"
    assert not fired & set(held)
    for serial, (status, source_id) in planted.items():
        trigger = held[serial]
        assert trigger["status"] == status
        assert [b["source_id"] for b in trigger["evidence"]["suppressed_by"]] == [source_id]
        assert all(b["date"] <= AS_OF.isoformat() and b["reason"] for b in trigger["evidence"]["suppressed_by"])
        assert source_id in trigger["evidence"]["source_ids"]
        assert all(_resolves(db, i) for i in trigger["evidence"]["source_ids"])
