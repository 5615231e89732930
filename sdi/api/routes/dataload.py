"""Data loads in the UI: mappings on the server, uploads, background imports with progress, history, rejected rows."""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status

from sdi.api.deps import Admin, Db, State, audit_action
from sdi.api.import_jobs import ImportJobs, import_jobs
from sdi.api.schemas import IngestRequest
from sdi.api.uploads import check_upload_mapping, list_mappings, new_upload, save
from sdi.errors import SdiError

router = APIRouter(prefix="/api/admin", tags=["admin"])
Jobs = Annotated[ImportJobs, Depends(import_jobs)]
RunId = Annotated[int, Path(ge=-2**62, le=2**62, description="An import run's id (negative for imports made "
                                                             "before runs were recorded).")]


def _with_job(run: dict[str, Any], jobs: ImportJobs) -> dict[str, Any]:
    job = jobs.get(run["run_id"])
    if run["state"] == "running" and not jobs.busy():
        run["state"] = "interrupted"  # the process that ran it stopped before it finished
    return run | {"job": job.to_dict() if job else None}


@router.get("/mappings")
def mappings(user: Admin, state: State) -> dict[str, Any]:
    """Mapping YAMLs on the server (SDI_HOME, its demo-data folder and uploads), newest first."""
    return {"items": list_mappings(state.settings.home, state.settings.demo_dir)}


@router.post("/uploads", status_code=status.HTTP_201_CREATED)
def start_upload(user: Admin, state: State) -> dict[str, Any]:
    """A new, empty upload folder SDI_HOME/uploads/<UTC time>/ for export files and their mapping."""
    name = new_upload(state.settings.home)
    return {"upload": name, "folder": str(state.settings.home / "uploads" / name)}


@router.put("/uploads/{upload}/{name}")
async def upload_file(upload: Annotated[str, Path(max_length=40)], name: Annotated[str, Path(max_length=200)],
                      request: Request, user: Admin, state: State) -> dict[str, Any]:
    """Store one file of an upload (the raw bytes as the body; the name is sanitised; 8 MB at most)."""
    saved = await save(state.settings.home, upload, name, request.stream())
    audit_action(state, "upload", {"upload": upload, "file": saved["name"], "size": saved["size"],
                                   "sha256": saved["sha256"]}, user)
    return saved


@router.post("/imports", status_code=status.HTTP_202_ACCEPTED)
def start_import(body: IngestRequest, user: Admin, state: State, jobs: Jobs) -> dict[str, Any]:
    """Start an import through a mapping on the server in the background; poll GET /api/admin/imports/{run_id}."""
    mapping = FilePath(body.mapping)
    if not mapping.is_file():
        raise SdiError(f"no mapping file at {mapping}", "pick a mapping listed on the page, or upload one")
    check_upload_mapping(state.settings.home, mapping)
    return jobs.start(state, mapping, user, body.run_triggers).to_dict()


@router.get("/imports")
def import_history(user: Admin, db: Db, jobs: Jobs, limit: int = Query(20, ge=1, le=200),
                   offset: int = Query(0, ge=0)) -> dict[str, Any]:
    """Every import, newest first, with each file's counts (read, stored, rejected, duplicates merged)."""
    from sdi.store.imports import list_runs

    total, runs = list_runs(db, limit, offset)
    return {"total": total, "limit": limit, "offset": offset, "active": jobs.active,
            "items": [_with_job(r, jobs) for r in runs]}


@router.get("/imports/{run_id}")
def import_run(run_id: RunId, user: Admin, db: Db, jobs: Jobs) -> dict[str, Any]:
    """One import: its files' counts and, while the app runs it, its progress."""
    from sdi.store.imports import get_run

    run = get_run(db, run_id)
    if run is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no import #{run_id}")
    return _with_job(run, jobs)


@router.get("/imports/{run_id}/rejections")
def import_rejections(run_id: RunId, user: Admin, db: Db, file: Annotated[str | None, Query(max_length=1000)] = None,
                      limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0)) -> dict[str, Any]:
    """An import's rejected rows (file, line, reason, the row's text), by file and line, a page at a time."""
    from sdi.store.imports import get_run, run_rejections

    if get_run(db, run_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no import #{run_id}")
    total, items = run_rejections(db, run_id, file, limit, offset)
    return {"run_id": run_id, "total": total, "limit": limit, "offset": offset, "items": items}
