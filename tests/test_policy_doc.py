"""docs/policy.md, the scope statement, names only tests that exist, and has whole rows."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "policy.md"
NAMED = re.compile(r"`(tests/test_\w+\.py)::(test_\w+)`")


def _rows() -> list[list[str]]:
    lines = DOC.read_text(encoding="utf-8").splitlines()
    table = [line for line in lines if line.startswith("| ") and not line.startswith("| ---")]
    return [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in table[1:]]


def test_every_test_named_in_the_scope_statement_exists() -> None:
    named = NAMED.findall(DOC.read_text(encoding="utf-8"))
    assert len(named) > 20
    missing = [
        f"{path}::{name}"
        for path, name in named
        if not (ROOT / path).is_file()
        or not re.search(rf"^def {name}\(", (ROOT / path).read_text(encoding="utf-8"), re.M)
    ]
    assert not missing, f"docs/policy.md names tests that do not exist: {missing}"


def test_every_row_has_its_columns_and_a_status() -> None:
    rows = _rows()
    assert len(rows) >= 31
    assert all(len(row) == 7 for row in rows), [row[:2] for row in rows if len(row) != 7]
    statuses = {row[2].split(" (")[0] for row in rows}
    assert statuses <= {"done", "partial", "out"}, statuses
    # A rule done or partial names a test; one out of scope says why.
    assert all(NAMED.search(row[5]) for row in rows if row[2].startswith(("done", "partial")))
    assert all(row[3] for row in rows if row[2].startswith("out"))
