"""Folium maps that open on an intranet with no network.

Examples
--------
>>> from layout.maps import save_html
>>> callable(save_html)
True
"""

from . import geojson as geojson
from . import labels as labels
from . import offline as offline
from .geojson import geojson_from_geodataframe as geojson_from_geodataframe
from .labels import label_html as label_html
from .offline import external_references as external_references
from .offline import offline_assets as offline_assets
from .offline import save_html as save_html
