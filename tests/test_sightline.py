"""Line-of-sight coverage: the vectorised model against a brute-force loop on a small scene."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import LineString, Point, box

from planner.coverage.sightline import SightlineModel, obstacles


def _scene(seed: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    buildings = []
    for x0, y0 in rng.uniform(0, 400, size=(25, 2)):
        w, h = rng.uniform(10, 40, size=2)
        buildings.append(box(x0, y0, x0 + w, y0 + h))
    buildings.append(shapely.Polygon([(200, 200), (260, 200), (260, 260), (240, 260),
                                      (240, 220), (200, 220)]))  # an L: not convex
    demand = shapely.points(rng.uniform(0, 450, size=(400, 2)))
    sites = shapely.points(rng.uniform(0, 450, size=(30, 2)))
    return demand, sites, np.array(buildings, dtype=object)


def test_sightline_matches_brute_force() -> None:
    demand, sites, buildings = _scene()
    radius = 120.0
    model = SightlineModel(buildings, wall_tolerance_m=0.5)
    matrix = model.matrix(demand, sites, radius).toarray()
    shrunk = obstacles(buildings, wall_tolerance_m=0.5)
    expected = np.zeros((len(demand), len(sites)))
    for i, p in enumerate(demand):
        for j, s in enumerate(sites):
            if p.distance(s) > radius:
                continue
            line = LineString([s, p])
            if not any(line.intersects(b) for b in shrunk):
                expected[i, j] = 1.0
    assert expected.sum() > 50  # the scene has both seen and blocked pairs
    np.testing.assert_array_equal(matrix, expected)


def test_a_building_between_blocks_and_one_beside_does_not() -> None:
    wall = box(40, -10, 60, 10)
    model = SightlineModel(np.array([wall], dtype=object))
    sites = np.array([Point(0, 0)], dtype=object)
    demand = np.array([Point(100, 0), Point(0, 100), Point(100, 50)], dtype=object)
    seen = model.matrix(demand, sites, 150.0).toarray().ravel()
    assert seen.tolist() == [0.0, 1.0, 1.0]


def test_a_camera_on_a_wall_is_not_blocked_by_that_wall() -> None:
    house = box(0, 0, 20, 20)
    model = SightlineModel(np.array([house], dtype=object), wall_tolerance_m=0.5)
    on_wall = np.array([Point(20, 10)], dtype=object)
    demand = np.array([Point(60, 10), Point(-30, 10)], dtype=object)
    assert model.matrix(demand, on_wall, 100.0).toarray().ravel().tolist() == [1.0, 0.0]


def test_footprint_is_the_disc_cut_by_building_shadows() -> None:
    wall = box(30, -20, 40, 20)
    model = SightlineModel(np.array([wall], dtype=object), rays=360)
    site = np.array([Point(0, 0)], dtype=object)
    footprint = model.footprints(site, 100.0)[0]
    disc = Point(0, 0).buffer(100.0)
    assert footprint.is_valid
    assert footprint.area < 0.95 * disc.area
    assert not footprint.contains(Point(80, 0))      # behind the wall
    assert footprint.contains(Point(-80, 0))         # open side
    assert footprint.contains(Point(20, 0))          # in front of the wall
    assert not footprint.intersects(box(31, -19, 39, 19))


def test_no_buildings_is_the_disc() -> None:
    model = SightlineModel(np.empty(0, dtype=object))
    demand, sites, _ = _scene(5)
    from planner.coverage.disc import coverage_matrix

    np.testing.assert_array_equal(model.matrix(demand, sites, 80.0).toarray(),
                                  coverage_matrix(demand, sites, 80.0).toarray())
