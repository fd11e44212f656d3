"""Text of tooltips and popups, escaped so that data can never run as code on a map.

Folium writes ``Tooltip`` and ``Popup`` text unescaped into a JavaScript template literal
inside an inline ``<script>``: a school name holding ``</script>``, ``${...}``, a backtick or
an ``<img onerror=...>`` would break the page or run. :func:`label_html` turns any value into
HTML text that shows exactly the original characters.

Examples
--------
>>> import folium
>>> from layout.maps import label_html
>>> name = "<b>第一小学</b>"
>>> tip = folium.Tooltip(label_html(name))
>>> tip.text
'&lt;b&gt;第一小学&lt;&#47;b&gt;'
"""

from __future__ import annotations

import html

from .. import _moved

__all__ = ["label_html"]

# Characters that are special in a JavaScript template literal, as HTML character references,
# and the slash: a URL inside a school name is shown as text, never taken for a fetch of the map.
_TEMPLATE_LITERAL = str.maketrans({"`": "&#96;", "$": "&#36;", "\\": "&#92;", "/": "&#47;"})


def label_html(value: object) -> str:
    r"""Escape a value for display in a folium ``Tooltip``, ``Popup`` or GeoJSON tooltip.

    Parameters
    ----------
    value
        Anything; it is shown as ``str(value)``.

    Returns
    -------
    str
        HTML text: ``& < > " '``, the template-literal characters `````, ``$`` and ``\``,
        and ``/`` (so ``http://...`` in a name is text, not a URL the offline check refuses)
        are written as character references, which a browser shows as the characters
        themselves.

    Examples
    --------
    >>> from layout.maps import label_html
    >>> label_html("A&B `${x}`")
    'A&amp;B &#96;&#36;{x}&#96;'
    >>> label_html("见 http://a.cn")
    '见 http:&#47;&#47;a.cn'
    """
    return html.escape(str(value), quote=True).translate(_TEMPLATE_LITERAL)


def __getattr__(name: str) -> object:
    """Serve the names that moved out of this module (see :mod:`layout._moved`)."""
    return _moved.moved_name(__name__, name)
