"""camplan.geodata: read and validate input layers, handle coordinate systems.

The input edge of camplan: :func:`read_layer` reads any vector format GDAL
reads, GeoParquet or a CSV of points; :func:`validate_layer` checks a layer
once and reports every problem in one :class:`LayerError`; :func:`to_metric`
projects a layer to a CRS in metres; :func:`fingerprint` identifies an input
file; :func:`get_path` locates the bundled Mesa, Arizona sample data.
This package imports neither ``planner`` nor ``maps``.
"""

from geodata.crs import crs_label, metric_crs, to_metric
from geodata.datasets import available, get_path
from geodata.errors import (
    CamplanError,
    CoverageTooLargeError,
    CRSError,
    LayerError,
    OptionError,
    OutputError,
    ScenarioError,
)
from geodata.fingerprint import fingerprint
from geodata.io import read_layer
from geodata.validate import validate_layer

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
    "metric_crs",
    "read_layer",
    "to_metric",
    "validate_layer",
]
