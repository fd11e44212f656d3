"""Output files: atomic writes, GeoPackage, spreadsheets, the index page, charts, statements."""

from __future__ import annotations

from .charts import plot_county_demand, plot_phase_timeline
from .closure_words import closure_texts, harm_reasons, reuse_advice
from .files import (
    replacing,
    write_csv,
    write_geopackage,
    write_pack,
    write_parquet,
    write_spreadsheet,
)
from .index import found_outputs, relink_index, write_index
from .statement import Block, html_page, markdown, statement, statement_title

__all__ = [
    "Block",
    "found_outputs",
    "relink_index",
    "closure_texts",
    "harm_reasons",
    "reuse_advice",
    "html_page",
    "markdown",
    "plot_county_demand",
    "plot_phase_timeline",
    "replacing",
    "statement",
    "statement_title",
    "write_csv",
    "write_geopackage",
    "write_index",
    "write_pack",
    "write_parquet",
    "write_spreadsheet",
]
