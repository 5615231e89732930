"""The demo end to end with the real `sdi` command: generate, import through a mapping, assess, detect, draft and
serve — the same pipeline once more inside `unshare -n` (no network at all) with identical results."""

from __future__ import annotations

import errno
import json
import shutil
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from sdi.llm.catalog import DEFAULT as DEFAULT_MODEL

SDI = str(Path(sys.executable).parent / "sdi")
MACHINES = 600
SEED = 11
NO_NET = ("unshare", "-n")  # a fresh network namespace: only a loopback interface, and that one down


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
    # precursor ships without signals: it fires once `sdi rules suggest` fitted them (tests/integration/test_calibrate.py)
    assert fired.pop("precursor") == 0
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


@pytest.fixture(scope="module")
def offline_home(tmp_path_factory: pytest.TempPathFactory, sdi_env: dict[str, str]) -> Path:
    """The same demo built inside a network namespace with no network (generate, import, triggers, index, users)."""
    assert shutil.which("unshare"), "unshare (util-linux) is needed for the zero-egress test"
    home = tmp_path_factory.mktemp("offline") / "home"
    offline = sdi(home, sdi_env, "demo", "--no-serve", "--machines", str(MACHINES), "--seed", str(SEED), prefix=NO_NET)
    assert offline.returncode == 0, offline.stderr[-3000:]
    return home


@pytest.mark.timeout(1200)
def test_demo_is_deterministic_and_runs_with_no_network(demo_home: Path, offline_home: Path, sdi_env: dict[str, str]) -> None:
    for name in sorted(p.name for p in (demo_home / "demo-data").iterdir() if p.is_file() and not p.name.startswith(".")):
        assert (offline_home / "demo-data" / name).read_bytes() == (demo_home / "demo-data" / name).read_bytes(), name
    ours = json.loads(sdi(offline_home, sdi_env, "status", "--json").stdout)["rows"]
    theirs = json.loads(sdi(demo_home, sdi_env, "status", "--json").stdout)["rows"]
    assert ours == theirs


def ok(result: subprocess.CompletedProcess[str]) -> str:
    """stdout of a command that must have succeeded."""
    assert result.returncode == 0, f"{result.args}: exit {result.returncode}\n{result.stderr[-3000:]}"
    return result.stdout


def stable(draft: dict[str, Any]) -> dict[str, Any]:
    """A draft without what differs by design between two runs: its audit entry id and its timings.

    Everything the model wrote is kept: sentences that passed the citation check are in `sentences`, the rejected
    ones verbatim in `check.failures`.
    """
    return {k: v for k, v in draft.items() if k not in ("audit_id", "timings")}


def pipeline_drafts(home: Path, env: dict[str, str], prefix: tuple[str, ...] = ()) -> dict[str, Any]:
    """Triggers, opportunities and the real model's why and brief drafts for the best opportunity."""
    out: dict[str, Any] = {"triggers": ok(sdi(home, env, "triggers", "--json", prefix=prefix))}
    out["opportunities"] = json.loads(ok(sdi(home, env, "opportunities", "--json", prefix=prefix)))
    assert out["opportunities"], "the demo base should hold opportunities"
    best = out["opportunities"][0]
    out["why"] = json.loads(ok(sdi(home, env, "why", best["id"], "--json", prefix=prefix)))
    out["brief"] = json.loads(ok(sdi(home, env, "brief", best["serial"], "--json", prefix=prefix)))
    return out


# Runs as `unshare -n python client.py …`: the server and its client must share the one network-less namespace.
CLIENT = r'''
import ctypes, json, signal, socket, subprocess, sys, time, traceback, urllib.error, urllib.request

sdi, token, opportunity_id, serial, log_path = sys.argv[1:6]
out = {}
http = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never a proxy, even if the environment names one


def call(method, path, token=None, timeout=300):
    request = urllib.request.Request(base + path, method=method, data=b"{}" if method == "POST" else None)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    try:
        with http.open(request, timeout=timeout) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read().decode("utf-8")


def sse(body):
    events = []
    for frame in body.split("\n\n"):
        lines = [line for line in frame.splitlines() if line and not line.startswith(":")]
        name = next((line[7:] for line in lines if line.startswith("event: ")), None)
        data = next((line[6:] for line in lines if line.startswith("data: ")), None)
        if name:
            events.append([name, json.loads(data) if data else None])
    return events


def die_with_parent():
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: no server outlives this script


server = None
try:
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True, capture_output=True, text=True)
    out["interfaces"] = [name for _, name in socket.if_nameindex()]
    if out["interfaces"] == ["lo"]:  # only then is it safe to try an outside address: no packet can leave
        probe = socket.socket()
        probe.settimeout(5)
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1 (RFC 5737): never a real host
            out["connect"] = "connected"
        except OSError as exc:
            out["connect"] = exc.errno
        finally:
            probe.close()
        try:
            socket.getaddrinfo("pypi.org", 443)
            out["dns"] = "resolved"
        except socket.gaierror as exc:
            out["dns"] = "gaierror: %s" % exc
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        port = spare.getsockname()[1]
    base = "http://127.0.0.1:%d" % port
    with open(log_path, "w") as log:
        server = subprocess.Popen([sdi, "serve", "--port", str(port)], stdout=log, stderr=subprocess.STDOUT,
                                  preexec_fn=die_with_parent)
    deadline = time.monotonic() + 300
    while True:
        if server.poll() is not None:
            raise RuntimeError("sdi serve exited with %s" % server.returncode)
        if time.monotonic() > deadline:
            raise RuntimeError("no ready /health within 300 s: %r" % out.get("health"))
        try:
            status, _, body = call("GET", "/health", timeout=5)
            out["health"] = json.loads(body)
            if status == 200 and out["health"]["drafting"]["state"] != "starting":
                break
        except OSError:
            pass
        time.sleep(0.5)
    out["anonymous_status"] = call("GET", "/api/opportunities")[0]
    status, _, body = call("GET", "/api/opportunities?limit=20", token)
    out["opportunities"] = [status, json.loads(body)]
    status, _, body = call("POST", "/api/opportunities/%s/why" % opportunity_id, token)
    out["why"] = [status, json.loads(body)]
    status, kind, body = call("POST", "/api/opportunities/%s/why/stream" % opportunity_id, token)
    out["why_stream"] = [status, kind, sse(body)]
    status, _, body = call("POST", "/api/briefings/%s" % serial, token)
    out["brief"] = [status, json.loads(body)]
except Exception:
    out["error"] = traceback.format_exc()
finally:
    if server is not None:
        server.terminate()
        try:
            server.wait(60)
            out["stopped"] = "on SIGTERM"
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
            out["stopped"] = "killed after 60 s"
        out["server_exit"] = server.returncode
print(json.dumps(out))
'''


