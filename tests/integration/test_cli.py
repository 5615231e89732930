"""The real `sdi` command in a subprocess: exit codes, clear messages, JSON reports, settings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SDI = str(Path(sys.executable).parent / "sdi")


def run(args: list[str], home: Path, env: dict[str, str], **extra_env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SDI, *args], capture_output=True, text=True, env={**env, "SDI_HOME": str(home), **extra_env}, timeout=300
    )


def test_missing_mapping_is_a_clear_error_not_a_traceback(tmp_path: Path, sdi_env: dict[str, str]) -> None:
    result = run(["ingest", str(tmp_path / "nope.yaml")], tmp_path / "home", sdi_env)
    assert result.returncode == 2
    assert "mapping file not found" in result.stderr and "Traceback" not in result.stderr


def test_missing_data_file_stops_with_exit_2_and_writes_nothing(tmp_path: Path, sdi_env: dict[str, str]) -> None:
    (tmp_path / "machines.csv").write_text("serial,model\nM1,X\n")
    (tmp_path / "m.yaml").write_text(
        "files:\n  - {path: machines.csv, entity: machine, columns: {serial: serial, model: model}}\n"
        "  - {path: gone.csv, entity: contract, columns: {contract_id: a, serial: b, type: c}}\n"
    )
    result = run(["ingest", str(tmp_path / "m.yaml")], tmp_path / "home", sdi_env)
    assert result.returncode == 2 and "file not found" in result.stderr and "gone.csv" in result.stderr
    status = json.loads(run(["status", "--json"], tmp_path / "home", sdi_env).stdout)
    assert status["rows"]["machine"] == 0


def test_json_report_and_strict_exit_code(tmp_path: Path, sdi_env: dict[str, str]) -> None:
    (tmp_path / "machines.csv").write_text("serial,model\nM1,X\n,Y\n")
    (tmp_path / "m.yaml").write_text("files:\n  - {path: machines.csv, entity: machine, columns: {serial: serial, model: model}}\n")
    result = run(["ingest", "--json", "--strict", str(tmp_path / "m.yaml")], tmp_path / "home", sdi_env)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["totals"] == {"rows_read": 2, "rows_stored": 1, "rows_rejected": 1}
    [rejection] = report["files"][0]["rejections"]
    assert rejection["line"] == 3 and "missing required field serial" in rejection["reason"]


def test_bad_setting_is_refused_at_start(tmp_path: Path, sdi_env: dict[str, str]) -> None:
    result = run(["status"], tmp_path / "home", sdi_env, SDI_PORT="99999")
    assert result.returncode == 2 and "port" in result.stderr and "Traceback" not in result.stderr


def test_config_file_is_read_and_environment_wins(tmp_path: Path, sdi_env: dict[str, str]) -> None:
    home = tmp_path / "home"
    home.mkdir()
    other = tmp_path / "elsewhere"
    (home / "config.yaml").write_text("db_threads: 1\nport: 9100\n")
    config = tmp_path / "explicit.yaml"
    config.write_text(f"home: {other}\n")
    probe = "from sdi.config import load_settings as l; s = l(); print(s.port, s.db_threads, s.home)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env={**sdi_env, "SDI_HOME": str(home)})
    assert out.stdout.split() == ["9100", "1", str(home)]
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True,
        env={**sdi_env, "SDI_HOME": str(home), "SDI_PORT": "9200", "SDI_CONFIG": str(config)},
    )
    assert out.stdout.split() == ["9200", "None", str(home)]
