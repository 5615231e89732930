"""Shared set-up for the app's tests: a small demo base built once per run, users per role, a live uvicorn server."""

from __future__ import annotations

import atexit
import shutil
import socket
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from sdi.config import Settings, load_settings
from sdi.store import MachineFile

MACHINES = 300
SEED = 7
_cache: dict[str, Any] = {}
_root = Path(tempfile.mkdtemp(prefix="sdi-api-tests-"))
atexit.register(shutil.rmtree, _root, True)


def base_home() -> Path:
    """The demo base (300 machines, triggers run), built once per test process."""
    if "base" in _cache:
        return _cache["base"]
    from sdi.demo import generator as demo
    from connectors.ingest import ingest
    from sdi.demo.run import generate_demo_files
    from sdi.progress import Progress
    from sdi.triggers.service import run_triggers

    home = _root / "base"
    mapping = generate_demo_files(home / "demo-data", MACHINES, SEED, demo.DEFAULT_AS_OF, Progress(quiet=True))
    with MachineFile(home / "machine-file.duckdb") as db:
        ingest(db, mapping)
        run_triggers(db, home, demo.DEFAULT_AS_OF, store=True)
    _cache["base"] = home
    return home


def build_index(home: Path) -> None:
    """Index the service history the tests draft over: the demo rep's territory and the demo technician's machines.

    Built from a pruned copy of the machine file (fewer chunks to embed on 2 cores) into `home`'s vector store;
    every indexed record is also in `home`'s machine file, so citations resolve as in production.
    """
    from retrieval.embedder import get_embedder
    from retrieval.indexer import run_index
    from retrieval.retriever import catalog_dir
    from retrieval.vector_store import open_store
    from sdi.access.users import _demo_people

    scratch = _root / f"index-scratch-{home.name}"
    scratch.mkdir()
    shutil.copy(home / "machine-file.duckdb", scratch / "machine-file.duckdb")
    settings = load_settings(home=home)
    with MachineFile(scratch / "machine-file.duckdb") as db:
        people = _demo_people(db)
        db.con.execute(
            "DELETE FROM service_records WHERE serial NOT IN (SELECT m.serial FROM machines m JOIN customers c "
            "USING (customer_id) WHERE c.territory = ?) AND serial NOT IN (SELECT serial FROM (SELECT serial, "
            "arg_max(technician, (date, record_id)) AS t FROM service_records GROUP BY serial) WHERE t = ?)",
            [people["territory"], people["technician"]])
        store = open_store(settings.vector_store, settings.vector_dir)
        run_index(db, store, get_embedder(settings.embedding_model), catalog_dir(settings), None)


def fresh_home(name: str) -> Path:
    """A private copy of the demo base for one test module (the audit log and users start empty)."""
    target = _root / name
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(base_home(), target)
    return target


def settings_for(home: Path, llm: str = "smollm2") -> Settings:
    """Settings pointing at a test home."""
    return load_settings(home=home, llm=llm)


@dataclass
class People:
    """Tokens and facts of the test users."""

    tokens: dict[str, str]  # key -> token (keys: sales_rep, technician, compliance, admin, other_rep, other_tech)
    names: dict[str, str]
    rep_territory: str
    other_territory: str
    tech_serials: list[str]

    def headers(self, who: str) -> dict[str, str]:
        """Authorization header of one user."""
        return {"Authorization": f"Bearer {self.tokens[who]}"}


def make_people(db: MachineFile) -> People:
    """One user per role (the demo's) plus a rep of another territory and a technician with one other machine."""
    from sdi.access.users import add_user, create_demo_users

    demo = create_demo_users(db)
    tokens = {role: token for _, role, token in demo}
    names = {role: name for name, role, _ in demo}
    rep = db.con.execute("SELECT territory FROM users WHERE role = 'sales_rep'").fetchone()[0]
    other = db.scalar("SELECT territory FROM customers WHERE territory <> ? GROUP BY 1 ORDER BY count(*) DESC LIMIT 1", [rep])
    _, tokens["other_rep"] = add_user(db, "Other Rep", "sales_rep", other)
    names["other_rep"] = "Other Rep"
    tech_serials = sorted(r[0] for r in db.sql("SELECT serial FROM user_serials WHERE name = ?", [names["technician"]]))
    spare = db.scalar("SELECT serial FROM machines WHERE serial NOT IN (SELECT serial FROM user_serials) ORDER BY serial LIMIT 1")
    _, tokens["other_tech"] = add_user(db, "Other Tech", "technician", serials=[spare])
    names["other_tech"] = "Other Tech"
    return People(tokens, names, rep, other, tech_serials)


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """A real uvicorn server on 127.0.0.1 (free port) in a background thread."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.app = app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    timeout_graceful_shutdown=3))
        self.thread = threading.Thread(target=self.server.run, name="uvicorn-test", daemon=True)

    def start(self, wait_for_model: bool = True, timeout: float = 300) -> "LiveServer":
        """Start and wait until /health answers (and, if asked, the model is loaded)."""
        self.thread.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.server.started:
                state = httpx.get(f"{self.url}/health", timeout=5).json()["drafting"]["state"]
                if not wait_for_model or state != "starting":
                    return self
            time.sleep(0.1)
        raise RuntimeError("the test server did not start in time")

    def stop(self) -> None:
        """Shut down (the app's lifespan closes the queue and the machine file)."""
        self.server.should_exit = True
        self.thread.join(30)


def live() -> tuple[LiveServer, People, Path]:
    """The shared live server over the indexed base with the real default LLM (one per test process)."""
    if "live" not in _cache:
        from sdi.api.app import create_app

        home = fresh_home("live")
        build_index(home)
        settings = settings_for(home)
        db = MachineFile(settings.db_path)
        people = make_people(db)
        server = LiveServer(create_app(settings, db)).start()
        atexit.register(_shutdown, server, db)
        _cache["live"] = (server, people, home)
    return _cache["live"]


def _shutdown(server: LiveServer, db: MachineFile) -> None:
    server.stop()
    db.close()


def parse_sse(text: str) -> list[tuple[str, Any]]:
    """(event, data) pairs of an SSE body."""
    import json

    out = []
    for frame in text.split("\n\n"):
        name, data = None, []
        for line in frame.splitlines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])
        if name:
            out.append((name, json.loads("\n".join(data)) if data else None))
    return out


def open_page(browser: Any, **context: Any) -> Any:
    """A page in a new browser context that collects the page's script errors in `page.errors`."""
    page = browser.new_context(**context).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.errors = errors
    return page
