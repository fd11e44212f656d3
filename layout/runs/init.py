"""``layout init``: draft a study TOML from a folder of files, beside them.

Examples
--------
>>> import shutil, tempfile, pathlib
>>> from layout.study import bundled_study_path
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = shutil.copy(bundled_study_path().parent / "teachers.csv", folder)
>>> draft, path = init_study(folder)
>>> path.name, list(draft.layers)
('study.toml', ['teachers'])
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import StudyError
from ..report.files import replacing
from ..sources.folder import StudyDraft, draft_from_folder


def init_study(
    folder: str | os.PathLike[str],
    *,
    out: str | os.PathLike[str] | None = None,
    name: str | None = None,
    crs: str | None = None,
) -> tuple[StudyDraft, Path]:
    """Draft a study from the files in ``folder`` and write its TOML.

    Parameters
    ----------
    folder
        The county's files; only read.
    out
        The TOML to write; ``folder/study.toml`` by default. An existing file is not replaced.
    name, crs
        As for :func:`layout.sources.folder.draft_from_folder`.

    Returns
    -------
    draft, path
        The draft and the file written.

    Raises
    ------
    layout.errors.StudyError
        The folder does not exist, or ``out`` does.
    """
    root = Path(folder)
    if not root.is_dir():
        raise StudyError(f"folder {root} not found. Fix: pass the folder holding the files.")
    target = Path(out) if out is not None else root / "study.toml"
    if target.exists():
        raise StudyError(
            f"{target} exists and is not replaced. Fix: remove it or pass --out another.toml."
        )
    draft = draft_from_folder(root, name=name, crs=crs)
    text = draft.toml()
    if target.resolve().parent != root.resolve():
        text = _relocated(draft, text, root=root.resolve(), at=target.resolve().parent)
    with replacing(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return draft, target


def _relocated(draft: StudyDraft, text: str, *, root: Path, at: Path) -> str:
    """Rewrite the layer paths relative to a TOML written outside the folder."""
    for layer in draft.layers.values():
        new = Path(os.path.relpath(root / layer.path, at)).as_posix()
        text = text.replace(f'path = "{layer.path}"', f'path = "{new}"')
    return text
