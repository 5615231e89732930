"""`sdi serve` and `sdi users …` as a person runs them (through sdi.cli.serve.register, which sdi.cli.main wires in)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.integration.api_base import fresh_home, free_port

SDI = str(Path(sys.executable).parent / "sdi")


def sdi(home: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SDI_HOME": str(home), "SDI_LLM": "template"}
    env.pop("SDI_CONFIG", None)
    return subprocess.run([SDI, *args], capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture(scope="module")
def home() -> Path:
    return fresh_home("cli")


def test_users_add_prints_the_token_last_and_it_works(home: Path) -> None:
    added = sdi(home, "users", "add", "Ann Admin", "--role", "admin")
    assert added.returncode == 0, added.stderr
    token = added.stdout.strip().splitlines()[-1]
    assert token.startswith("sdi_") and " " not in token
    tech = sdi(home, "users", "add", "Tom Tech", "--role", "technician", "--serial", "NOPE-1")
    assert tech.returncode != 0 and "unknown machine serial" in tech.stderr
    rep = sdi(home, "users", "add", "Rita Rep", "--role", "sales_rep")
    assert rep.returncode != 0 and "--territory" in rep.stderr
    listed = sdi(home, "users", "list")
    assert "Ann Admin" in listed.stdout and "admin" in listed.stdout and token not in listed.stdout

    port = free_port()
    env = {**os.environ, "SDI_HOME": str(home), "SDI_LLM": "template"}
    server = subprocess.Popen([SDI, "serve", "--port", str(port)], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        banner = server.stdout.readline() if server.stdout else ""
        assert f"http://127.0.0.1:{port}/" in banner
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        me = httpx.get(f"http://127.0.0.1:{port}/api/me", headers={"Authorization": f"Bearer {token}"}).json()
        assert me["name"] == "Ann Admin" and me["role"] == "admin"
        assert httpx.get(f"http://127.0.0.1:{port}/ui/").status_code == 200
        docs = httpx.get(f"http://127.0.0.1:{port}/docs").text
        assert "/docs-assets/swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()
        assert httpx.get(f"http://127.0.0.1:{port}/docs-assets/swagger-ui-bundle.js").status_code == 200
        late = sdi(home, "users", "add", "Late User", "--role", "compliance")  # through the server (it holds the file)
        assert late.returncode == 0 and late.stdout.strip().splitlines()[-1].startswith("sdi_"), late.stderr
        taken = sdi(home, "serve", "--port", str(port))
        assert taken.returncode != 0 and "cannot" in taken.stderr
    finally:
        server.terminate()
        server.wait(30)
    bench = sdi(home, "bench", "api", "--help")
    assert bench.returncode == 0 and "--clients" in bench.stdout
    removed = sdi(home, "users", "remove", "Ann Admin")
    assert removed.returncode == 0 and "Ann Admin" not in sdi(home, "users", "list").stdout
