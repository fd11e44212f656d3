"""PostgreSQL/PostGIS as a layer source and a results sink.

A study layer may live in a PostGIS database instead of a file::

    [layers.reserved_land]
    url = "postgresql://gis@127.0.0.1:5432/planning"   # no password in the file
    table = "landuse.edu_parcels"                      # or: query = "SELECT ... FROM ..."
    geometry = "geom"                                   # default: from geometry_columns

Credentials come from the environment only: the libpq variables (``PGPASSWORD``,
``PGPASSFILE``, ``PGUSER`` ...) fill in what the URL leaves out, or ``url_env =
"LAYOUT_DB_URL"`` names a variable that holds the whole URL. Every URL shown in a log record
or a message has its password masked (``***``).

Reading runs in a read-only transaction, so a ``query`` cannot change the database. Writing
puts every layer in one transaction: if any layer fails, nothing is written.

Examples
--------
>>> from layout.postgis import mask_url, source_problems
>>> mask_url("postgresql://gis:s3cret@db.example:5432/planning")
'postgresql://gis:***@db.example:5432/planning'
>>> problems = source_problems({"url": "postgresql://gis:s3cret@db.example/planning",
...                              "table": "landuse.edu_parcels"}, where="[layers.reserved_land]")
>>> problems[0].split(";")[0]
'[layers.reserved_land]: the url holds a password'
"""

from __future__ import annotations

import logging

from ._connection import SOURCE_KEYS, engine_from_url, mask_url, source_problems
from ._read import read_layer_from_postgis
from ._write import IfExists, write_layers_to_postgis

LOG = logging.getLogger(__name__)
"""The package's logger; its modules log to its children (``layout.postgis._read`` ...)."""

__all__ = [
    "SOURCE_KEYS",
    "IfExists",
    "engine_from_url",
    "mask_url",
    "read_layer_from_postgis",
    "source_problems",
    "write_layers_to_postgis",
]
