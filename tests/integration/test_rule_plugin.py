"""A rule of one's own, as README "Adding a rule" describes it: the example module copied into SDI_HOME/rules/,
its entry added to SDI_HOME/rules.yaml, and the real `sdi` command finds, runs and explains it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sdi.triggers.rules import rules_for
from tests.contracts.rule_cases import AS_OF, EXAMPLE, EXAMPLE_ENTRY, rules_with_example, write_case

SDI = str(Path(sys.executable).parent / "sdi")
REPO = Path(__file__).resolve().parents[2]
SHIPPED_RULES = (REPO / "sdi" / "rules.yaml").read_text(encoding="utf-8")


def sdi(home: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SDI, *args], capture_output=True, text=True, env={**env, "SDI_HOME": str(home)}, timeout=300)


@pytest.fixture()
def home(tmp_path: Path, sdi_env: dict[str, str]) -> Path:
    """An SDI_HOME with the example plug-in installed and the planted base imported by `sdi ingest`."""
    home = tmp_path / "home"
    (home / "rules").mkdir(parents=True)
    shutil.copy(EXAMPLE, home / "rules" / EXAMPLE.name)
    (home / "rules.yaml").write_text(rules_with_example(SHIPPED_RULES), encoding="utf-8")
    # The example's own planted base: POS fires, NEAR nearly does, MISS has no oil change.
    example = next(r for r in rules_for(home) if r.rule_id == "hydraulic_oil_age")
    mapping = write_case(tmp_path / "exports", example.contract_case(AS_OF).rows)
    result = sdi(home, sdi_env, "ingest", str(mapping))
    assert result.returncode == 0, result.stderr
    return home


def test_the_plugin_rule_fires_with_its_evidence_and_the_near_miss_does_not(home: Path, sdi_env: dict[str, str]) -> None:
    result = sdi(home, sdi_env, "triggers", "--json", "--as-of", AS_OF.isoformat(), "--store")
    assert result.returncode == 0, result.stderr
    run = json.loads(result.stdout)
    oil = {t["serial"]: t for t in run["triggers"] if t["rule_id"] == "hydraulic_oil_age"}
    assert set(oil) == {"POS"}
    trigger = oil["POS"]
    assert trigger["campaign"] == "hydraulic oil change" and trigger["rule_version"] == 1
    assert trigger["condition"] == {"field": "operating_hours(as_of) - operating_hours(last oil change)",
                                    "operator": ">=", "threshold": 2000, "value": 2100.0, "unit": "hours"}
    assert trigger["evidence"]["source_ids"] == [
        "service_record:R1", "telemetry:POS/operating_hours@2025-12-12T00:00:00",
        "telemetry:POS/operating_hours@2026-06-29T00:00:00"]
    assert trigger["evidence"]["facts"]["last_oil_change"] == "2025-12-12"
    gaps = {t["serial"]: t["missing"] for t in run["not_evaluable"] if t["rule_id"] == "hydraulic_oil_age"}
    assert gaps == {"MISS": ["service_record (oil change)"]}
    assert run["counts"]["hydraulic_oil_age"] == {"fired": 1, "not_evaluable": 1, "suppressed": 0}
    # Opportunities, priority and the text listing take the new rule like any shipped one.
    opportunities = json.loads(sdi(home, sdi_env, "opportunities", "--json").stdout)
    mine = next(o for o in opportunities if o["serial"] == "POS")
    assert "hydraulic_oil_age" in mine["rules"] and 0 <= mine["priority_factors"]["urgency"] <= 1
    text = sdi(home, sdi_env, "triggers", "--as-of", AS_OF.isoformat(), "--no-store").stdout
    assert "hydraulic_oil_age" in text and "hydraulic oil change" in text
    # Drafts cite the rule's own finding (template backend: no model needed).
    why = json.loads(sdi(home, {**sdi_env, "SDI_LLM": "template"}, "why", mine["id"], "--json").stdout)
    assert ("The hydraulic oil has run 2100 operating hours since the last oil change on 2025-12-12, at or above the "
            "2000-hour limit") in " ".join(s["text"] for s in why["sentences"])
    # The installed-base assessment counts the new rule's readiness like a shipped one's.
    assess = sdi(home, sdi_env, "assess", "--json", "--as-of", AS_OF.isoformat())
    assert assess.returncode == 0, assess.stderr
    assert json.loads(assess.stdout)["not_evaluable_because"]["hydraulic_oil_age"] == {"service_record (oil change)": 1}


def test_a_plugin_without_its_rules_file_entry_is_a_clear_error(home: Path, sdi_env: dict[str, str]) -> None:
    (home / "rules.yaml").unlink()  # the shipped rules file knows nothing of the plug-in
    result = sdi(home, sdi_env, "triggers", "--json")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "missing rule(s) hydraulic_oil_age" in result.stderr and "rules/hydraulic_oil_age.py" in result.stderr


def test_an_entry_without_its_module_is_a_clear_error(home: Path, sdi_env: dict[str, str]) -> None:
    (home / "rules" / EXAMPLE.name).unlink()
    result = sdi(home, sdi_env, "triggers", "--json")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "unknown rule(s) hydraulic_oil_age" in result.stderr and "SDI_HOME/rules/" in result.stderr


def test_rule_code_others_may_change_is_not_run(home: Path, sdi_env: dict[str, str]) -> None:
    (home / "rules" / EXAMPLE.name).chmod(0o666)
    result = sdi(home, sdi_env, "triggers", "--json")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "group or others may write" in result.stderr


def test_the_readme_shows_the_example_rule_and_its_entry_as_they_are() -> None:
    section = (REPO / "README.md").read_text(encoding="utf-8").split("### Adding a rule", 1)[1].split("\n### ", 1)[0]
    assert EXAMPLE.read_text(encoding="utf-8") in section
    assert textwrap.indent(EXAMPLE_ENTRY, "   ") in section
