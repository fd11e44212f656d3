"""Save folium maps as single HTML files that open with no network at all.

Folium and branca link Leaflet, jQuery, Bootstrap, Font Awesome, Leaflet.awesome-markers and
Leaflet.markercluster from public CDNs. County intranets cannot reach them, so :func:`save_html`
replaces every such ``<script src>`` and ``<link href>`` with the file's text inlined from an
installed Python package:

========================  ==============================================================
CDN asset (folium 0.20)   what the saved file holds
========================  ==============================================================
Leaflet 1.9.3 JS, CSS     ``xstatic-leaflet`` 1.9.3; the CSS images become ``data:`` URIs,
                          and the default marker icon is set to ``data:`` URIs as well, so
                          a plain ``folium.Marker`` needs no image file.
jQuery 3.7.1              ``xstatic-jquery`` 3.7.1 (folium's popups call ``$``).
Font Awesome 6.2.0 CSS    ``xstatic-font-awesome`` 6.2.1: the core CSS with the solid and
                          regular faces as ``data:`` URIs (about 235 kB). The brands face
                          (logos, 143 kB as base64), the v4/v5 name shims and the TrueType
                          fallbacks (every browser that runs Leaflet 1.9 reads WOFF2) are
                          left out.
markercluster 1.1.0       ``xstatic-leaflet-markercluster`` 1.4.1, whose API is a superset
                          of the 1.1.0 one folium's template calls.
Bootstrap 5 JS, CSS;      dropped. Nothing in folium's core needs Bootstrap; only
Bootstrap 3 glyphicons;   ``folium.Icon`` (Leaflet.awesome-markers) needs the others, and no
awesome-markers JS, CSS   wheel on PyPI ships them, so a map that uses ``folium.Icon`` is
                          refused: draw points with ``folium.CircleMarker`` instead.
========================  ==============================================================

Any other external reference, such as a tile layer URL, a plugin's CDN script or an image in a
popup, makes :func:`save_html` raise :class:`~layout.errors.ValidationError` naming the URL.
Links a reader may click (``<a href="https://...">``) are allowed: they fetch nothing.

Maps of this project are made with ``tiles=None`` (no basemap; boundaries are drawn from data).
Such a map has no maximum zoom, which ``L.markerClusterGroup`` needs, so a map with a
``MarkerCluster`` must be created with ``folium.Map(..., tiles=None, maxZoom=18)``.
Folium's own ``max_zoom`` argument is passed to the tile layer only, so it does not help here.

Examples
--------
>>> import tempfile, pathlib, folium
>>> from layout.maps import external_references, save_html
>>> m = folium.Map(location=[41.11, 122.99], zoom_start=10, tiles=None)
>>> _ = folium.CircleMarker([41.11, 122.99], radius=6).add_to(m)
>>> with tempfile.TemporaryDirectory() as folder:
...     out = save_html(m, pathlib.Path(folder) / "map.html", title="鞍山")
...     external_references(out)
[]
"""

from __future__ import annotations

import base64
import copy
import functools
import html
import importlib.resources
import logging
import os
import pathlib
import re
from dataclasses import dataclass
from html.parser import HTMLParser

import folium
from branca.element import Element

from ..errors import ValidationError
from ..report import replacing
from .basemap import Basemap
from .budget import MAX_PAGE_MB

logger = logging.getLogger(__name__)

__all__ = ["external_references", "offline_assets", "save_html"]


@dataclass(frozen=True)
class _Asset:
    """Local replacement for one CDN file: ``files`` inside package ``package``'s data folder."""

    kind: str  # "js" or "css"
    package: str
    files: tuple[str, ...]


_LEAFLET = "xstatic.pkg.leaflet"
_CLUSTER = "xstatic.pkg.leaflet_markercluster"

_JSDELIVR = "https://cdn.jsdelivr.net/"
_CDNJS = "https://cdnjs.cloudflare.com/ajax/libs/"
_CLUSTER_CDN = _CDNJS + "leaflet.markercluster/1.1.0/"
_AWESOME_CDN = _CDNJS + "Leaflet.awesome-markers/2.0.2/"

