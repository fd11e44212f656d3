"""The outputs of one command as one unit: staged in the output folders, swapped in at the end.

A command writes every file of its pack (``results.gpkg``, ``tables.xlsx``, the charts, the
maps, ``index.html``, ...) into a hidden staging folder ``.layout-staging-<pid>-*`` inside each
output folder (``--out``, ``--maps``; one folder when one holds the other). When all are
written, a commit marker listing the staging folders is written (the commit point) and the
pack is swapped in, with SIGINT and SIGTERM held back until the swap is done, in two steps:

1. the files of the last pack that this one replaces or drops are removed, ``index.html``
   first;
2. the staged files are renamed into place, ``index.html`` and the manifests last.

So at every moment the folders hold part or all of one pack, never files of two runs side by
side, and ``index.html`` is there only while its pack is whole. Each folder gets a manifest
``.layout-<command>.json``: the run id and the SHA-256 of every file of the pack. A file that
another command's pack held (``index.html`` relinked by ``layout land``, ``sites.html``
rewritten by ``layout sites``) moves to this pack's manifest and is marked ``replaced`` in the
other's, so every manifest stays true.

A run killed outright (SIGKILL, power loss) leaves its staging folder: the next command on the
same folder removes it, or, when the marker was written, finishes its swap first
(:func:`recover`). Temporary files of :func:`layout.report.replacing` left by earlier versions
are removed too.

Examples
--------
>>> import tempfile, pathlib
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> with staged_pack("demo", [root / "out", root / "maps"]) as pack:
...     _ = (pack.folders[0] / "a.txt").write_text("new", encoding="utf-8")
...     _ = (pack.folders[1] / "m.html").write_text("map", encoding="utf-8")
>>> sorted(p.name for p in (root / "out").iterdir())
['.layout-demo.json', 'a.txt']
>>> pack.final(pack.folders[1] / "m.html") == (root / "maps" / "m.html").resolve()
True
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import signal
import tempfile
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..report import found_outputs, relink_index

LOG = logging.getLogger(__name__)

FAULT_ENV = "LAYOUT_TEST_SIGNAL_AT"
"""Fault injection for tests: ``<point>:<signal>`` (e.g. ``moving:KILL``) makes a run send
itself that signal at that point of writing its pack: ``staging`` (the staging folders made,
nothing written), ``staged`` (every file staged, no marker yet), ``clearing`` (the marker
written and the last pack's files removed) or ``moving`` (one file of the new pack in
place)."""

_STAGING = ".layout-staging-"
_MARKER = ".layout-commit.json"
_HELD = {signal.SIGINT, signal.SIGTERM}
_OLD_TEMPORARY = re.compile(r"^\..+-[a-z0-9_]{8}\.[A-Za-z0-9]+(-journal|-wal|-shm)?$")
"""A temporary file of :func:`layout.report.replacing` (and SQLite's journals beside it)."""


@dataclass
class Pack:
    """The staging folders of a command's outputs.

    Attributes
    ----------
    command
        Name of the command, e.g. ``"plan"`` (names the manifest).
    folders
        The staging folder of each output folder asked for, in the same order: write there.
    run_id
        Identifier of this run, written in the manifests.
    """

    command: str
    folders: list[Path]
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    _roots: list[tuple[Path, Path]] = field(default_factory=list)

    def final(self, staged: str | os.PathLike[str]) -> Path:
        """Return the final path of a staged path (unchanged if not staged).

        Parameters
        ----------
        staged
            A path inside one of :attr:`folders`.

        Returns
        -------
        pathlib.Path
        """
        path = Path(staged)
        for staging, root in self._roots:
            if path.is_relative_to(staging):
                return root / path.relative_to(staging)
        return path

    def staged(self, final: str | os.PathLike[str]) -> Path:
        """Return the staged path of a final path inside one of the output folders.

        Parameters
        ----------
        final
            A path inside an output folder given to :func:`staged_pack`.

        Returns
        -------
        pathlib.Path

        Raises
        ------
        ValueError
            If ``final`` is in none of them.
        """
        path = Path(final).resolve()
        for staging, root in self._roots:
            if path.is_relative_to(root):
                return staging / path.relative_to(root)
        raise ValueError(f"{path} is in no output folder of this pack")

    def seen_from(self, final: Path, page: Path) -> Path:
        """Return a path that, taken relative to the staged ``page``'s folder, links ``final``.

        A page staged in one folder links a file by its place after the swap; resolving the
        returned path from the staged folder gives that link.

        Parameters
        ----------
        final
            The final path of the linked file.
        page
            The staged path of the page that links it.

        Returns
        -------
        pathlib.Path
        """
        link = os.path.relpath(self.final(final), self.final(page).parent)
        return page.parent / link


def stage_index(
    pack: Pack,
    out_dir: str | os.PathLike[str],
    maps_dir: str | os.PathLike[str],
    written: Sequence[Path],
) -> list[Path]:
    """Stage ``out_dir/index.html`` (if ``layout plan`` wrote one) linking this pack's files too.

    The refreshed page is part of the pack, so it is swapped in with the files it links.

    Parameters
    ----------
    pack
        The pack being written; ``out_dir`` must be one of its output folders or inside one.
    out_dir, maps_dir
        The final output folders.
    written
        The staged files of the pack so far.

    Returns
    -------
    list of pathlib.Path
        The staged index page, or nothing when there is no index to refresh.
    """
    page = Path(out_dir).resolve() / "index.html"
    staged = pack.staged(page)
    found = found_outputs(out_dir, maps_dir, also=[pack.final(path) for path in written])
    links = {heading: [pack.seen_from(f, staged) for f in fs] for heading, fs in found.items()}
    staged.parent.mkdir(parents=True, exist_ok=True)
    done = relink_index(page, into=staged, links=links)
    return [done] if done else []


@contextmanager
def staged_pack(command: str, folders: Sequence[str | os.PathLike[str]]) -> Iterator[Pack]:
    """Yield a :class:`Pack` whose folders are staged; swap it in whole when the block ends.

    Parameters
    ----------
    command
        The command's name (``plan``, ``land``, ``closure``, ``screening``, ``sites``).
    folders
        The output folders (created if missing); a folder inside another shares its staging.

    Yields
    ------
    Pack
        Write into ``pack.folders``; the pack is swapped in when the block ends without an
        exception, and thrown away otherwise.
    """
    finals = [Path(folder).resolve() for folder in folders]
    roots = [f for f in dict.fromkeys(finals) if not any(f.is_relative_to(o) and f != o
                                                       for o in finals)]  # fmt: skip
    for root in roots:
        root.mkdir(parents=True, exist_ok=True)
        recover(root)
    pack = Pack(command=command, folders=[])
    try:
        for root in roots:
            prefix = f"{_STAGING}{os.getpid()}-"
            pack._roots.append((Path(tempfile.mkdtemp(prefix=prefix, dir=root)), root))
        for final in finals:
            staging, root = next((s, r) for s, r in pack._roots if final.is_relative_to(r))
            pack.folders.append(staging / final.relative_to(root))
            pack.folders[-1].mkdir(parents=True, exist_ok=True)
        _fault("staging")
        yield pack
        _fault("staged")
        _commit(pack)
    finally:
        for staging, _ in pack._roots:
            if not (staging / _MARKER).exists():
                shutil.rmtree(staging, ignore_errors=True)


def recover(folder: str | os.PathLike[str]) -> None:
    """Finish or throw away what killed runs left in an output folder.

    A staging folder (in the folder or one of its subfolders) with a commit marker is swapped
    in (the run had finished writing); one without is removed unless the process that made it
    still runs. Temporary files of
    :func:`layout.report.replacing` in the folder and its subfolders are removed.

    Parameters
    ----------
    folder
        An output folder.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / ".layout-staging-999999999-x").mkdir()
    >>> _ = (root / ".results-abcd1234.gpkg").write_text("half", encoding="utf-8")
    >>> recover(root)
    >>> list(root.iterdir())
    []
    """
    root = Path(folder)
    if not root.is_dir():
        return
    found = [*root.glob(f"{_STAGING}*"), *root.glob(f"*/{_STAGING}*")]
    stagings = sorted(found, key=lambda p: not (p / _MARKER).exists())
    for staging in stagings:
        if _running(staging):  # another command writing into the same folder
            continue
        if (staging / _MARKER).exists():
            LOG.warning("finishing the swap of an interrupted run's outputs in %s", root)
            _swap(json.loads((staging / _MARKER).read_text(encoding="utf-8")))
        elif staging.is_dir():
            LOG.info("removing %s, left by an interrupted run", staging)
            shutil.rmtree(staging, ignore_errors=True)
    folders = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(_STAGING)]
    for path in [root, *folders]:  # not inside staging folders: another run may be writing
        for stale in path.iterdir():
            name = stale.name
            if stale.is_file() and _OLD_TEMPORARY.match(name) and not name.startswith(".layout-"):
                LOG.info("removing %s, left by an interrupted run", stale)
                stale.unlink(missing_ok=True)


