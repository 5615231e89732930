"""The hashed lock (requirements/lock.txt) matches pyproject.toml and pins every package to hashed files."""

from __future__ import annotations

import importlib.util
import re
import tomllib
from pathlib import Path
from types import ModuleType

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]


def _lock_module() -> ModuleType:
    """requirements/lock.py, which writes the lock and its fingerprint (a script, not a package)."""
    spec = importlib.util.spec_from_file_location("sdi_lock_script", ROOT / "requirements" / "lock.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


lock = _lock_module()


def _written_requirements() -> list[str]:
    """Runtime, test-extra and build requirements, as written in pyproject.toml."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return (data["project"]["dependencies"] + data["project"]["optional-dependencies"]["test"]
            + data["build-system"]["requires"])


def test_lock_was_compiled_from_the_current_pyproject():
    assert lock.check() is None, "requirements/lock.txt is stale: run `make lock`"


def test_a_changed_dependency_list_makes_the_lock_stale(tmp_path):
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    first = _written_requirements()[0]
    added, respelled = tmp_path / "added.toml", tmp_path / "respelled.toml"
    added.write_text(text.replace("dependencies = [", 'dependencies = [\n  "rich>=13",', 1), encoding="utf-8")
    respelled.write_text(text.replace(f'"{first}"', f'" {first.upper()} "', 1), encoding="utf-8")

    assert "other dependency lists" in lock.check(pyproject=added)
    assert lock.check(pyproject=respelled) is None


def test_every_locked_package_is_pinned_to_sha256_hashes():
    pins = lock.pins()
    assert len(pins) > 50
    unhashed = [name for name, (_, hashes) in pins.items() if not hashes]
    assert unhashed == []
    for name, (_, hashes) in pins.items():
        assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes), name


def test_every_direct_requirement_is_locked_within_its_range():
    pins = {name: version for name, (version, _) in lock.pins().items()}
    for req in map(Requirement, _written_requirements()):
        version = pins.get(lock.canonical_name(req.name))
        assert version is not None, f"{req.name} is not in the lock"
        assert req.specifier.contains(version, prereleases=True), f"{req.name}: {version} outside {req.specifier}"


def test_torch_is_the_cpu_build_and_no_cuda_stack_is_locked():
    pins = lock.pins()
    assert pins["torch"][0].endswith("+cpu")
    assert [name for name in pins if name.startswith("nvidia-") or name == "triton"] == []


@pytest.mark.parametrize("line", ["torch>=2.13", "-e ."])
def test_an_unpinned_line_is_refused(tmp_path, line):
    stale = tmp_path / "lock.txt"
    stale.write_text(f"numpy==2.0.0 --hash=sha256:{'0' * 64}\n{line}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not pinned"):
        lock.pins(stale)
