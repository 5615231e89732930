"""`sdi demo`: generate the demo installed base, import it through the customer's connector path, assess it."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

from sdi.config import Settings
from sdi.store import MachineFile
from sdi.progress import Progress

PARAMS_FILE = ".params.json"


def _generator_hash() -> str:
    """Hash of the generator's source: any change to it means the cached files are stale."""
    folder = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for name in ("generator.py", "text.py"):
        path = folder / name
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def generate_demo_files(out_dir: Path, machines: int, seed: int, as_of: date, progress: Progress) -> Path:
    """Write the demo exports and mapping (reused when already generated with the same parameters)."""
    from sdi.demo import generator as demo

    params = {"machines": machines, "seed": seed, "as_of": as_of.isoformat(), "generator": _generator_hash()}
    stamp = out_dir / PARAMS_FILE
    mapping = out_dir / "mapping.yaml"
    if stamp.is_file() and mapping.is_file() and json.loads(stamp.read_text()) == params:
        progress(f"demo files for {machines:,} machines (seed {seed}) already in {out_dir}: reusing them")
        return mapping
    out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    progress(f"generating a demo installed base of {machines:,} machines (seed {seed}, as of {as_of}) in {out_dir}")
    demo.generate(out_dir, machines=machines, seed=seed, as_of=as_of, progress=progress)
    stamp.write_text(json.dumps(params))
    return mapping


def already_imported(db: MachineFile, mapping_path: Path) -> bool:
    """True when, for every entity the mapping imports, the machine file's latest import was this very file (same
    name and sha256): importing it again would change nothing."""
    from connectors.mapping import load_mapping
    from sdi.hashing import sha256_file

    mapping = load_mapping(mapping_path)
    latest = {entity: (file, sha) for entity, file, sha in db.sql(
        "SELECT entity, arg_max(file, import_id), arg_max(sha256, import_id) FROM imports GROUP BY entity")}
    # Names first: a file is hashed only when its entity's last import has its name (ingest hashes what it imports).
    return all(fm.entity in latest and latest[fm.entity][0] == fm.path
               and latest[fm.entity][1] == sha256_file(mapping.resolve(fm)) for fm in mapping.files)


def import_demo_files(settings: Settings, db: MachineFile, mapping: Path, progress: Progress) -> None:
    """Import the demo files through the customer's connector path, unless this machine file holds them already."""
    from connectors.ingest import ingest
    from connectors.report import render_ingest
    from sdi.audit.log import AuditLog

    if already_imported(db, mapping):
        progress("the machine file already holds these demo files (each one's last import, same sha256): "
                 f"not importing them again (sdi ingest {mapping} does)")
        return
    progress(f"importing through the customer's connector path: sdi ingest {mapping}")
    report = ingest(db, mapping, batch_rows=settings.ingest_batch_rows, progress=progress)
    AuditLog(settings.home).append("ingest", report.audit_payload(), user="demo")
    print(render_ingest(report, show=5))
    print()


def index_history(settings: Settings, db: MachineFile, progress: Progress) -> None:
    """Index the service histories (what `sdi index` does) so drafts can cite them."""
    from retrieval.render import render_index
    from retrieval.embedder import LazyEmbedder
    from retrieval.indexer import run_index
    from retrieval.retriever import catalog_dir
    from retrieval.vector_store import open_store

    progress("indexing service histories for cited drafts (sdi index)")
    store = open_store(settings.vector_store, settings.vector_dir)
    # Lazy: the model loads only if something needs embedding (an index in step with the data needs none).
    report = run_index(db, store, LazyEmbedder(settings.embedding_model), catalog_dir(settings),
                       settings.documents_dir, progress)
    print(render_index(report.to_dict()))


def run_demo(settings: Settings, *, machines: int, seed: int, as_of: date | None, serve: bool,
             history: bool = True) -> None:
    """The whole demo pipeline, printing what happened at each step."""
    from sdi.demo import generator as demo
    from sdi.triggers.assess import assess, render
    from sdi.triggers.opportunities import list_opportunities
    from sdi.triggers.render import render_opportunities, render_run
    from sdi.triggers.rules import load_rules
    from sdi.triggers.service import run_triggers

    progress = Progress()
    as_of = as_of or demo.DEFAULT_AS_OF
    mapping = generate_demo_files(settings.demo_dir, machines, seed, as_of, progress)
    with MachineFile.for_settings(settings) as db:
        import_demo_files(settings, db, mapping, progress)
        print(render(assess(db, load_rules(settings.home), as_of)))
        print()
        if history:
            from sdi.demo.outcomes import simulate_history

            progress("simulating a year of sales history: monthly trigger runs, reps' outcomes, technicians' leads")
            year = simulate_history(db, settings.home, seed, progress)
            if year:
                print(year.summary())
                print()
        progress("detecting triggers over the whole base and merging them into opportunities")
        result = run_triggers(db, settings.home, as_of, store=True)
        print(render_run(result))
        print()
        print(render_opportunities(list_opportunities(db), limit=15))
        print()
        if not serve:  # a server indexes in the background while it serves (sdi.api.indexing)
            index_history(settings, db, progress)
        from sdi.access.users import create_demo_users

        logins = create_demo_users(db)
        print()
        print("Demo users (one per role; the token is their password — keep it):")
        for name, role, token in logins:
            print(f"  {role:<11} {name:<22} token {token}")
        print(f"\nState is in {settings.home.resolve()} — try: sdi opportunities --territory DE-North · "
              "sdi why OPP-… · sdi brief SERIAL · sdi assess · sdi audit verify")
        if serve:
            from sdi.api.server import serve_app

            serve_app(settings, db=db, logins=logins)
