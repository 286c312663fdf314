"""Base tiles of the map: a named provider, a tile server's URL template, or none.

Planners on closed networks point the map at their own tile server with a URL
template (``https://tiles.example.gov/{z}/{x}/{y}.png``) or turn tiles off; the
default stays OpenStreetMap. A value that cannot be honoured is an error naming
the option, never a map that silently shows no tiles.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import xyzservices

from geodata.errors import OptionError

__all__ = ["DEFAULT_TILES", "Tiles", "tiles_from"]

DEFAULT_TILES = "OpenStreetMap"
NO_TILES = "none"
"""The value that turns base tiles off (the map then draws land, streets and buildings)."""

_PLACEHOLDERS = ("{z}", "{x}")
_Y = re.compile(r"\{-?y\}")


@dataclass(frozen=True)
class Tiles:
    """The map's base tiles.

    Attributes
    ----------
    url
        A provider name (``OpenStreetMap``, any :mod:`xyzservices` name) or a URL
        template with ``{z}``, ``{x}`` and ``{y}``; ``None`` for no tiles.
    attribution
        The copyright line shown on the map; a provider's own line when ``None``,
        and the tile server's host name for a URL template without one.
    """

    url: str | None = DEFAULT_TILES
    attribution: str | None = None

    @property
    def is_template(self) -> bool:
        """Whether ``url`` is a URL template rather than a provider name."""
        return self.url is not None and "{" in self.url

    def attr(self) -> str | None:
        """The attribution to pass to Leaflet, HTML-escaped (``None``: the provider's own).

        Leaflet inserts the attribution as HTML, so the text given is escaped like
        every other text of the page.
        """
        if self.attribution:
            return html.escape(self.attribution, quote=True)
        if self.is_template and self.url is not None:
            return html.escape(f"Tiles: {urlsplit(self.url).netloc or self.url}", quote=True)
        return None


def tiles_from(value: str | None, attribution: str | None = None, *,
               option: str = "--tiles") -> Tiles:
    """Check a ``--tiles`` value and return the tiles it asks for.

    ``none`` (or an empty value) turns tiles off; a value with ``{`` must be an
    ``http(s)://`` URL template with ``{z}``, ``{x}`` and ``{y}`` (or ``{-y}``);
    any other value must name a tile provider known to folium or xyzservices.

    Raises
    ------
    OptionError
        Naming ``option``, the problem and the fix.
    """
    text = (value or "").strip()
    if text == "" or text.lower() == NO_TILES:
        return Tiles(url=None, attribution=attribution)
    if "{" in text:
        _check_template(text, option)
    elif text.lower() != DEFAULT_TILES.lower():
        try:
            xyzservices.providers.query_name(text)
        except ValueError:
            raise OptionError(
                option,
                f"{text!r} is neither a tile provider name nor a URL template; give a URL "
                "such as https://tiles.example.org/{z}/{x}/{y}.png, a provider name such "
                "as OpenStreetMap or CartoDB.Positron, or none",
            ) from None
    return Tiles(url=text, attribution=attribution or None)


def _check_template(url: str, option: str) -> None:
    """Refuse a URL template the browser cannot fill in."""
    scheme = urlsplit(url).scheme
    if scheme not in ("http", "https"):
        raise OptionError(option, f"the tile URL {url!r} must start with https:// or http://")
    missing = [p for p in _PLACEHOLDERS if p not in url]
    if not _Y.search(url):
        missing.append("{y}")
    if missing:
        raise OptionError(
            option,
            f"the tile URL template {url!r} lacks {', '.join(missing)}; write it as "
            "https://host/{z}/{x}/{y}.png",
        )
