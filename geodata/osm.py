"""Street networks and OpenStreetMap extracts: GraphML graphs and ``.osm.pbf`` files.

:func:`read_graphml` turns a GraphML street graph (as osmnx saves it: node
``x``/``y``, optional edge ``geometry`` as WKT, graph attribute ``crs``) into
lines; :func:`read_osm` reads walkable streets, buildings or points of
interest from an OSM ``.pbf`` extract with pyrosm (an optional dependency,
imported only here).
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.crs import as_crs
from geodata.errors import LayerError

__all__ = ["OSM_SUFFIXES", "OsmKind", "read_graphml", "read_osm"]

logger = logging.getLogger(__name__)

OSM_SUFFIXES = (".pbf",)
OsmKind = Literal["streets", "buildings", "pois"]


def read_graphml(
    path: str | os.PathLike[str], *, crs: object | None = None, role: str = "streets"
) -> gpd.GeoDataFrame:
    """Lines of a GraphML street graph, one row per edge (parallel edges kept).

    Parameters
    ----------
    path
        A ``.graphml`` file whose nodes carry ``x`` and ``y``.
    crs
        The CRS of ``x``/``y`` when the graph has no ``crs`` attribute
        (default then: EPSG:4326, as osmnx saves unprojected graphs).
    role
        What the layer is for, in messages.
    """
    path = Path(path)
    source = f"{role} layer {path}"
    if not path.is_file():
        raise LayerError(source, "file not found; check the path")
    import networkx as nx  # only for GraphML: not on every command's start-up

    try:
        graph = nx.read_graphml(path)
    except (nx.NetworkXError, ValueError, SyntaxError) as err:
        raise LayerError(source, f"is not a readable GraphML file ({err})") from err
    missing = [n for n, d in graph.nodes(data=True) if "x" not in d or "y" not in d]
    if missing:
        raise LayerError(
            source,
            f"{len(missing)} node(s) have no x/y attributes (e.g. node {missing[0]!r}); "
            "GraphML street graphs need node coordinates x and y",
        )
    if graph.number_of_edges() == 0:
        raise LayerError(source, "has no edges")
    xy = {n: (float(d["x"]), float(d["y"])) for n, d in graph.nodes(data=True)}
    lines = []
    for u, v, data in graph.edges(data=True):
        wkt = data.get("geometry")
        line = shapely.from_wkt(wkt) if isinstance(wkt, str) else None
        lines.append(line if line is not None else shapely.LineString([xy[u], xy[v]]))
    given = crs if crs is not None else graph.graph.get("crs", "EPSG:4326")
    return gpd.GeoDataFrame(geometry=lines, crs=as_crs(str(given), source=source))


def read_osm(
    path: str | os.PathLike[str], kind: OsmKind, *, network_type: str = "walking"
) -> gpd.GeoDataFrame:
    """Read one kind of feature from an OSM ``.pbf`` extract with pyrosm.

    Parameters
    ----------
    path
        An ``.osm.pbf`` file.
    kind
        ``"streets"`` (the ``network_type`` network as lines), ``"buildings"``
        (polygons) or ``"pois"`` (amenities, shops and the like, as points:
        polygons stand at a point on their surface).
    network_type
        pyrosm's network type for streets: ``"walking"``, ``"driving"``, ``"all"``...
    """
    path = Path(path)
    source = f"{kind} layer {path}"
    if not path.is_file():
        raise LayerError(source, "file not found; check the path")
    try:
        import pyrosm
    except ImportError as err:  # pragma: no cover - pyrosm is a dependency
        raise LayerError(source, "reading .osm.pbf needs pyrosm: pip install pyrosm") from err
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        osm = pyrosm.OSM(str(path))
        if kind == "streets":
            gdf = osm.get_network(network_type=network_type)
        elif kind == "buildings":
            gdf = osm.get_buildings()
        elif kind == "pois":
            gdf = osm.get_pois()
        else:
            raise LayerError(source, f"unknown OSM layer kind {kind!r}")
    for warning in caught:
        logger.debug("%s: %s", source, warning.message)
    if gdf is None or len(gdf) == 0:
        raise LayerError(source, f"the extract holds no {kind}")
    out = _cleaned(gdf.reset_index(drop=True), kind, source)
    logger.info("%s: read %d features with pyrosm", source, len(out))
    return out


def _cleaned(gdf: gpd.GeoDataFrame, kind: OsmKind, source: str) -> gpd.GeoDataFrame:
    """Geometries of the right kind for ``kind``, and the useful tags as text."""
    if kind == "buildings":
        # OSM footprints are often slightly broken: repair them, and drop (with a log
        # record) those that collapse to lines or points, as an OSM extract cannot be fixed.
        geoms = shapely.make_valid(np.asarray(gdf.geometry.array))
        geoms = np.array([_polygonal(g) for g in geoms], dtype=object)
        keep = ~shapely.is_empty(geoms) & (shapely.area(geoms) > 0)
        if (~keep).any():
            logger.info("%s: dropped %d degenerate building footprints", source,
                        int((~keep).sum()))
        gdf = gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))[keep]
    elif kind == "pois":
        geoms = np.asarray(gdf.geometry.array)
        points = np.where(shapely.get_type_id(geoms) == 0, geoms, shapely.point_on_surface(geoms))
        gdf = gdf.set_geometry(gpd.GeoSeries(points, index=gdf.index, crs=gdf.crs))
    elif kind == "streets":
        gdf = gdf[np.isin(shapely.get_type_id(gdf.geometry.array), [1, 5])]
    columns = [
        c for c in ("id", "name", "highway", "building", "amenity", "shop") if c in gdf.columns
    ]
    return gpd.GeoDataFrame(
        pd.DataFrame({c: gdf[c].astype(str).where(gdf[c].notna(), None) for c in columns}),
        geometry=gdf.geometry.to_numpy(),
        crs=gdf.crs,
    ).reset_index(drop=True)


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """The polygonal part of a repaired geometry (empty when there is none)."""
    if shapely.get_type_id(geom) in (3, 6):
        return geom
    polygons = [q for p in shapely.get_parts(geom) if shapely.get_type_id(p) in (3, 6)
                for q in shapely.get_parts(p)]
    return shapely.multipolygons(polygons) if polygons else shapely.Polygon()
