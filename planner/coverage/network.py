"""Walking-distance coverage: a site covers a point when the walk along the streets is short enough.

Sites and demand points are snapped to the nearest street segment (at most
``max_snap_m`` metres away; farther points are not covered). The walking
distance from a site to a point is

    snap(site) + along-street distance between the two snapped positions + snap(point),

the along-street part found with a networkx Dijkstra with a cutoff (the
reach) from the site's snapped position, entered as a temporary node on its
segment; points on the site's own segment may also be reached along it
directly. Only points within the straight-line reach are looked at (walking
is never shorter than the straight line).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely
from scipy import sparse
from shapely.ops import substring

from geodata.errors import OptionError
from planner.coverage.disc import DecayBands, _quality
from planner.demand.streets import segment_graph, segment_nodes, street_segments

__all__ = ["NetworkModel", "StreetNetwork", "network_distances"]

logger = logging.getLogger(__name__)

_SOURCE = "__site__"


@dataclass(frozen=True)
class StreetNetwork:
    """Street segments and the undirected graph on their ends (lengths in metres).

    Attributes
    ----------
    lines
        One LineString per segment.
    u, v
        Graph node of each segment's start and end.
    length
        Length of each segment, metres.
    graph
        ``networkx.Graph`` from :func:`planner.streets.segment_graph`; edge
        attribute ``length``; of parallel segments the shortest.
    """

    lines: np.ndarray
    u: np.ndarray
    v: np.ndarray
    length: np.ndarray
    graph: nx.Graph
    tree: shapely.STRtree = field(repr=False, compare=False)

    @classmethod
    def from_streets(cls, streets: gpd.GeoDataFrame, *, snap_m: float = 0.5) -> StreetNetwork:
        """Node the street lines where they meet; build the graph (ends snapped to ``snap_m``)."""
        segments = street_segments(streets)
        lines = np.asarray(segments.geometry.array)
        u, v, xy = segment_nodes(lines, snap_m=snap_m)
        length = shapely.length(lines)
        graph = segment_graph(u, v, xy, length)
        return cls(lines=lines, u=u, v=v, length=length, graph=graph,
                   tree=shapely.STRtree(lines))

    def snap(self, points: np.ndarray, *, max_snap_m: float) -> tuple[np.ndarray, np.ndarray,
                                                                         np.ndarray]:
        """Nearest segment of each point (-1 beyond ``max_snap_m``), offset along it, distance."""
        points = np.asarray(points)
        seg = np.full(len(points), -1, dtype=np.int64)
        offset = np.zeros(len(points))
        gap = np.full(len(points), np.inf)
        p_idx, s_idx = self.tree.query_nearest(points, max_distance=max_snap_m,
                                               all_matches=False)
        seg[p_idx] = s_idx
        offset[p_idx] = shapely.line_locate_point(self.lines[s_idx], points[p_idx])
        gap[p_idx] = shapely.distance(self.lines[s_idx], points[p_idx])
        return seg, offset, gap


def _from_site(
    network: StreetNetwork, site: tuple[int, float, float], cutoff_m: float
) -> dict[int, float]:
    """Along-street distance from a snapped site to every graph node within ``cutoff_m``."""
    seg, off, _ = site
    graph = network.graph
    su, sv, sl = int(network.u[seg]), int(network.v[seg]), float(network.length[seg])
    if su == sv:  # a loop: both ends are one node
        graph.add_edge(_SOURCE, su, length=min(off, sl - off))
    else:
        graph.add_edge(_SOURCE, su, length=off)
        graph.add_edge(_SOURCE, sv, length=sl - off)
    try:
        dist = nx.single_source_dijkstra_path_length(graph, _SOURCE, cutoff=cutoff_m,
                                                     weight="length")
    finally:
        graph.remove_node(_SOURCE)
    dist.pop(_SOURCE, None)
    return dist


def network_distances(
    network: StreetNetwork,
    site: tuple[int, float, float],
    targets: tuple[np.ndarray, np.ndarray, np.ndarray],
    cutoff_m: float,
) -> np.ndarray:
    """Walking distances (metres) from one snapped site to snapped targets (inf beyond cutoff).

    ``site`` is ``(segment, offset along it, snap distance)``; ``targets`` the
    same as three arrays.
    """
    seg, off, gap = site
    t_seg, t_off, t_gap = targets
    out = np.full(len(t_seg), np.inf)
    if cutoff_m - gap < 0 or len(t_seg) == 0:
        return out
    dist = _from_site(network, site, cutoff_m - gap)
    du = np.array([dist.get(int(n), np.inf) for n in network.u[t_seg]])
    dv = np.array([dist.get(int(n), np.inf) for n in network.v[t_seg]])
    along = np.minimum(du + t_off, dv + network.length[t_seg] - t_off)
    same = t_seg == seg
    along[same] = np.minimum(along[same], np.abs(t_off[same] - off))
    out = gap + along + t_gap
    out[out > cutoff_m] = np.inf
    return out


@dataclass(frozen=True)
class NetworkModel:
    """Reach measured as walking distance along the street graph.

    Attributes
    ----------
    streets
        Street lines in the working metric CRS.
    max_snap_m
        Sites and points farther than this from every street (default 50 m) are
        left out: not covered, and a site there covers nothing.
    """

    streets: gpd.GeoDataFrame
    max_snap_m: float = 50.0
    name: str = "network"
    _network: StreetNetwork = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Check the snap distance and build the street network once."""
        if not (self.max_snap_m >= 0):
            raise OptionError("max_snap", f"must be >= 0 metres, got {self.max_snap_m}")
        object.__setattr__(self, "_network", StreetNetwork.from_streets(self.streets))

    @property
    def network(self) -> StreetNetwork:
        """The street network the walking distances are measured on."""
        return self._network

    def matrix(
        self, demand: np.ndarray, sites: np.ndarray, radius_m: float, *,
        bands: DecayBands | None = None,
    ) -> sparse.csc_array:
        """Coverage qualities by walking distance (decay bands apply to the walking distance)."""
        demand, sites = np.asarray(demand), np.asarray(sites)
        n, m = len(demand), len(sites)
        net = self._network
        d_seg, d_off, d_gap = net.snap(demand, max_snap_m=self.max_snap_m)
        s_seg, s_off, s_gap = net.snap(sites, max_snap_m=self.max_snap_m)
        tree = shapely.STRtree(demand)
        s_idx, p_idx = tree.query(sites, predicate="dwithin", distance=radius_m)
        ok = (d_seg[p_idx] >= 0) & (s_seg[s_idx] >= 0)
        s_idx, p_idx = s_idx[ok], p_idx[ok]
        order = np.argsort(s_idx, kind="stable")
        s_idx, p_idx = s_idx[order], p_idx[order]
        bounds = np.searchsorted(s_idx, np.arange(m + 1))
        rows, cols, dists = [], [], []
        for j in range(m):
            lo, hi = bounds[j], bounds[j + 1]
            if lo == hi:
                continue
            pts = p_idx[lo:hi]
            d = network_distances(net, (int(s_seg[j]), float(s_off[j]), float(s_gap[j])),
                                  (d_seg[pts], d_off[pts], d_gap[pts]), radius_m)
            hit = np.isfinite(d)
            rows.append(pts[hit])
            cols.append(np.full(int(hit.sum()), j))
            dists.append(d[hit])
        row = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
        col = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
        dist = np.concatenate(dists) if dists else np.zeros(0)
        logger.info("network: %d pairs within %g m walking", len(row), radius_m)
        out = sparse.csc_array((_quality(dist, radius_m, bands), (row, col)), shape=(n, m))
        out.sort_indices()
        return out

    def footprints(self, sites: np.ndarray, radius_m: float) -> np.ndarray:
        """The streets within walking reach of each site, buffered by 5 m (for the map)."""
        sites = np.asarray(sites)
        net = self._network
        s_seg, s_off, s_gap = net.snap(sites, max_snap_m=self.max_snap_m)
        out = np.empty(len(sites), dtype=object)
        for j, site in enumerate(sites):
            lines = []
            if s_seg[j] >= 0 and s_gap[j] <= radius_m:
                snapped = (int(s_seg[j]), float(s_off[j]), float(s_gap[j]))
                lines = _reachable_lines(net, snapped, radius_m - s_gap[j])
            out[j] = shapely.buffer(shapely.union_all([site, *lines]), 5.0)
        return out


def _reachable_lines(
    net: StreetNetwork, site: tuple[int, float, float], budget: float
) -> list[shapely.Geometry]:
    """The pieces of street within ``budget`` metres along the streets of a snapped site."""
    dist = _from_site(net, site, budget)
    seg, off, _ = site
    out = []
    near = np.flatnonzero(np.isin(net.u, list(dist)) | np.isin(net.v, list(dist)))
    for k in near:
        length = float(net.length[k])
        reach0 = max(0.0, budget - dist.get(int(net.u[k]), np.inf))
        reach1 = max(0.0, budget - dist.get(int(net.v[k]), np.inf))
        if reach0 + reach1 >= length:
            out.append(net.lines[k])
            continue
        if reach0 > 0:
            out.append(substring(net.lines[k], 0.0, reach0))
        if reach1 > 0:
            out.append(substring(net.lines[k], length - reach1, length))
    out.append(substring(net.lines[seg], max(0.0, off - budget),
                         min(float(net.length[seg]), off + budget)))
    return out