# Every URL that folium 0.20 emits for Map and MarkerCluster; ``None`` marks a dropped asset.
_ASSETS: dict[str, _Asset | None] = {
    _JSDELIVR + "npm/leaflet@1.9.3/dist/leaflet.js": _Asset("js", _LEAFLET, ("leaflet.js",)),
    _JSDELIVR + "npm/leaflet@1.9.3/dist/leaflet.css": _Asset("css", _LEAFLET, ("leaflet.css",)),
    "https://code.jquery.com/jquery-3.7.1.min.js": _Asset(
        "js", "xstatic.pkg.jquery", ("jquery.min.js",)
    ),
    _JSDELIVR + "npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css": _Asset(
        "css",
        "xstatic.pkg.font_awesome",
        ("css/fontawesome.min.css", "css/solid.min.css", "css/regular.min.css"),
    ),
    _CLUSTER_CDN + "leaflet.markercluster.js": _Asset(
        "js", _CLUSTER, ("leaflet.markercluster.js",)
    ),
    _CLUSTER_CDN + "MarkerCluster.css": _Asset("css", _CLUSTER, ("MarkerCluster.css",)),
    _CLUSTER_CDN + "MarkerCluster.Default.css": _Asset(
        "css", _CLUSTER, ("MarkerCluster.Default.css",)
    ),
    _JSDELIVR + "npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js": None,
    _JSDELIVR + "npm/bootstrap@5.2.2/dist/css/bootstrap.min.css": None,
    "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css": None,
    _AWESOME_CDN + "leaflet.awesome-markers.js": None,
    _AWESOME_CDN + "leaflet.awesome-markers.css": None,
    _JSDELIVR + "gh/python-visualization/folium/folium/templates/leaflet.awesome.rotate.min.css": (
        None
    ),
}

_MEDIA_TYPES = {".png": "image/png", ".woff2": "font/woff2"}

# A <script src=...></script> or a <link ... href=...> tag as branca writes them.
_TAG = re.compile(
    r"""<script\b[^>]*?\bsrc\s*=\s*["'](?P<src>[^"']*)["'][^>]*>\s*</script\s*>"""
    r"""|<link\b[^>]*?\bhref\s*=\s*["'](?P<href>[^"']*)["'][^>]*>""",
    re.IGNORECASE,
)
# An http(s) URL anywhere in the page; ``anchor`` is set when it is a link's target.
_URL = re.compile(r"""(?P<anchor>href=\\?["'])?(?P<url>https?://[^\s"'<>\\)]+)""", re.IGNORECASE)
_NAMESPACE = "http://www.w3.org/"
# CSS references: url(...) and @import "...".
_CSS_URL = re.compile(r"""url\(\s*(?P<q>["']?)(?P<url>[^"')]+)(?P=q)\s*\)""")
_CSS_IMPORT = re.compile(r"""@import\s+(?:url\()?\s*["']?(?P<url>[^"');\s]+)""")
# A source map comment: the .map files are not inlined, so DevTools must not look for them.
_SOURCE_MAP = re.compile(r"^//# sourceMappingURL=.*$", re.MULTILINE)
# A TrueType alternative after a WOFF2 one in a @font-face src list.
_TTF_FALLBACK = re.compile(r""",\s*url\([^)]*\.ttf\)\s*format\(["']truetype["']\)""")


def offline_assets() -> dict[str, tuple[pathlib.Path, ...]]:
    """Map each CDN URL that folium emits to the installed files that replace it.

    Returns
    -------
    dict of str to tuple of pathlib.Path
        The files, in the order they are inlined, for each URL :func:`save_html` knows. An empty
        tuple means the asset is dropped (Bootstrap and Leaflet.awesome-markers, see the module
        notes).

    Examples
    --------
    >>> from layout.maps import offline_assets
    >>> files = offline_assets()["https://code.jquery.com/jquery-3.7.1.min.js"]
    >>> [f.name for f in files]
    ['jquery.min.js']
    """
    return {
        url: () if asset is None else tuple(_data_dir(asset.package) / f for f in asset.files)
        for url, asset in _ASSETS.items()
    }


def external_references(path: str | os.PathLike[str]) -> list[str]:
    """List the remote URLs that a saved HTML page loads through scripts, links or CSS.

    The page is parsed with :class:`html.parser.HTMLParser`: ``<script src>``, ``<link href>``
    and the ``url(...)`` and ``@import`` references inside ``<style>`` blocks and ``style``
    attributes count. A URL is remote when it starts with ``http:``, ``https:`` or ``//``.

    Parameters
    ----------
    path
        An HTML file.

    Returns
    -------
    list of str
        The remote URLs in document order; empty for a page that is fully self-contained.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from layout.maps import external_references
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     page = pathlib.Path(folder) / "page.html"
    ...     _ = page.write_text('<script src="https://x.org/a.js"></script><p>hi</p>')
    ...     external_references(page)
    ['https://x.org/a.js']
    """
    return _ReferenceFinder.remote_in(pathlib.Path(path).read_text(encoding="utf-8"))