@pytest.mark.timeout(1800)
def test_drafts_and_server_with_no_network_match_the_online_run(demo_home: Path, offline_home: Path, tmp_path: Path,
                                                                 sdi_env: dict[str, str]) -> None:
    env = {k: v for k, v in sdi_env.items() if k != "SDI_LLM"}  # the real default model, whatever the caller set
    online = pipeline_drafts(demo_home, env)
    offline = pipeline_drafts(offline_home, env, prefix=NO_NET)

    # 1. Detection and the real model's drafts (temperature 0, fixed seed) are the same with and without a network.
    assert offline["triggers"] == online["triggers"]  # byte-identical
    assert json.loads(offline["triggers"])["triggers"]
    assert offline["opportunities"] == online["opportunities"]
    best = offline["opportunities"][0]
    for kind in ("why", "brief"):
        draft = offline[kind]
        assert draft["model"]["backend"] == DEFAULT_MODEL, draft["model"]
        assert draft["check"]["checked"] > 0, f"{kind}: the model wrote no sentence"
        assert any(s["id"].startswith("H") for s in draft["sources"]), f"{kind}: no service history retrieved offline"
        assert draft["sentences"] and all(s["citations"] for s in draft["sentences"]), draft["sentences"]
        assert stable(draft) == stable(online[kind]), kind
    assert offline["why"]["subject"]["opportunity_id"] == best["id"]
    assert offline["brief"]["subject"]["serial"] == best["serial"]

    # 2. The real server, with the real model, serves the same answers inside a namespace with no network.
    added = ok(sdi(offline_home, env, "users", "add", "Offline Admin", "--role", "admin", prefix=NO_NET))
    token = added.strip().splitlines()[-1]
    client = tmp_path / "client.py"
    client.write_text(CLIENT, encoding="utf-8")
    log = tmp_path / "serve.log"
    run = subprocess.run([*NO_NET, sys.executable, str(client), SDI, token, best["id"], best["serial"], str(log)],
                         capture_output=True, text=True, timeout=1200, env={**env, "SDI_HOME": str(offline_home)})
    assert run.returncode == 0, run.stderr[-3000:]
    served = json.loads(run.stdout.strip().splitlines()[-1])
    server_log = log.read_text(errors="replace")[-3000:] if log.exists() else ""
    assert "error" not in served, f"{served['error']}\nserver log:\n{server_log}"

    # 3. The namespace really has no network but loopback: no interface, no route, no name resolution.
    assert served["interfaces"] == ["lo"]
    assert served["connect"] == errno.ENETUNREACH
    assert served["dns"].startswith("gaierror")

    assert served["health"]["status"] == "ok" and served["health"]["drafting"]["state"] == "ready", served["health"]
    assert served["anonymous_status"] == 401
    status, page = served["opportunities"]
    assert status == 200 and page["total"] == len(offline["opportunities"])
    assert [o["id"] for o in page["items"]] == [o["id"] for o in offline["opportunities"][:20]]
    status, why = served["why"]
    assert status == 200, why
    assert stable(why) == stable(online["why"])
    status, content_type, events = served["why_stream"]
    assert status == 200 and content_type.startswith("text/event-stream"), (status, content_type)
    names = [name for name, _ in events]
    assert names[0] == "queued" and names[-2:] == ["draft", "done"], names
    streamed = events[-2][1]
    assert stable(streamed) == stable(online["why"])
    assert [data for name, data in events if name == "sentence"] == streamed["sentences"]
    status, brief = served["brief"]
    assert status == 200, brief
    assert stable(brief) == stable(online["brief"])
    # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal: exit status -15 is the clean stop.
    assert served["stopped"] == "on SIGTERM", server_log
    assert served["server_exit"] in (0, -signal.SIGTERM), (served["server_exit"], server_log)
