"""The house rules of the package, checked on its source: the data flow, the old paths, the norms.

See the README's "Architecture": analysis subpackages never import the output side; no private
name crosses from one subpackage to another; no module much over 600 lines; every value of
the profile that is not flagged unread is read by some analysis; the names of the flat
package before the rebuild still import, with a deprecation warning.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import json
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from layout import _moved
from layout.standards import load_profile

PACKAGE = Path(__file__).resolve().parents[1] / "layout"
ANALYSIS = (
    "standards", "demand", "access", "optimize", "sites", "phases", "closure", "land", "indicators"
)
OUTPUT = ("maps", "report", "runs", "cli")
TOOLBOX = {"_validate", "_arrays", "_moved"}
"""Private modules of the package root, shared by every subpackage by design."""
LONGEST = 650
"""About 600 lines: the longest module allowed."""


def _modules() -> dict[str, ast.Module]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = ast.parse(path.read_text(encoding="utf-8"))
    return found


def _imports(name: str, tree: ast.Module) -> list[tuple[str, str]]:
    """(module, imported name) of every ``from ... import`` at the top of a module."""
    package = (
        name
        if (PACKAGE.parent / name.replace(".", "/") / "__init__.py").exists()
        else (name.rsplit(".", 1)[0])
    )
    out = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            out += [(source, alias.name) for alias in node.names]
    return out


def _stage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "layout" else None


MODULES = _modules()


def test_analysis_never_imports_maps_report_or_runs() -> None:
    bad = [
        f"{name} imports {source}"
        for name, tree in MODULES.items()
        if _stage(name) in ANALYSIS
        for source, _ in _imports(name, tree)
        if _stage(source) in OUTPUT
    ]
    assert not bad, bad


def test_no_private_name_crosses_subpackages() -> None:
    bad = []
    for name, tree in MODULES.items():
        for source, imported in _imports(name, tree):
            if _stage(source) is None or _stage(source) == _stage(name):
                continue
            private = [p for p in source.split(".")[1:] if p.startswith("_")]
            if imported.startswith("_") and imported not in TOOLBOX:
                bad.append(f"{name} imports {imported} from {source}")
            elif private and private != [source.split(".")[1]]:
                bad.append(f"{name} imports {imported} from private {source}")
            elif private and private[0] not in TOOLBOX:
                bad.append(f"{name} imports from private {source}")
    assert not bad, bad


def test_no_module_is_much_over_600_lines() -> None:
    long = {
        str(path.relative_to(PACKAGE.parent)): n
        for path in PACKAGE.rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > LONGEST
    }
    assert not long, long


def _leaves(obj: object, path: tuple[str, ...] = ()) -> list[tuple[str, bool]]:
    out = []
    for f in dataclasses.fields(obj):  # type: ignore[arg-type]
        if f.name == "sources":
            continue
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            out += _leaves(value, (*path, f.name))
        else:
            out.append((".".join((*path, f.name)), bool(f.metadata.get("unread"))))
    return out


def test_every_profile_value_not_flagged_unread_is_read() -> None:
    """Read as an attribute (``.primary_cap``) or named in a string (a column list, a getattr).

    The four travel modes are read by ``Profile.mode`` through ``f"{setting}_{level}_mode"``.
    """
    code = "\n".join(
        p.read_text(encoding="utf-8")
        for p in PACKAGE.rglob("*.py")
        if p.parent.name != "standards" or p.name == "profile.py"
    )
    definitions = re.compile(r"^\s+\w+: .*= field\(.*$", re.M)
    code = definitions.sub("", code)
    built = {f"{s}_{lv}_mode" for s in ("urban", "rural") for lv in ("primary", "junior")}
    assert 'f"{setting}_{level}_mode"' in code
    unread_found, read_missing = [], []
    for key, unread in _leaves(load_profile()):
        leaf = key.rsplit(".", 1)[-1]
        read = leaf in built or re.search(rf"\.{leaf}\b|[\"']{leaf}[\"']", code) is not None
        if unread and read:
            unread_found.append(key)
        if not unread and not read:
            read_missing.append(key)
    assert not read_missing, f"profile values nothing reads: {read_missing}"
    assert not unread_found, f"flagged unread but read: {unread_found}"


OLD_NAMES = json.loads((Path(__file__).parent / "old_public_names.json").read_text())
"""The public names of every public module of the flat package before the rebuild (0.1)."""


@pytest.mark.parametrize("module", sorted(OLD_NAMES))
def test_old_public_import_paths_still_work(module: str) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        old = importlib.import_module(module)
        for name in OLD_NAMES[module]:
            if (module, name) in _moved.REPLACED:
                with pytest.raises(AttributeError, match="it was replaced by"):
                    getattr(old, name)
            else:
                assert getattr(old, name) is not None, name
    moved = module in _moved.MODULES or any((module, n) in _moved.NAMES for n in OLD_NAMES[module])
    warned = [w for w in caught if issubclass(w.category, DeprecationWarning)]
    assert bool(warned) == moved or module in {m for m, _ in _moved.NAMES}


def test_an_old_module_path_warns_and_names_the_new_home() -> None:
    with pytest.warns(DeprecationWarning, match="layout.pipeline moved to layout.runs.plan"):
        importlib.reload(importlib.import_module("layout.pipeline"))
    with pytest.warns(DeprecationWarning, match="layout.land.land_check moved to layout.runs.land"):
        from layout.land import land_check  # noqa: F401


HEAVY = ("geopandas", "folium", "sklearn", "scipy", "shapely", "pandas", "matplotlib")
"""Libraries a command loads when it runs, never the ``layout`` command's start."""


def test_the_command_starts_without_the_heavy_libraries() -> None:
    """``import layout.cli`` and ``layout --help`` load none of :data:`HEAVY` (a quick start).

    Run in a fresh interpreter: this test process has imported them all already.
    """
    script = (
        "import contextlib, io, sys\n"
        "import layout.cli\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    layout.cli.main(['--help'])\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert found.stdout.strip() == "[]", found.stderr