def _running(staging: Path) -> bool:
    """Tell whether the process that made a staging folder still runs (another command)."""
    pid = int(staging.name.removeprefix(_STAGING).split("-")[0] or 0)
    if pid in (0, os.getpid()):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - another user's process
        return True
    return True


def _commit(pack: Pack) -> None:
    """Write the manifests and the marker, then swap every staged file in."""
    removed: list[str] = []
    for staging, root in pack._roots:
        files = sorted(p for p in staging.rglob("*") if p.is_file())
        names = {p.relative_to(staging).as_posix(): _sha256(p) for p in files}
        manifest = root / f".layout-{pack.command}.json"
        if manifest.is_file():
            old = json.loads(manifest.read_text(encoding="utf-8")).get("files", {})
            removed += [str(root / name) for name in old if name not in names]
        record = {"command": pack.command, "run_id": pack.run_id, "files": names}
        (staging / manifest.name).write_text(json.dumps(record, indent=1), encoding="utf-8")
        for other in sorted(root.glob(".layout-*.json")):
            if other.name != manifest.name:
                _hand_over(other, staging / other.name, names, f"{pack.command} {pack.run_id}")
    plan = {"folders": [[str(s), str(r)] for s, r in pack._roots], "remove": removed}
    first = pack._roots[0][0]
    with tempfile.NamedTemporaryFile("w", dir=first, delete=False, encoding="utf-8") as tmp:
        json.dump(plan, tmp)
    with _signals_held():
        os.replace(tmp.name, first / _MARKER)  # the commit point
        _swap(plan)