def save_html(
    m: folium.Map,
    path: str | os.PathLike[str],
    *,
    title: str | None = None,
    basemap: Basemap | None = None,
) -> pathlib.Path:
    """Render a folium map to one self-contained HTML file that needs no network.

    Parameters
    ----------
    m
        The map; it is not changed. (Rendering adds elements to a folium figure, so
        ``folium.Map.save`` repeats ``addTo`` calls when a map is saved twice; a copy is
        rendered here, and saving twice writes the same page.)
    path
        Where to write. The folder must exist. The page is written to a temporary file in that
        folder and moved into place, so a reader never sees a half-written map.
    title
        Text for the page's ``<title>``, HTML-escaped; ``None`` keeps folium's (none by default).
    basemap
        The basemap the user asked for, if any: the page may load its tiles (from
        :attr:`layout.maps.basemap.Basemap.origin`). Scripts and styles are inlined all the
        same.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValidationError
        If the map references a URL that has no local copy (a tile layer, a plugin's CDN file,
        an image in a popup), uses ``folium.Icon``, or has a ``MarkerCluster`` but no
        ``maxZoom``; the message lists every such problem. Nothing is written then.

    Examples
    --------
    >>> import tempfile, pathlib, folium
    >>> from layout.maps import save_html
    >>> m = folium.Map(location=[41.11, 122.99], tiles=None)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     out = save_html(m, pathlib.Path(folder) / "map.html")
    ...     text = out.read_text(encoding="utf-8")
    >>> "cdn.jsdelivr.net" in text, "L.map(" in text
    (False, True)
    """
    target = pathlib.Path(path)
    if not isinstance(m, folium.Map):
        raise ValidationError(f"m: expected a folium.Map, got {type(m).__name__}.")
    if not target.parent.is_dir():
        raise ValidationError(
            f"path: folder {str(target.parent)!r} does not exist; create it before saving."
        )
    root = m.get_root()  # rendering adds elements to it: render a copy, keep m as it is
    page = copy.deepcopy(root, _read_only_data(root)).render()
    problems = _problems(page, allowed=(basemap.origin,) if basemap else ())
    if problems:
        raise ValidationError(problems)
    page = _TAG.sub(lambda tag: _inline(tag.group("src") or tag.group("href")), page)
    if title is not None:
        page = _with_title(page, title)
    with replacing(target) as tmp:
        tmp.write_text(page, encoding="utf-8")
    megabytes = target.stat().st_size / 2**20
    logger.debug("saved offline map %s (%.1f MB)", target, megabytes)
    if megabytes > MAX_PAGE_MB:
        logger.warning(
            "%s weighs %.0f MB, over the map budget of %d MB: it may open slowly", target.name,
            megabytes, MAX_PAGE_MB,
        )  # fmt: skip
    return target


def _read_only_data(root: Element) -> dict[int, object]:
    """Return a :func:`copy.deepcopy` memo that shares, not copies, what rendering only reads.

    That is the GeoJSON of each layer without a Python style or highlight function (the
    layers of :func:`layout.maps.geojson_from_geodataframe`): rendering only serialises it,
    and copying it took most of the time of saving a map of many cells.
    """
    memo: dict[int, object] = {}
    stack = [root]
    while stack:
        element = stack.pop()
        if isinstance(element, folium.GeoJson) and not (element.style or element.highlight):
            memo[id(element.data)] = element.data
        stack.extend(element._children.values())
    return memo


def _problems(page: str, *, allowed: tuple[str, ...] = ()) -> list[str]:
    """Collect every reason why ``page`` (folium's HTML) cannot be made self-contained."""
    urls = [tag.group("src") or tag.group("href") for tag in _TAG.finditer(page)]
    problems = [
        f"{url}: folium links this file, but no local copy is known; remove the element that "
        "adds it (a plugin or a custom tile layer) or add the file to layout.maps.offline."
        for url in dict.fromkeys(urls)
        if url not in _ASSETS
    ]
    skeleton = _TAG.sub("", page)
    leftovers = dict.fromkeys(
        [
            *(
                found.group("url")
                for found in _URL.finditer(skeleton)
                if not found.group("anchor") and not found.group("url").startswith(_NAMESPACE)
            ),
            *_ReferenceFinder.remote_in(skeleton),  # adds CSS url(//host/...) references
        ]
    )
    problems += [
        f"{url}: the map would fetch this URL, which an offline intranet cannot reach; use "
        "tiles=None and draw boundaries from data, or keep images and data inside the page."
        for url in leftovers
        if not (allowed and url.startswith(allowed))
    ]
    if "L.AwesomeMarkers" in skeleton:
        problems.append(
            "folium.Icon needs Leaflet.awesome-markers and Bootstrap, which are not available "
            "offline; draw points with folium.CircleMarker, or use folium.Marker without icon."
        )
    if "L.markerClusterGroup(" in skeleton and '"maxZoom"' not in skeleton:
        problems.append(
            "the map has a MarkerCluster but no maxZoom (tiles=None sets none); create it as "
            "folium.Map(..., tiles=None, maxZoom=18)."
        )
    return problems


