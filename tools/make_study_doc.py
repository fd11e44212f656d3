"""Write docs/study.md and data/template/study.toml from the schema the loader uses.

Run ``python tools/make_study_doc.py`` after changing the schema, the layer keys or the
vocabulary; tests/test_sources.py fails while either file is out of date.
"""

from __future__ import annotations

from pathlib import Path

from layout.reference import study_reference, study_template

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "study.md"
TEMPLATE = ROOT / "data" / "template" / "study.toml"

if __name__ == "__main__":
    DOC.write_text(study_reference(), encoding="utf-8")
    TEMPLATE.parent.mkdir(parents=True, exist_ok=True)
    TEMPLATE.write_text(study_template(), encoding="utf-8")