def _hand_over(manifest: Path, staged: Path, names: Mapping[str, str], taker: str) -> None:
    """Stage ``manifest`` without the files this pack rewrites, marking them replaced."""
    record = json.loads(manifest.read_text(encoding="utf-8"))
    taken = [name for name in record.get("files", {}) if name in names]
    if taken:
        for name in taken:
            del record["files"][name]
            record.setdefault("replaced", {})[name] = taker
        staged.write_text(json.dumps(record, indent=1), encoding="utf-8")


@contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back until the block ends, then act on the first one caught.

    Python runs signal handlers in the main thread whichever thread the signal reaches, so
    the handlers are swapped for one that only records the signal (in the main thread; in
    another thread, where handlers cannot be set, nothing is held).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {held: signal.signal(held, lambda signum, _: caught.append(signum))
                for held in _HELD}  # fmt: skip
    try:
        yield
    finally:
        for held, handler in previous.items():
            signal.signal(held, handler)
        if caught:
            signal.raise_signal(caught[0])


def _swap(plan: Mapping[str, Any]) -> None:
    """Remove the last pack's files, move every staged file in, clean up (safe to redo)."""
    folders = [(Path(s), Path(r)) for s, r in plan["folders"]]
    moves = sorted(
        ((staged, root / staged.relative_to(staging)) for staging, root in folders
         for staged in staging.rglob("*")
         if staged.is_file() and not (staged.name == _MARKER and staged.parent == staging)),
        key=lambda move: (_rank(move[1]), str(move[1])),
    )  # fmt: skip
    old = [Path(name) for name in plan["remove"]]
    old += [target for _, target in moves if _rank(target) < 2]  # manifests are replaced
    for target in sorted(old, key=lambda path: -_rank(path)):  # index.html first
        target.unlink(missing_ok=True)
    _fault("clearing")
    for staged, target in moves:  # index.html and the manifests last
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged, target)
        _fault("moving")
    for staging, _ in reversed(folders):  # the marker's folder last
        shutil.rmtree(staging, ignore_errors=True)


def _rank(path: Path) -> int:
    """Order of a file in the swap: 0 the pack's files, 1 ``index.html``, 2 the manifests."""
    return 2 if path.name.startswith(".layout-") else int(path.name == "index.html")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fault(point: str) -> None:
    """Send this process the signal :data:`FAULT_ENV` asks for at ``point`` (tests only)."""
    wanted = os.environ.get(FAULT_ENV, "")
    if wanted.partition(":")[0] == point:
        os.kill(os.getpid(), signal.Signals[f"SIG{wanted.partition(':')[2]}"])