def _inline(url: str) -> str:
    """Return the inline ``<script>`` or ``<style>`` element that replaces ``url``."""
    asset = _ASSETS[url]
    if asset is None:
        return ""
    return _inline_asset(asset)


@functools.cache
def _inline_asset(asset: _Asset) -> str:
    """Read an asset's files and wrap them in one element (cached: files do not change)."""
    folder = _data_dir(asset.package)
    if asset.kind == "js":
        code = "\n".join(
            _SOURCE_MAP.sub("", (folder / name).read_text(encoding="utf-8")) for name in asset.files
        )
        if asset.package == _LEAFLET:
            code += _default_icon_script(folder / "images")
        return "<script>\n" + re.sub(r"</(script)", r"<\\/\1", code, flags=re.I) + "\n</script>"
    css = "\n".join(_inline_css(folder / name) for name in asset.files)
    return "<style>\n" + css + "\n</style>"


def _inline_css(css_file: pathlib.Path) -> str:
    """Return a stylesheet with its TrueType fallbacks dropped and its files as data: URIs."""
    css = _TTF_FALLBACK.sub("", css_file.read_text(encoding="utf-8"))

    def embed(found: re.Match[str]) -> str:
        ref = found.group("url")
        if ref.startswith(("data:", "#")):  # already inline, or IE's url(#default#VML)
            return found.group(0)
        return f'url("{_data_uri(css_file.parent / ref)}")'

    return _CSS_URL.sub(embed, css)


def _default_icon_script(images: pathlib.Path) -> str:
    """Make ``L.Icon.Default`` use data: URIs instead of image files next to leaflet.css."""
    urls = {
        "iconUrl": _data_uri(images / "marker-icon.png"),
        "iconRetinaUrl": _data_uri(images / "marker-icon-2x.png"),
        "shadowUrl": _data_uri(images / "marker-shadow.png"),
    }
    options = ",".join(f'{key}:"{value}"' for key, value in urls.items())
    return f'\nL.Icon.Default.imagePath="";L.Icon.Default.mergeOptions({{{options}}});'


def _data_uri(file: pathlib.Path) -> str:
    """Encode a packaged image or font as a base64 data: URI."""
    media_type = _MEDIA_TYPES[file.suffix]
    return f"data:{media_type};base64,{base64.b64encode(file.read_bytes()).decode('ascii')}"


def _data_dir(package: str) -> pathlib.Path:
    """Return the ``data`` folder of an installed XStatic package."""
    try:
        root = importlib.resources.files(package)
    except ModuleNotFoundError as error:
        dist = "XStatic-" + package.rsplit(".", 1)[-1].replace("_", "-")
        raise ModuleNotFoundError(
            f"{package} is missing; install it with `pip install {dist}`."
        ) from error
    return pathlib.Path(str(root)) / "data"


def _with_title(page: str, title: str) -> str:
    """Set the page's ``<title>``, replacing the one folium wrote, if any."""
    page = re.sub(r"<title>.*?</title>", "", page, count=1, flags=re.S | re.I)
    return page.replace("<head>", f"<head>\n<title>{html.escape(title)}</title>", 1)


def _is_remote(url: str) -> bool:
    """Tell whether a reference needs the network (http, https or protocol-relative)."""
    return url.strip().lower().startswith(("http:", "https:", "//"))


class _ReferenceFinder(HTMLParser):
    """Collect the URLs a page loads: script src, link href and CSS url()/@import."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.references: list[str] = []
        self._in_style = False

    @classmethod
    def remote_in(cls, page: str) -> list[str]:
        """Return the remote references of an HTML text."""
        finder = cls()
        finder.feed(page)
        finder.close()
        return [url for url in finder.references if _is_remote(url)]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Record a tag's loaded URL and its inline style's references."""
        values = dict(attrs)
        if tag == "script" and values.get("src"):
            self.references.append(values["src"] or "")
        elif tag == "link" and values.get("href"):
            self.references.append(values["href"] or "")
        if values.get("style"):
            self._add_css(values["style"] or "")
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        """Leave a ``<style>`` block."""
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        """Scan the text of a ``<style>`` block."""
        if self._in_style:
            self._add_css(data)

    def _add_css(self, css: str) -> None:
        self.references += [m.group("url") for m in _CSS_URL.finditer(css)]
        self.references += [m.group("url") for m in _CSS_IMPORT.finditer(css)]
