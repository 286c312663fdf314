"""camplan.geodata: read and validate input layers, handle coordinate systems.

The input edge of camplan: :func:`read_layer` reads any vector format GDAL
reads, GeoParquet or a CSV of points; :func:`validate_layer` checks a layer
once and reports every problem in one :class:`LayerError`; :func:`to_metric`
projects a layer to a CRS in metres; :func:`fingerprint` identifies an input
file; :func:`get_path` locates the bundled Mesa, Arizona sample data.
This package imports neither ``planner`` nor ``maps``.

Names are loaded on first use (PEP 562), so that ``geodata.errors`` can be
imported without geopandas (the matrix solver uses only the errors).
"""

from __future__ import annotations

import importlib
from typing import Any

from geodata.errors import (
    CamplanError,
    CoverageTooLargeError,
    CRSError,
    LayerError,
    OptionError,
    OutputError,
    ScenarioError,
)

_LAZY = {
    "crs_label": "geodata.crs",
    "metric_choice": "geodata.crs",
    "metric_crs": "geodata.crs",
    "to_metric": "geodata.crs",
    "available": "geodata.datasets",
    "get_path": "geodata.datasets",
    "fingerprint": "geodata.fingerprint",
    "read_layer": "geodata.io",
    "validate_layer": "geodata.validate",
}

__all__ = [
    "CRSError",
    "CamplanError",
    "CoverageTooLargeError",
    "LayerError",
    "OptionError",
    "OutputError",
    "ScenarioError",
    "available",
    "crs_label",
    "fingerprint",
    "get_path",
    "metric_choice",
    "metric_crs",
    "read_layer",
    "to_metric",
    "validate_layer",
]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'geodata' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value
