"""Which rules exist: every rule module of this package, plus plug-ins an administrator put in SDI_HOME/rules/.

A rule module is named after its rule and exports `RULE = Rule(...)`. Shipped rules keep their `order`
(10..90, the order runs and counts have always had); any other rule sorts after them by its own `order`
(default 1000), then by id. Plug-ins are loaded when the rules file of that SDI_HOME is loaded (`load_rules`),
which every stage does first; from then on `lookup` finds them too (templates, priority, retrieval).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import pkgutil
import stat
import sys
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Iterable

from sdi.errors import SdiError
from sdi.triggers.rules.base import Rule

PACKAGE = __name__.rpartition(".")[0]
HELPERS = frozenset({"base", "file", "registry", "sqlparts"})  # modules of the package that are not rules
PLUGIN_FOLDER = "rules"  # under SDI_HOME
_HINT = "a rule module is named <rule_id>.py and exports RULE = Rule(...); see README \"Adding a rule\""


def _rule_of(module: ModuleType, name: str, origin: str) -> Rule:
    rule = getattr(module, "RULE", None)
    if not isinstance(rule, Rule):
        raise SdiError(f"rule module {origin} exports no RULE = Rule(...)", _HINT)
    if rule.rule_id != name:
        raise SdiError(f"rule module {origin} defines rule {rule.rule_id!r}; the file must be named {rule.rule_id}.py",
                       _HINT)
    return replace(rule, origin=origin)


def ordered(rules: Iterable[Rule]) -> tuple[Rule, ...]:
    """Rules in run order: by `order`, then id."""
    return tuple(sorted(rules, key=lambda r: (r.order, r.rule_id)))


def _discover() -> tuple[Rule, ...]:
    folder = Path(__file__).parent
    found = []
    for info in pkgutil.iter_modules([str(folder)]):
        if info.name in HELPERS or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{PACKAGE}.{info.name}")
        found.append(_rule_of(module, info.name, f"sdi/triggers/rules/{info.name}.py"))
    return ordered(found)


SHIPPED: tuple[Rule, ...] = _discover()
RULE_IDS: tuple[str, ...] = tuple(r.rule_id for r in SHIPPED)
_SHIPPED_BY_ID = {r.rule_id: r for r in SHIPPED}
_plugins: dict[str, Rule] = {}  # the plug-ins loaded last, by id
_loaded: dict[tuple[str, int, int], Rule] = {}  # (path, mtime, size) -> rule: a plug-in runs its module once
_configured_home_loaded = False


def plugin_folder(home: Path) -> Path:
    """Where an administrator puts rule modules of their own: SDI_HOME/rules/."""
    return home / PLUGIN_FOLDER


def _refuse_if_writable_by_others(path: Path) -> None:
    if stat.S_IMODE(path.stat().st_mode) & 0o022:
        raise SdiError(f"rule plug-in {path}: group or others may write to it, so SDI will not run it",
                       f"only the administrator may change rule code: chmod go-w {path}")


def _load_plugin(path: Path) -> Rule:
    _refuse_if_writable_by_others(path)
    info = path.stat()
    key = (str(path.resolve()), info.st_mtime_ns, info.st_size)
    if key in _loaded:
        return _loaded[key]
    name = f"sdi_rule_plugin_{path.stem}_{hashlib.sha256(key[0].encode()).hexdigest()[:8]}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # pydantic and dataclasses resolve the module's annotations through sys.modules
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(name, None)
        raise SdiError(f"rule plug-in {path} failed to load: {type(exc).__name__}: {exc}", _HINT) from exc
    rule = _rule_of(module, path.stem, str(path))
    if rule.rule_id in _SHIPPED_BY_ID:
        raise SdiError(f"rule plug-in {path}: {rule.rule_id!r} is a shipped rule",
                       "give the plug-in rule a new id (and file name)")
    _loaded[key] = rule
    return rule


def rules_for(home: Path | None) -> tuple[Rule, ...]:
    """The shipped rules plus the plug-ins in home's rules/ folder, in run order."""
    folder = plugin_folder(home) if home is not None else None
    if folder is None or not folder.is_dir():
        return SHIPPED
    _refuse_if_writable_by_others(folder)
    plugins = [_load_plugin(path) for path in sorted(folder.glob("*.py")) if not path.name.startswith("_")]
    for rule in plugins:
        _plugins[rule.rule_id] = rule
    return ordered([*SHIPPED, *plugins])


def lookup(rule_id: str) -> Rule | None:
    """A shipped rule or a plug-in by id (None when unknown). A process that has not loaded its rules file yet
    (an app view showing a stored trigger) loads the plug-ins of the configured SDI_HOME once, at the first miss."""
    global _configured_home_loaded
    rule = _SHIPPED_BY_ID.get(rule_id) or _plugins.get(rule_id)
    if rule is None and not _configured_home_loaded:
        _configured_home_loaded = True
        from sdi.config import get_settings

        try:
            rules_for(get_settings().home)
        except SdiError:  # a broken plug-in stops `load_rules` with its message; a sentence falls back to plain text
            return None
        rule = _plugins.get(rule_id)
    return rule
