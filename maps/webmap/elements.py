"""Map elements that put their rendered text into the page as it is.

branca (under folium) renders each element's ``header``, ``html`` and
``script`` macros and then wraps the result in a new ``Element``, which
compiles that text as a Jinja template and renders it a second time. That
second pass is where a map of a city spends its time (lexing megabytes of
embedded GeoJSON), and it evaluates any ``{{ ... }}`` or ``{% ... %}`` found
in the data: a site id or title reading ``{{ 6*7 }}`` showed as ``42``, and
one holding ``{%`` stopped the map with a template error.

The classes here render each macro once and add its text as it is, with the
two changes Jinja's second pass makes to plain text (line endings become
Unix newlines and one trailing newline is dropped), so a page without template
syntax in its data comes out byte for byte as before.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import offlinefolium as folium
from branca.element import Element, Figure, MacroElement
from offlinefolium import plugins

__all__ = ["GeoJson", "HeatMap", "LayerControl", "TextElement", "VerbatimMacroElement"]

_NEWLINE = re.compile(r"\r\n|\r|\n")


class TextElement(Element):
    """Text put into the page as it is: never compiled nor rendered as a template."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "TextElement"
        if "\r" in text:  # Jinja writes every line ending as "\n"
            text = _NEWLINE.sub("\n", text)
        self.text = text.removesuffix("\n")  # and drops one trailing newline

    def render(self, **kwargs: Any) -> str:
        """Return the text."""
        return self.text


class VerbatimMacroElement(MacroElement):
    """A macro element whose rendered macros enter the page as text (see the module).

    As a mixin it goes after a folium class, e.g. ``class X(folium.GeoJson,
    VerbatimMacroElement)``: the folium class's own ``render`` runs first and its
    final ``MacroElement.render`` call lands here.
    """

    def render(self, **kwargs: Any) -> None:
        """Add the header, html and script macros' text to the figure, then render children."""
        figure = self.get_root()
        if not isinstance(figure, Figure):
            raise TypeError("an element can be rendered only inside a Figure")
        macros = self._template.module.__dict__
        for part, holder in (
            ("header", figure.header),
            ("html", figure.html),
            ("script", figure.script),
        ):
            macro = macros.get(part)
            if macro is not None:
                holder.add_child(TextElement(macro(self, kwargs)), name=self.get_name())
        for element in self._children.values():
            element.render(**kwargs)


class GeoJson(folium.GeoJson, VerbatimMacroElement):
    """:class:`offlinefolium.GeoJson`, its data rendered once."""


class HeatMap(plugins.HeatMap, VerbatimMacroElement):
    """:class:`offlinefolium.plugins.HeatMap`, its data checked at once and rendered once.

    Parameters
    ----------
    data
        ``[lat, lon, weight]`` rows, all finite.
    **kwargs
        Options of :class:`offlinefolium.plugins.HeatMap`.
    """

    def __init__(self, data: np.ndarray, **kwargs: Any) -> None:
        super().__init__([], **kwargs)
        data = np.asarray(data, dtype=float)
        if data.ndim != 2 or data.shape[1] != 3 or not np.isfinite(data).all():
            raise ValueError("heat map data must be finite [lat, lon, weight] rows")
        # what the parent's row-by-row check gives, as tuples (which the garbage
        # collector stops tracking, unlike lists): the page is the same
        self.data = list(zip(*data.T.tolist(), strict=True))


class LayerControl(folium.LayerControl, VerbatimMacroElement):
    """:class:`offlinefolium.LayerControl`, its layer names rendered once."""
