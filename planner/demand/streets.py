"""Street networks: a networkx graph from street lines, intersections, points along streets.

Lines are noded (split where they cross) and snapped, so a network drawn as
long polylines becomes a proper graph. All lengths are metres: pass lines in
a projected metric CRS (see :func:`geodata.crs.to_metric`).
"""

from __future__ import annotations

import logging

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely

from geodata.errors import LayerError

__all__ = [
    "edge_betweenness",
    "intersections",
    "points_along_streets",
    "segment_graph",
    "segment_nodes",
    "street_graph",
    "street_segments",
]

logger = logging.getLogger(__name__)

#: Graphs with more nodes than this get sampled (seeded) betweenness.
EXACT_BETWEENNESS_NODES = 3000


def street_segments(streets: gpd.GeoDataFrame, *, source: str = "streets") -> gpd.GeoDataFrame:
    """Split street lines where they meet, one row per segment between junctions."""
    lines = streets.geometry.array
    kinds = set(shapely.get_type_id(lines).tolist())
    if not kinds <= {1, 5}:  # LineString, MultiLineString
        raise LayerError(source, "street layers must hold lines (LineString/MultiLineString)")
    noded = shapely.node(shapely.multilinestrings(shapely.get_parts(lines)))
    parts = shapely.get_parts(shapely.line_merge(noded, directed=False))
    parts = shapely.get_parts(shapely.node(shapely.multilinestrings(parts)))
    parts = parts[shapely.length(parts) > 0]
    parts = _canonical_lines(parts)
    return gpd.GeoDataFrame({"length_m": shapely.length(parts)}, geometry=parts, crs=streets.crs)


def _canonical_lines(parts: np.ndarray) -> np.ndarray:
    """Sort segments by their coordinates so the result never depends on input order."""
    parts = shapely.normalize(parts)
    starts = shapely.get_coordinates(shapely.get_point(parts, 0))
    ends = shapely.get_coordinates(shapely.get_point(parts, -1))
    order = np.lexsort((ends[:, 1], ends[:, 0], starts[:, 1], starts[:, 0]))
    return parts[order]


def segment_nodes(
    lines: np.ndarray, *, snap_m: float = 0.5
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Graph nodes at the ends of street segments, ends within ``snap_m`` metres merged.

    Parameters
    ----------
    lines
        One LineString per segment, in a projected CRS (metres).
    snap_m
        Grid on which ends are snapped, metres.

    Returns
    -------
    u, v, xy
        Node of each segment's start and end, and the snapped ``x, y`` of
        every node (nodes numbered in coordinate order).
    """
    a = shapely.get_coordinates(shapely.get_point(lines, 0))
    b = shapely.get_coordinates(shapely.get_point(lines, -1))
    ends = np.round(np.vstack([a, b]) / snap_m).astype(np.int64)
    keys, inverse = np.unique(ends, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    return inverse[: len(a)], inverse[len(a) :], keys * snap_m


def segment_graph(
    u: np.ndarray, v: np.ndarray, xy: np.ndarray, lengths: np.ndarray
) -> nx.Graph:
    """An undirected graph on :func:`segment_nodes`, one edge per segment.

    Node attributes ``x, y``; edge attributes ``length`` (metres) and ``segment``
    (the segment's position). Of parallel segments between two nodes the
    shortest is kept; segments whose ends meet (loops) are left out.
    """
    graph = nx.Graph()
    for i, (x, y) in enumerate(xy):
        graph.add_node(i, x=float(x), y=float(y))
    for s in np.argsort(lengths, kind="stable")[::-1]:  # shortest added last, so it wins
        if u[s] != v[s]:
            graph.add_edge(int(u[s]), int(v[s]), length=float(lengths[s]), segment=int(s))
    return graph


def street_graph(segments: gpd.GeoDataFrame, *, snap_m: float = 0.5) -> nx.Graph:
    """An undirected graph: nodes at segment ends (snapped to ``snap_m``), edges with length.

    Node attributes ``x, y``; edge attributes ``length`` (metres) and ``segment``
    (row of ``segments``). Of parallel segments between two nodes the shortest is kept.
    """
    u, v, xy = segment_nodes(np.asarray(segments.geometry.array), snap_m=snap_m)
    graph = segment_graph(u, v, xy, segments["length_m"].to_numpy())
    logger.info(
        "street graph: %d nodes, %d edges", graph.number_of_nodes(), graph.number_of_edges()
    )
    return graph


def intersections(graph: nx.Graph, *, crs: object, min_degree: int = 3) -> gpd.GeoDataFrame:
    """Street intersections: nodes where at least ``min_degree`` segments meet."""
    nodes = sorted(n for n, d in graph.degree() if d >= min_degree)
    xs = [graph.nodes[n]["x"] for n in nodes]
    ys = [graph.nodes[n]["y"] for n in nodes]
    degree = [graph.degree(n) for n in nodes]
    return gpd.GeoDataFrame(
        {"node": nodes, "degree": degree, "mount_type": "intersection"},
        geometry=gpd.points_from_xy(xs, ys),
        crs=crs,
    )


def edge_betweenness(graph: nx.Graph, *, seed: int = 0) -> dict[int, float]:
    """Betweenness centrality of every street segment (by ``segment`` number).

    Shortest paths weighted by length; exact for graphs up to
    :data:`EXACT_BETWEENNESS_NODES` nodes, otherwise estimated from that many
    seeded source nodes.
    """
    k = None if graph.number_of_nodes() <= EXACT_BETWEENNESS_NODES else EXACT_BETWEENNESS_NODES
    scores = nx.edge_betweenness_centrality(graph, k=k, weight="length", seed=seed)
    return {graph.edges[e]["segment"]: float(s) for e, s in scores.items()}


def points_along_streets(segments: gpd.GeoDataFrame, *, spacing_m: float) -> gpd.GeoDataFrame:
    """Points every ``spacing_m`` metres along each segment (at least one per segment).

    Each point sits at the middle of its share of the segment; the column
    ``segment`` tells which segment it lies on.
    """
    if not spacing_m > 0:
        raise ValueError("spacing_m must be positive")
    lengths = segments["length_m"].to_numpy()
    counts = np.maximum(1, np.round(lengths / spacing_m)).astype(np.int64)
    seg = np.repeat(np.arange(len(segments)), counts)
    first = np.cumsum(counts) - counts
    within = np.arange(counts.sum()) - np.repeat(first, counts)
    dist = (within + 0.5) * (lengths / counts)[seg]
    pts = shapely.line_interpolate_point(segments.geometry.array[seg], dist)
    return gpd.GeoDataFrame({"segment": seg}, geometry=pts, crs=segments.crs)
