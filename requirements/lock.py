"""Writes and checks requirements/lock.txt, the hashed lock of SDI's dependencies (runtime, test extra, build).

`make lock` runs `compile` with pip-tools from a tool venv of its own (never SDI's); `check` needs only the
standard library, so `make install` runs it before anything is installed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
LOCK = ROOT / "requirements" / "lock.txt"
EXTRAS = ("test",)
FINGERPRINT_PREFIX = "# pyproject.toml dependencies sha256: "


def locked_inputs(pyproject: Path = PYPROJECT) -> dict[str, list[str]]:
    """The pyproject requirement lists the lock covers, each sorted and without whitespace."""
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    extras = data["project"].get("optional-dependencies", {})
    lists = {"dependencies": data["project"].get("dependencies", []),
             "build-system": data.get("build-system", {}).get("requires", [])}
    lists.update({f"extra:{name}": extras.get(name, []) for name in EXTRAS})
    return {key: sorted("".join(req.split()).lower() for req in reqs) for key, reqs in lists.items()}


def fingerprint(pyproject: Path = PYPROJECT) -> str:
    """sha256 of the requirement lists the lock was compiled from."""
    canonical = json.dumps(locked_inputs(pyproject), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def recorded_fingerprint(lock: Path = LOCK) -> str | None:
    """The fingerprint written into the lock's header by `compile`, or None."""
    for line in lock.read_text(encoding="utf-8").splitlines():
        if line.startswith(FINGERPRINT_PREFIX):
            return line.removeprefix(FINGERPRINT_PREFIX).strip()
    return None


def canonical_name(name: str) -> str:
    """A package name as pip compares it (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lock: Path = LOCK) -> dict[str, tuple[str, list[str]]]:
    """Each locked requirement line as {name: (version, [sha256 hashes])}; a line that is no `name==version` fails."""
    text = lock.read_text(encoding="utf-8").replace("\\\n", " ")
    found: dict[str, tuple[str, list[str]]] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        spec, *options = line.split()
        name, sep, version = spec.partition("==")
        if not sep:
            raise ValueError(f"{lock.name}: not pinned with ==: {line}")
        hashes = [opt.removeprefix("--hash=sha256:") for opt in options if opt.startswith("--hash=sha256:")]
        found[canonical_name(name)] = (version, hashes)
    return found


def check(lock: Path = LOCK, pyproject: Path = PYPROJECT) -> str | None:
    """Why the lock does not match pyproject.toml, or None when it does."""
    if not lock.exists():
        return f"{lock} is missing"
    recorded = recorded_fingerprint(lock)
    if recorded != fingerprint(pyproject):
        return (f"{lock.name} was compiled from other dependency lists than pyproject.toml's "
                f"(recorded {recorded}, now {fingerprint(pyproject)})")
    return None


def compile_lock(upgrade: bool = False) -> None:
    """Runs pip-compile (from this interpreter's venv) and records pyproject's fingerprint in the header."""
    command = [sys.executable, "-m", "piptools", "compile", PYPROJECT.name, "--quiet",
               "--output-file", str(LOCK.relative_to(ROOT)), "--generate-hashes", "--allow-unsafe",
               "--strip-extras", "--all-build-deps", "--newline", "LF", "--resolver", "backtracking",
               # The machine's pip configuration says where packages come from (the torch wheel on disk).
               "--no-emit-index-url", "--no-emit-find-links"]
    command += [arg for extra in EXTRAS for arg in ("--extra", extra)]
    if upgrade:
        command.append("--upgrade")
    # Relative paths, run from the root: the `# via` notes name files as given.
    subprocess.run(command, check=True, cwd=ROOT, env={**os.environ, "CUSTOM_COMPILE_COMMAND": "make lock"})
    body = LOCK.read_text(encoding="utf-8")
    LOCK.write_text(f"{FINGERPRINT_PREFIX}{fingerprint()}\n{body}", encoding="utf-8")


def main(argv: list[str]) -> int:
    """`compile [--upgrade]` writes the lock; `check` exits 1 with the reason when it is stale."""
    if argv[:1] == ["compile"]:
        try:
            compile_lock(upgrade="--upgrade" in argv[1:])
        except subprocess.CalledProcessError as exc:
            print(f"error: pip-compile failed (exit {exc.returncode}); {LOCK.name} is unchanged\n"
                  "hint: its messages above name the conflicting requirements", file=sys.stderr)
            return 1
        return 0
    if argv[:1] == ["check"]:
        problem = check()
        if problem:
            print(f"error: {problem}\nhint: run `make lock` and commit requirements/lock.txt", file=sys.stderr)
            return 1
        return 0
    print("usage: lock.py compile [--upgrade] | check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
