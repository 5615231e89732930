"""The demo end to end with the real `sdi` command: generate, import through a mapping, assess, detect — offline."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

SDI = str(Path(sys.executable).parent / "sdi")
MACHINES = 600
SEED = 11


def sdi(home: Path, env: dict[str, str], *args: str, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*prefix, SDI, *args], capture_output=True, text=True, timeout=900, env={**env, "SDI_HOME": str(home)}
    )


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory, sdi_env: dict[str, str]) -> Path:
    home = tmp_path_factory.mktemp("demo") / "home"
    result = sdi(home, sdi_env, "demo", "--no-serve", "--machines", str(MACHINES), "--seed", str(SEED))
    assert result.returncode == 0, result.stderr[-3000:]
    return home


def test_demo_imports_every_entity_and_accounts_for_every_row(demo_home: Path, sdi_env: dict[str, str]) -> None:
    status = json.loads(sdi(demo_home, sdi_env, "status", "--json").stdout)
    assert all(n > 0 for n in status["rows"].values()), status["rows"]
    assert status["rows"]["machine"] == MACHINES
    again = sdi(demo_home, sdi_env, "ingest", "--json", str(demo_home / "demo-data" / "mapping.yaml"))
    report = json.loads(again.stdout)
    for f in report["files"]:
        assert f["rows_read"] == f["rows_stored"] + f["rows_rejected"], f["file"]
        assert (f["inserted"], f["updated"]) == (0, 0), f"re-import changed {f['file']}"
    reasons = [r["reason"] for f in report["files"] for r in f["rejections"] if r["scope"] == "row"]
    assert any("unknown machine serial" in r for r in reasons)
    assert any("is not a date" in r for r in reasons)


def test_every_rule_fires_on_the_demo_base_and_near_misses_do_not(demo_home: Path, sdi_env: dict[str, str]) -> None:
    first = sdi(demo_home, sdi_env, "triggers", "--json")
    assert first.returncode == 0, first.stderr
    run = json.loads(first.stdout)
    fired = {rule: c["fired"] for rule, c in run["counts"].items()}
    assert all(n > 0 for n in fired.values()), fired
    assert sdi(demo_home, sdi_env, "triggers", "--json").stdout == first.stdout  # byte-identical
    import duckdb

    con = duckdb.connect(str(demo_home / "machine-file.duckdb"), read_only=True)
    as_of = date.fromisoformat(run["as_of"])
    near = {
        f"contract:{cid}"
        for (cid,) in con.execute(
            "SELECT contract_id FROM contracts WHERE type = 'maintenance' AND end_date - ? BETWEEN 90 AND 120", [as_of]
        ).fetchall()
    }
    con.close()
    assert near, "the demo should hold maintenance contracts that nearly meet the renewal trigger"
    cited = {i for t in run["triggers"] if t["rule_id"] == "contract_renewal" for i in t["evidence"]["source_ids"]}
    assert not near & cited


def test_assess_reports_gaps_and_readiness(demo_home: Path, sdi_env: dict[str, str]) -> None:
    result = json.loads(sdi(demo_home, sdi_env, "assess", "--json").stdout)
    assert result["gaps"]["no_telemetry"] > 0 and result["gaps"]["no_age"] > 0
    assert 0 < result["ready_share"]["wear"] < 1
    assert {g["territory"] for g in result["by_territory"]} and {g["model"] for g in result["by_model"]}
    assert sum(g["machines"] for g in result["by_model"]) == result["machines"]


def test_demo_is_deterministic_and_runs_with_no_network(demo_home: Path, tmp_path: Path, sdi_env: dict[str, str]) -> None:
    assert shutil.which("unshare"), "unshare (util-linux) is needed for the zero-egress test"
    home = tmp_path / "offline"
    offline = sdi(home, sdi_env, "demo", "--no-serve", "--machines", str(MACHINES), "--seed", str(SEED), prefix=("unshare", "-n"))
    assert offline.returncode == 0, offline.stderr[-3000:]
    for name in sorted(p.name for p in (demo_home / "demo-data").iterdir() if p.is_file() and not p.name.startswith(".")):
        assert (home / "demo-data" / name).read_bytes() == (demo_home / "demo-data" / name).read_bytes(), name
    ours = json.loads(sdi(home, sdi_env, "status", "--json").stdout)["rows"]
    theirs = json.loads(sdi(demo_home, sdi_env, "status", "--json").stdout)["rows"]
    assert ours == theirs
