"""The real `sdi check` on stdin: one verdict line per input line, malformed lines refused, the rest still checked."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SDI = str(Path(sys.executable).parent / "sdi")
CYL = {"H1": "2005-03-20 repair on excavator A: L/H BUCKET CYL LEAKING."}


def test_check_reads_json_lines_and_survives_a_malformed_line(tmp_path: Path, sdi_env: dict[str, str]) -> None:
    lines = [
        json.dumps({"sources": CYL, "sentence": "The left-hand bucket cylinder was leaking [H1]."}),
        json.dumps({"sources": CYL, "sentence": "The technician recommended a new light curtain upgrade [H1]."}),
        "{not json",
        json.dumps({"sources": CYL}),
        "",
        json.dumps({"sources": CYL, "sentence": "In March 2005 the right-hand bucket cylinder was leaking [H1]."}),
    ]
    result = subprocess.run([SDI, "check"], input="\n".join(lines) + "\n", capture_output=True, text=True,
                            env={**sdi_env, "SDI_HOME": str(tmp_path / "home")}, timeout=120)
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == 5 and all(set(o) == {"ok", "reason"} for o in out)
    assert out[0] == {"ok": True, "reason": ""}
    assert out[1]["ok"] is False and "recommend" in out[1]["reason"]
    assert out[2]["ok"] is False and out[2]["reason"].startswith("input line 3:")
    assert out[3]["ok"] is False and out[3]["reason"].startswith("input line 4:") and "sentence" in out[3]["reason"]
    assert out[4]["ok"] is False and "side 'right'" in out[4]["reason"]


def test_eval_faithfulness_prints_both_checks(tmp_path: Path, sdi_env: dict[str, str]) -> None:
    result = subprocess.run([SDI, "eval", "faithfulness", "--split", "dev", "--json"], capture_output=True, text=True,
                            env={**sdi_env, "SDI_HOME": str(tmp_path / "home")}, timeout=120)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["split"] == "dev" and data["items"] > 50
    assert data["claim_check"]["reject_recall"] > data["overlap_check"]["reject_recall"]
