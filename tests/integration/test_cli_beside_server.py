"""`sdi` commands while `sdi serve` holds the machine file: writes go through the server, reads use its snapshot.

A real `sdi serve` subprocess on a private copy of the demo base, and the CLI in subprocesses; every report is
compared with the same command run directly on a twin copy of the base (no server there).
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from sdi.store import MachineFile
from tests.integration.api_base import free_port, fresh_home

SDI = str(Path(sys.executable).parent / "sdi")
CUSTOMERS = ("customer_id,name,territory,account_manager\n"
             "C-9001,Nachtwerk GmbH,DE-North,Anna Nord\n"
             ",Nameless AG,DE-North,Anna Nord\n"  # rejected: no customer id
             "C-9002,Brise SARL,FR,Élodie Martin\n")
MAPPING = ("files:\n  - path: customers.csv\n    entity: customer\n    columns:\n      customer_id: customer_id\n"
           "      name: name\n      territory: territory\n      account_manager: account_manager\n")
Run = subprocess.CompletedProcess[str]


def sdi(home: Path, *args: str) -> Run:
    env = {**os.environ, "SDI_HOME": str(home), "SDI_LLM": "template"}
    env.pop("SDI_CONFIG", None)
    return subprocess.run([SDI, *args], capture_output=True, text=True, timeout=180, env=env)


def both(home: Path, twin: Path, *args: str) -> tuple[Run, Run]:
    """The same command beside the server (home) and directly on the twin, at the same time."""
    with ThreadPoolExecutor(2) as pool:
        beside, direct = pool.submit(sdi, home, *args), pool.submit(sdi, twin, *args)
        return beside.result(), direct.result()


def start_server(home: Path) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    env = {**os.environ, "SDI_HOME": str(home), "SDI_LLM": "template"}  # a model the test never uses is not loaded
    env.pop("SDI_CONFIG", None)
    server = subprocess.Popen([SDI, "serve", "--port", str(port)], env=env, text=True, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert server.poll() is None, server.stderr.read() if server.stderr else "sdi serve ended"
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return server, url
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError("sdi serve did not answer in time")


def test_cli_beside_a_running_server(tmp_path: Path) -> None:
    home, twin = fresh_home("beside-server"), fresh_home("beside-direct")
    (tmp_path / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    server, url = start_server(home)
    try:
        info_file = home / "server.json"
        assert stat.S_IMODE(info_file.stat().st_mode) == 0o600
        info = json.loads(info_file.read_text())
        assert info["pid"] == server.pid and info["url"] == url and info["user"] == "local-cli"

        # Reading commands: a snapshot, the same output as without the server, and the API's view.
        beside, direct = both(home, twin, "opportunities", "--json")
        assert beside.returncode == 0, beside.stderr
        assert "reading a snapshot of it as of" in beside.stderr and f"pid {server.pid}" in beside.stderr
        assert beside.stdout == direct.stdout and "snapshot" not in direct.stderr
        items = json.loads(beside.stdout)
        admin = {"Authorization": f"Bearer {info['token']}"}
        page = httpx.get(f"{url}/api/opportunities", params={"limit": 500}, headers=admin, timeout=30).json()
        assert page["total"] == len(items) > 0
        assert [(o["id"], o["priority"]) for o in page["items"]] == [(o["id"], o["priority"]) for o in items][:500]
        kpis, direct = both(home, twin, "kpis")
        assert kpis.returncode == 0 and kpis.stdout == direct.stdout and "contract coverage" in kpis.stdout
        assert "(nothing written since)" in kpis.stderr  # no write in between: the same copy again

        # Writing commands: handed to the server, the same report and exit code as a direct run on the twin.
        imported, direct = both(home, twin, "ingest", str(mapping), "--strict")
        assert imported.returncode == direct.returncode == 1, imported.stderr  # --strict: a row was rejected
        assert imported.stdout == direct.stdout and "line 3: missing required field customer_id" in imported.stdout
        assert "importing through `sdi serve`" in imported.stderr
        stored, direct = both(home, twin, "triggers")
        assert stored.returncode == 0, stored.stderr
        assert stored.stdout == direct.stdout and "Opportunities: " in stored.stdout
        added = sdi(home, "users", "add", "Nina Night", "--role", "compliance")
        assert added.returncode == 0, added.stderr
        assert added.stdout.startswith("created compliance 'Nina Night'")
        token = added.stdout.strip().splitlines()[-1]
        me = httpx.get(f"{url}/api/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert me.status_code == 200 and me.json()["role"] == "compliance"
        twice = sdi(home, "users", "add", "Nina Night", "--role", "compliance")
        assert twice.returncode == 2 and "user 'Nina Night' exists" in twice.stderr and "hint:" in twice.stderr
        listed = sdi(home, "users", "list")  # after writes: a new copy, not the one from before them
        assert "Nina Night" in listed.stdout and "snapshot" in listed.stderr and "nothing written" not in listed.stderr
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)

    assert server.returncode in (0, -signal.SIGTERM) and not (home / "server.json").exists()
    kinds = [json.loads(line) for line in (home / "audit" / "audit.jsonl").read_text().splitlines()]
    by_local = {e["kind"] for e in kinds if e.get("user") == "local-cli"}
    assert {"ingest", "triggers_run", "user_add"} <= by_local
    assert any(e["kind"] == "local_admin_token" for e in kinds)

    # Something else holds the file (here: this test process): the message names it and says what to do.
    with MachineFile(home / "machine-file.duckdb"):
        held = sdi(home, "opportunities")
    assert held.returncode == 2 and f"process {os.getpid()}" in held.stderr
    assert "not a running `sdi serve`" in held.stderr and "hint:" in held.stderr

    # Stopped: the CLI opens the file directly again, with the same data as the twin that took the same steps.
    after, direct = both(home, twin, "opportunities", "--json")
    assert after.returncode == 0 and "snapshot" not in after.stderr and after.stdout == direct.stdout
    with MachineFile(home / "machine-file.duckdb") as db:  # the local admin went with the server
        assert db.sql("SELECT name FROM users ORDER BY name") == [("Nina Night",)]
