"""The bundled demo: a real city, end to end, from data installed with camplan.

Mesa, Arizona (near downtown): the street network and 287 crime incidents of
PySAL's ``geodanet`` example, shipped with libpysal. Nothing is invented:

* demand: points every :data:`SPACING_M` metres along the streets;
* footfall: **modelled** from the betweenness centrality of each street
  segment on the street graph (networkx), since nothing is measured;
* crime: Gaussian kernel density of the incidents (bandwidth :data:`BANDWIDTH_M`);
* weight: normalised crime x normalised modelled footfall;
* candidate sites: the street intersections;
* reach :data:`RADIUS_M` = 75 m, a common planning figure for a street CCTV
  set that must recognise people (well inside the 100-150 m a pole-mounted
  PTZ camera can observe); 12 sets in two phases of 6.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np

from geodata import fingerprint, get_path, to_metric
from geodata.crs import metric_choice
from geodata.layers import load_crime, load_streets
from planner.api import PlanOptions
from planner.demand.streets import (
    edge_betweenness,
    intersections,
    points_along_streets,
    street_graph,
    street_segments,
)
from planner.demand.weights import combine, kernel_density, normalise

__all__ = ["BANDWIDTH_M", "RADIUS_M", "SPACING_M", "DemoInputs", "mesa_inputs"]

logger = logging.getLogger(__name__)

SPACING_M = 25.0
BANDWIDTH_M = 150.0
RADIUS_M = 75.0
SETS = 12
PHASES = (6, 6)


@dataclass(frozen=True)
class DemoInputs:
    """Layers and options of the demo, ready for :func:`planner.api.plan_sites`."""

    demand: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    crimes: gpd.GeoDataFrame
    streets: gpd.GeoDataFrame
    options: PlanOptions
    inputs: dict[str, str]
    parameters: dict[str, object]
    title: str


def mesa_inputs() -> DemoInputs:
    """Build the Mesa, Arizona demo layers (metric CRS: UTM zone 12N)."""
    streets_path, crimes_path = get_path("mesa_streets"), get_path("mesa_crimes")
    streets = load_streets(streets_path)
    crimes = load_crime(crimes_path)
    choice = metric_choice(streets, source=str(streets_path))
    streets = to_metric(streets, source=str(streets_path), crs=choice.crs)
    crimes = to_metric(crimes, source=str(crimes_path), crs=streets.crs)

    segments = street_segments(streets, source=str(streets_path))
    graph = street_graph(segments)
    demand = points_along_streets(segments, spacing_m=SPACING_M)
    between = edge_betweenness(graph)
    footfall = np.array([between.get(s, 0.0) for s in demand["segment"]])
    crime = kernel_density(
        np.asarray(demand.geometry.array),
        np.asarray(crimes.geometry.array),
        bandwidth_m=BANDWIDTH_M,
    )
    demand = demand.assign(
        crime=normalise(crime),
        footfall_modelled=normalise(footfall),
        weight=combine(crime, footfall, rule="product"),
    )
    sites = intersections(graph, crs=segments.crs)
    sites = sites.assign(site_id=[f"X{n:04d}" for n in sites["node"]])
    logger.info(
        "demo: %d demand points, %d intersections, %d incidents",
        len(demand),
        len(sites),
        len(crimes),
    )
    return DemoInputs(
        demand=demand,
        sites=sites,
        crimes=crimes,
        streets=segments,
        options=PlanOptions(radius_m=RADIUS_M, sets=SETS, phases=PHASES),
        inputs={"streets": fingerprint(streets_path), "crime": fingerprint(crimes_path)},
        parameters={
            "crs_reason": choice.reason,
            "model": {
                "city": "Mesa, Arizona (libpysal geodanet)",
                "demand": f"points every {SPACING_M:g} m along the streets",
                "footfall": "modelled: street-segment betweenness centrality (networkx)",
                "crime": f"Gaussian kernel density, bandwidth {BANDWIDTH_M:g} m",
                "weight": "normalised crime x normalised modelled footfall",
                "sites": "street intersections (3 or more segments)",
            }
        },
        title="Mesa, Arizona — demo plan (footfall modelled from street betweenness)",
    )
