"""Data at rest is owner-only: folders 0700, files 0600 under SDI_HOME (and for backups and audit bundles)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_UMASK = 0o077
DIR_MODE = 0o700
FILE_MODE = 0o600


def private_umask() -> int:
    """Make every file and folder this process creates owner-only from now on; returns the previous umask."""
    return os.umask(PRIVATE_UMASK)


def private_dir(path: Path) -> Path:
    """Create a folder (and its missing parents) owner-only; tighten it if it already exists."""
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    if stat.S_IMODE(path.stat().st_mode) != DIR_MODE:
        os.chmod(path, DIR_MODE)
    return path


def _walk(path: Path) -> list[Path]:
    """The path itself and, for a folder, everything below it (without following symlinks)."""
    found = [path]
    if path.is_dir() and not path.is_symlink():
        for root, dirs, files in os.walk(path):
            found.extend(Path(root) / name for name in dirs + files)
    return found


def secure_tree(path: Path) -> int:
    """Make a folder and everything under it owner-only (symlinks are left alone); returns how many modes changed."""
    if not path.exists():
        return 0
    changed = 0
    for target in _walk(path):
        try:
            info = target.lstat()
        except FileNotFoundError:  # removed while we walked (e.g. a temp file of another process)
            continue
        if stat.S_ISLNK(info.st_mode):
            continue
        if stat.S_ISDIR(info.st_mode):
            wanted = DIR_MODE
        else:  # keep the owner's execute bit (a script someone placed there), drop everything else
            wanted = FILE_MODE | (info.st_mode & stat.S_IXUSR)
        if stat.S_IMODE(info.st_mode) != wanted:
            os.chmod(target, wanted)
            changed += 1
    return changed


def exposed_paths(path: Path) -> list[Path]:
    """Everything under a folder that group or others may read, write or enter (empty when all is private)."""
    found: list[Path] = []
    if not path.exists():
        return found
    for candidate in _walk(path):
        try:
            info = candidate.lstat()
        except FileNotFoundError:
            continue
        if not stat.S_ISLNK(info.st_mode) and info.st_mode & 0o077:
            found.append(candidate)
    return found
