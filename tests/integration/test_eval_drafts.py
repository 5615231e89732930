"""The real `sdi eval drafts` in a subprocess: one demo base, the template backend and the bundled model, JSON out."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SDI = str(Path(sys.executable).parent / "sdi")


def test_eval_drafts_json_shape_and_arithmetic(tmp_path: Path, sdi_env: dict[str, str]) -> None:
    out = subprocess.run([SDI, "eval", "drafts", "--models", "template,smollm2", "--n", "2", "--machines", "200", "--json"],
                         capture_output=True, text=True, env={**sdi_env, "SDI_HOME": str(tmp_path / "home")}, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout)
    assert result["machine"]["cores"] >= 1 and result["as_of"] and result["base"]["machines"] == 200
    assert list(result["models"]) == ["template", "smollm2"]
    check = result["check"]
    assert 0 <= check["reject_recall"] <= 1 and 0 <= check["accept_recall"] <= 1
    for spec, row in result["models"].items():
        drafts = [d for d in row["drafts"] if d["kind"] in ("why", "brief")]
        assert [d["kind"] for d in drafts] == ["why", "why", "brief", "brief"], spec
        for kind in ("why", "brief"):
            share = row["kinds"][kind]["history_fact"]
            assert share["total"] == 2 and 0 <= share["share"] <= 1
            assert share["hits"] == sum(d["history_fact"] for d in drafts if d["kind"] == kind)
            for lat in ("total_s", "first_sentence_s", "first_model_sentence_s"):
                p = row["kinds"][kind][lat]
                assert p["n"] == 0 or 0 <= p["p50"] <= p["p95"], (spec, kind, lat, p)
        acc = row["acceptance"]
        assert acc["checked"] == sum(d["checked"] for d in drafts) and 0 <= acc["cut"] <= acc["passed"] <= acc["checked"]
        assert all(d["first_s"] <= d["total_s"] for d in row["drafts"])
        for key in ("ask_answerable", "ask_unanswerable"):
            assert row[key]["share"] is None or 0 <= row[key]["share"] <= 1
        assert set(row["targets"]) >= {"why_history_fact", "acceptance", "brief_p50_s", "first_sentence_p95_s"}
        assert all(v in (True, False, None) for v in row["targets"].values())
    template = result["models"]["template"]
    assert template["acceptance"] == {"passed": 0, "checked": 0, "rate": None, "cut": 0, "whole_rate": None}
    assert all(not d["model_sentences"] and d["first_llm_s"] is None for d in template["drafts"])
    assert template["targets"]["acceptance"] is False and template["kinds"]["why"]["history_fact"]["hits"] == 0
    assert result["models"]["smollm2"]["acceptance"]["checked"] > 0
