"""Walking-distance coverage against networkx shortest paths on a graph with the points inserted."""

from __future__ import annotations

import itertools

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely
from shapely.geometry import LineString, Point

from planner.coverage.network import NetworkModel


def _streets() -> gpd.GeoDataFrame:
    lines = []
    for k in range(5):  # a 5 x 5 lattice, 60 m blocks, plus a diagonal and a dead end
        lines.append(LineString([(0, 60 * k), (240, 60 * k)]))
        lines.append(LineString([(60 * k, 0), (60 * k, 240)]))
    lines.append(LineString([(0, 0), (120, 120)]))
    lines.append(LineString([(240, 120), (300, 150)]))
    return gpd.GeoDataFrame(geometry=lines, crs="EPSG:32650")


def _brute_force(model: NetworkModel, demand: np.ndarray, sites: np.ndarray) -> np.ndarray:
    """Distances on a graph where every snapped point splits its segment (networkx)."""
    net = model.network
    graph = nx.Graph()
    stops: dict[int, list[tuple[float, object]]] = {}
    for kind, pts in (("d", demand), ("s", sites)):
        seg, off, gap = net.snap(pts, max_snap_m=model.max_snap_m)
        for i, _p in enumerate(pts):
            if seg[i] < 0:
                continue
            node = (kind, i)
            stops.setdefault(int(seg[i]), []).append((float(off[i]), node))
            graph.add_edge(node, (kind, i, "on"), length=float(gap[i]))
    for k in range(len(net.lines)):
        chain = [(0.0, ("n", int(net.u[k])))]
        chain += sorted((o, (*n, "on")) for o, n in stops.get(k, []))
        chain.append((float(net.length[k]), ("n", int(net.v[k]))))
        for (oa, a), (ob, b) in itertools.pairwise(chain):
            w = ob - oa
            if a != b and (not graph.has_edge(a, b) or graph[a][b]["length"] > w):
                graph.add_edge(a, b, length=w)
    out = np.full((len(demand), len(sites)), np.inf)
    for j in range(len(sites)):
        if ("s", j) not in graph:
            continue
        dist = nx.single_source_dijkstra_path_length(graph, ("s", j), weight="length")
        for i in range(len(demand)):
            out[i, j] = dist.get(("d", i), np.inf)
    return out


def test_network_matches_networkx_shortest_paths() -> None:
    rng = np.random.default_rng(11)
    demand = shapely.points(rng.uniform(-10, 300, size=(150, 2)))
    sites = shapely.points(rng.uniform(0, 250, size=(15, 2)))
    model = NetworkModel(_streets(), max_snap_m=25.0)
    radius = 110.0
    matrix = model.matrix(demand, sites, radius).toarray()
    expected = (_brute_force(model, demand, sites) <= radius + 1e-9).astype(float)
    assert expected.sum() > 40
    np.testing.assert_array_equal(matrix, expected)


def test_walking_is_longer_than_the_straight_line() -> None:
    # Two parallel streets 40 m apart joined only at the far end: 40 m apart in a
    # straight line, 200 m + 200 m + 40 m on foot.
    streets = gpd.GeoDataFrame(geometry=[
        LineString([(0, 0), (200, 0)]), LineString([(0, 40), (200, 40)]),
        LineString([(200, 0), (200, 40)])], crs="EPSG:32650")
    model = NetworkModel(streets)
    sites = np.array([Point(0, 0)], dtype=object)
    demand = np.array([Point(0, 40), Point(90, 0)], dtype=object)
    assert model.matrix(demand, sites, 100.0).toarray().ravel().tolist() == [0.0, 1.0]
    assert model.matrix(demand, sites, 450.0).toarray().ravel().tolist() == [1.0, 1.0]


def test_points_far_from_every_street_are_not_covered() -> None:
    model = NetworkModel(_streets(), max_snap_m=10.0)
    sites = np.array([Point(30, 0)], dtype=object)
    demand = np.array([Point(30, 45), Point(30, 5)], dtype=object)
    assert model.matrix(demand, sites, 100.0).toarray().ravel().tolist() == [0.0, 1.0]


def test_footprints_follow_the_streets() -> None:
    model = NetworkModel(_streets())
    footprint = model.footprints(np.array([Point(60, 60)], dtype=object), 50.0)[0]
    assert footprint.contains(Point(100, 60))      # along the street
    assert not footprint.contains(Point(100, 85))  # inside the block, 47 m as the crow flies
    assert footprint.area < Point(60, 60).buffer(55).area
