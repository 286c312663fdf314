"""Sample data for the demo and the examples, shipped by an installed dependency.

libpysal ships the ``geodanet`` example: the streets and crimes of Mesa,
Arizona, as Shapefiles in NAD83 / Arizona Central State Plane, US survey feet
(ESRI:102649). camplan uses them as its sample city.

The files are found with :mod:`importlib` without importing libpysal, which is
slow to import.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from geodata.errors import LayerError

__all__ = ["available", "get_path"]

#: Sample dataset name -> (package, path inside the package).
_DATASETS: dict[str, tuple[str, tuple[str, ...]]] = {
    "mesa_crimes": ("libpysal", ("examples", "geodanet", "crimes.shp")),
    "mesa_streets": ("libpysal", ("examples", "geodanet", "streets.shp")),
}

#: Shapefile parts that must sit beside the ``.shp`` for it to be read with its CRS.
_REQUIRED_PARTS = (".shp", ".shx", ".dbf", ".prj")


def available() -> list[str]:
    """The names of the sample datasets, sorted.

    Returns
    -------
    list of str
    """
    return sorted(_DATASETS)


def get_path(name: str) -> Path:
    """The path of a sample dataset's file.

    Parameters
    ----------
    name
        One of :func:`available`: ``"mesa_streets"`` (293 street segments,
        lines) or ``"mesa_crimes"`` (287 crime incidents, points).

    Returns
    -------
    pathlib.Path
        The ``.shp`` file; read it with :func:`geodata.read_layer`.

    Raises
    ------
    ValueError
        When ``name`` is not a known dataset.
    LayerError
        When the file is not installed.

    Examples
    --------
    >>> get_path("mesa_crimes").name
    'crimes.shp'
    """
    if name not in _DATASETS:
        raise ValueError(
            f"unknown sample dataset {name!r}; known datasets: {', '.join(available())}"
        )
    package, parts = _DATASETS[name]
    path = _package_dir(package, name=name).joinpath(*parts)
    missing = [s for s in _REQUIRED_PARTS if not path.with_suffix(s).is_file()]
    if missing:
        raise LayerError(
            f"sample dataset {name!r}",
            f"{path} is incomplete (missing {', '.join(missing)}); the {package} package "
            "is damaged: reinstall camplan (pip install --force-reinstall camplan)",
        )
    return path


def _package_dir(package: str, *, name: str) -> Path:
    spec = importlib.util.find_spec(package)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise LayerError(
            f"sample dataset {name!r}",
            f"it ships with the {package} package, which is not installed; "
            "reinstall camplan (pip install --force-reinstall camplan)",
        )
    return Path(locations[0])
