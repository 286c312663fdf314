"""Directional coverage: wedges with DORI levels, pans across north, sightline, existing cameras."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from geodata.errors import OptionError
from planner.coverage.cameras import CameraSpec
from planner.coverage.directional import (
    DirectionalOptions,
    directional_matrix,
    wedge_polygons,
    wedge_quality,
)
from planner.coverage.sightline import obstacles

CAM = CameraSpec("test", 1920, 60.0, per_set=2)  # detect reach 66.5 m, identify 6.65 m


def _brute(d, mounts, opt):
    reach, q = opt.thresholds()
    p_n, step, half = opt.n_pans, opt.pan_step_deg, opt.camera.hfov_deg / 2
    out = np.zeros((len(d), len(mounts) * p_n))
    for j, (x, y) in enumerate(mounts):
        dx, dy = d[:, 0] - x, d[:, 1] - y
        dist = np.hypot(dx, dy)
        az = np.degrees(np.arctan2(dx, dy)) % 360
        lv = np.searchsorted(reach, dist, side="left")
        for p in range(p_n):
            off = np.abs((az - p * step + 180) % 360 - 180)
            ok = (off <= half + 1e-9) & (lv < len(reach)) & (dist >= opt.camera.blind_m)
            out[ok, j * p_n + p] = q[lv[ok]]
    return out


@pytest.mark.parametrize("level", [None, "observe"])
def test_matches_brute_force(level):
    rng = np.random.default_rng(1)
    d = rng.uniform(0, 150, (800, 2))
    mounts = rng.uniform(0, 150, (12, 2))
    opt = DirectionalOptions(CAM, pan_step_deg=20, level=level)
    got = directional_matrix(d, mounts, opt)
    assert got.shape == (800, 12 * 18)
    np.testing.assert_array_equal(got.toarray(), _brute(d, mounts, opt))
    if level:
        assert set(np.unique(got.data)) == {1.0}
    else:
        assert set(np.unique(got.data)) <= {1.0, 0.8, 0.5, 0.25}


def test_wedges_across_north():
    opt = DirectionalOptions(CAM, pan_step_deg=15)
    # Points at azimuth 350, 5 and 40 degrees, 10 m out; hfov 60: pan 0 sees 350 and 5 only.
    az = np.radians([350.0, 5.0, 40.0])
    d = np.column_stack([10 * np.sin(az), 10 * np.cos(az)])
    m = directional_matrix(d, np.zeros((1, 2)), opt).toarray()
    pans = opt.pans_deg
    assert m[:, 0].tolist() == [0.8, 0.8, 0.0]  # pan 0 (recognise: 10 m <= 13.3 m)
    assert m[0, pans == 330.0][0] > 0  # 330 +- 30: 350 in, 5 out
    assert m[1, pans == 330.0][0] == 0
    assert m[1, pans == 30.0][0] > 0
    assert m[0, pans == 30.0][0] == 0
    seen_350 = pans[m[0] > 0]
    assert sorted(seen_350.tolist()) == [0.0, 15.0, 330.0, 345.0]


def test_blind_zone_and_mount_point():
    cam = CameraSpec("x", 1920, 60.0, height_m=6.0, tilt_deg=20.0)
    opt = DirectionalOptions(cam)
    d = np.array([[0.0, 0.0], [0.0, cam.blind_m * 0.9], [0.0, cam.blind_m * 1.1]])
    m = directional_matrix(d, np.zeros((1, 2)), opt).toarray()
    assert m[0].sum() == 0  # under the pole: blind
    assert m[1].sum() == 0
    assert m[2, 0] == 0.8  # blind radius 8 m: beyond identify (6.65 m), recognise at 8.8 m
    free = directional_matrix(d[:1], np.zeros((1, 2)), DirectionalOptions(CAM)).toarray()
    assert (free[0] == 1.0).all()  # no blind zone: the mount point is seen by every pan


def test_sightline_blocks():
    opt = DirectionalOptions(CAM, level="detect")
    d = np.array([[0.0, 30.0], [30.0, 0.0]])
    wall = shapely.box(-5, 10, 5, 12)
    tree = shapely.STRtree(obstacles(np.array([wall]), wall_tolerance_m=0.0))
    open_ = directional_matrix(d, np.zeros((1, 2)), opt).toarray()
    cut = directional_matrix(d, np.zeros((1, 2)), opt, tree=tree).toarray()
    assert open_[0].sum() > 0
    assert cut[0].sum() == 0
    np.testing.assert_array_equal(open_[1], cut[1])


def test_existing_wedges():
    opt = DirectionalOptions(CAM)
    d = np.array([[0.0, 10.0], [10.0, 0.0], [0.0, -10.0]])
    q = wedge_quality(d, np.zeros((1, 2)), np.array([90.0]), np.array([60.0]), opt)
    assert q.tolist() == [0.0, 0.8, 0.0]
    q = wedge_quality(d, np.zeros((2, 2)), np.array([0.0, 180.0]), np.array([60.0, 10.0]), opt)
    # A 10 degree camera reaches 6x farther: 10 m is within its identify reach.
    assert q.tolist() == [0.8, 0.0, 1.0]


def test_wedge_polygons_hold_what_is_seen():
    rng = np.random.default_rng(3)
    d = rng.uniform(-70, 70, (3000, 2))
    opt = DirectionalOptions(CAM, pan_step_deg=30, level="detect")
    m = directional_matrix(d, np.zeros((1, 2)), opt).toarray()
    poly = wedge_polygons(np.zeros((12, 2)), opt.pans_deg, 60.0, opt.max_reach_m, arc_points=720)
    inside = shapely.contains_xy(poly[:, None], d[None, :, 0], d[None, :, 1]).T
    agree = (inside == (m > 0)).mean()
    assert agree > 0.999  # edges aside (points on the boundary)


@pytest.mark.parametrize(
    ("kwargs", "option"),
    [({"pan_step_deg": 7.0}, "--pan-step"), ({"level": "see"}, "--level"),
     ({"spread_deg": 100.0}, "--spread"),
     ({"level_weights": (("identify", 0.5), ("recognise", 0.8), ("observe", 0.5),
                         ("detect", 0.2))}, "--level-weights")],
)
def test_bad_options(kwargs, option):
    with pytest.raises(OptionError, match=option):
        DirectionalOptions(CAM, **kwargs)
