"""Text of tooltips and popups, escaped so that data can never run as code on a map.

Folium writes ``Tooltip`` and ``Popup`` text unescaped into a JavaScript template literal
inside an inline ``<script>``: a school name holding ``</script>``, ``${...}``, a backtick or
an ``<img onerror=...>`` would break the page or run. :func:`label_html` turns any value into
HTML text that shows exactly the original characters.

Examples
--------
>>> import folium
>>> from layout.maps.labels import label_html
>>> name = "<b>第一小学</b>"
>>> tip = folium.Tooltip(label_html(name))
>>> tip.text
'&lt;b&gt;第一小学&lt;/b&gt;'
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Literal

__all__ = ["in_language", "label_html"]

# Characters that are special in a JavaScript template literal, as HTML character references.
_TEMPLATE_LITERAL = str.maketrans({"`": "&#96;", "$": "&#36;", "\\": "&#92;"})


def label_html(value: object) -> str:
    r"""Escape a value for display in a folium ``Tooltip``, ``Popup`` or GeoJSON tooltip.

    Parameters
    ----------
    value
        Anything; it is shown as ``str(value)``.

    Returns
    -------
    str
        HTML text: ``& < > " '`` and the template-literal characters `````, ``$`` and ``\``
        are written as character references, which a browser shows as the characters
        themselves.

    Examples
    --------
    >>> from layout.maps.labels import label_html
    >>> label_html("A&B `${x}`")
    'A&amp;B &#96;&#36;{x}&#96;'
    """
    return html.escape(str(value), quote=True).translate(_TEMPLATE_LITERAL)


def in_language(
    texts: Mapping[str, tuple[str, str]], key: str, lang: Literal["zh", "en"], **values: object
) -> str:
    """Return the Chinese or English text of ``key`` from a map's (zh, en) texts, filled in.

    Each map module keeps its texts as ``key: (zh, en)`` and binds them once with
    ``functools.partial(in_language, TEXTS)``.

    Examples
    --------
    >>> texts = {"year": ("{year}年", "Year {year}")}
    >>> in_language(texts, "year", "zh", year=2025), in_language(texts, "year", "en", year=2025)
    ('2025年', 'Year 2025')
    """
    zh, en = texts[key]
    text = zh if lang == "zh" else en
    return text.format(**values) if values else text
