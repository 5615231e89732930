"""`sdi rules suggest` and `sdi rules apply` (issue 12, calibration) on a generated base with planted failure
precursors: the planted signals are recovered on the first half of the year and hold on the second, the written
rules file loads and, once applied (audited), the precursor rule fires with its fitted precision as evidence."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.ingest import ingest
from sdi.demo.generator import generate
from sdi.store import MachineFile
from sdi.triggers.calibrate import wilson_low
from sdi.triggers.engine import detect
from sdi.triggers.rules import load_rules, parse_rules

SDI = str(Path(sys.executable).parent / "sdi")


def _sdi(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SDI_CONFIG"}
    return subprocess.run([SDI, *args], capture_output=True, text=True, env={**env, "SDI_HOME": str(home)}, timeout=300)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], date]:
    folder = tmp_path_factory.mktemp("calibrate")
    summary = generate(folder / "data", machines=600, seed=7)
    home = folder / "home"
    with MachineFile(home / "machine-file.duckdb") as db:
        ingest(db, folder / "data" / "mapping.yaml")
    return home, summary["planted"]["precursors"], date.fromisoformat(summary["as_of"])


def _halves(as_of: date) -> list[str]:
    """The first half of the year of history as the training period."""
    start = as_of - timedelta(days=364)
    return ["--train-from", str(start), "--train-to", str(start + timedelta(days=26 * 7))]


def test_suggest_recovers_the_planted_precursors(base: tuple[Path, dict[str, Any], date], tmp_path: Path) -> None:
    home, planted, as_of = base
    out = tmp_path / "suggested.yaml"
    run = _sdi(home, "rules", "suggest", *_halves(as_of), "--min-alerts", "5", "--json", "--write", str(out))
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    kept = [s for s in result["signals"] if s["kept"]]
    assert {s["signal"].get("code") for s in kept} == set(planted["pairs"]), result["signals"]
    base_rate = result["validation"]["base_rate"]
    for s in kept:
        assert s["validation"]["precision"] >= 3 * base_rate and s["validation"]["alerts"] >= 1
        assert s["train"]["median_lead_days"] >= 3
        assert "precision on the training period" in s["text"] and "at random" in s["text"]
    together = result["precursor_validation"]
    assert together["lift"] >= 3 and together["median_lead_days"] >= 3

    written = parse_rules(out.read_text(encoding="utf-8"), str(out))  # a complete rules file that loads cleanly
    signals = written.rules["precursor"].params["signals"]
    assert {s["code"] for s in signals} == set(planted["pairs"])
    assert all(s["fitted"]["precision"] > s["fitted"]["base_rate"] for s in signals)
    assert written.version != load_rules().version
    assert not (home / "rules.yaml").exists()  # nothing applied by suggesting


def test_apply_is_audited_and_the_precursor_fires_with_its_evidence(
        base: tuple[Path, dict[str, Any], date], tmp_path: Path) -> None:
    home, planted, as_of = base
    out = tmp_path / "suggested.yaml"
    assert _sdi(home, "rules", "suggest", *_halves(as_of), "--min-alerts", "5", "--write", str(out)).returncode == 0
    broken = tmp_path / "broken.yaml"
    broken.write_text(out.read_text(encoding="utf-8").replace("min_count: ", "min_count: -"), encoding="utf-8")
    refused = _sdi(home, "rules", "apply", str(broken))
    assert refused.returncode != 0 and "line" in refused.stderr and "Traceback" not in refused.stderr
    assert not (home / "rules.yaml").exists()

    applied = _sdi(home, "rules", "apply", str(out), "--user", "admin@example")
    assert applied.returncode == 0, applied.stderr
    assert (home / "rules.yaml").read_text(encoding="utf-8") == out.read_text(encoding="utf-8")
    log = json.loads(_sdi(home, "audit", "list", "--json").stdout)
    entry = next(e for e in log if e["kind"] == "rules_apply")
    rules = load_rules(home)
    assert entry["user"] == "admin@example" and entry["payload"]["sha256"] == rules.sha256
    assert "precursor" in entry["payload"]["rules_changed"]

    episode = next(e for e in planted["episodes"] if e["precursor"] in {s["code"] for s in
                                                                          rules.rules["precursor"].params["signals"]}
                   and e["precursor_days"][-1] > str(as_of - timedelta(days=180)))
    day = date.fromisoformat(episode["precursor_days"][-1])
    with MachineFile(home / "machine-file.duckdb") as db:
        run = detect(db, rules, day)
    trig = next(t for t in run.triggers if t["rule_id"] == "precursor" and t["serial"] == episode["serial"])
    signal = trig["evidence"]["facts"]["signals"][0]
    assert signal["code"] == episode["precursor"] and signal["fitted"]["precision"] > 0
    assert trig["condition"]["field"].startswith(f"count(event code {episode['precursor']}) in ")
    sentence = rules.rule("precursor").finding(trig, "T1")
    assert "% of cases on the training period" in sentence and "at random" in sentence, sentence

    again = _sdi(home, "rules", "apply", str(out))  # the previous file is kept beside it
    assert again.returncode == 0 and len(list(home.glob("rules.*.yaml"))) == 1


def test_periods_that_leave_nothing_to_validate_are_refused(base: tuple[Path, dict[str, Any], date]) -> None:
    home, _, as_of = base
    late = _sdi(home, "rules", "suggest", "--train-from", str(as_of - timedelta(days=100)), "--train-to",
                str(as_of - timedelta(days=10)))
    assert late.returncode == 2 and "no period after --train-to" in late.stderr and "Traceback" not in late.stderr
    bad = _sdi(home, "rules", "suggest", "--train-from", "2026-02-30", "--train-to", str(as_of))
    assert bad.returncode == 2 and "--train-from '2026-02-30' is not a date" in bad.stderr


def test_wilson_lower_bound() -> None:
    assert wilson_low(0, 0) == 0
    assert 0.72 < wilson_low(10, 10) < 0.73  # ten out of ten is not certainty
    assert wilson_low(90, 100) > wilson_low(9, 10)  # the same precision on more alerts ranks higher


def test_a_rules_file_from_before_the_precursor_rule_still_loads(tmp_path: Path) -> None:
    """An SDI_HOME/rules.yaml written before a shipped rule existed runs it as shipped, placed where the shipped
    campaign order has it."""
    shipped = (Path(__file__).resolve().parents[2] / "sdi" / "rules.yaml").read_text(encoding="utf-8")
    start = shipped.index("  precursor:\n")
    old = shipped[:start] + shipped[shipped.index("\n\n", start) + 1:]
    old = old.replace("note_lead, precursor, parts_reminder]", "note_lead, parts_reminder]")
    assert "precursor" not in old.split("# Per-model")[0].split("rules:")[1]
    (tmp_path / "rules.yaml").write_text(old, encoding="utf-8")
    rules = load_rules(tmp_path)
    assert rules.added_from_shipped == ["precursor"]
    assert rules.campaign_order[-2:] == ["precursor", "parts_reminder"]
    assert rules.rules["precursor"].params == {"target": "failure", "signals": []}
