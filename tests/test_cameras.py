"""Camera specifications: DORI reach from resolution and lens, blind zone, catalogue."""

from __future__ import annotations

import math

import pytest

from geodata.errors import OptionError
from planner.coverage.cameras import (
    DORI_PPM,
    CameraSpec,
    camera_catalogue,
    camera_from_mapping,
    catalogue_camera,
    hfov_from_lens,
)


def test_issue_worked_example_1080p_4mm():
    # Issue 12: 1080p, 1/2.8" sensor (5.37 mm of active width), 4 mm lens: about 57/23/11/6 m.
    cam = CameraSpec.from_lens("x", 1920, 4.0, 5.37)
    assert cam.hfov_deg == pytest.approx(67.74, abs=0.01)
    r = cam.reaches_m
    assert [round(r[k]) for k in ("detect", "observe", "recognise", "identify")] == [57, 23, 11, 6]
    # The same as the pinhole form px * focal / (sensor * ppm).
    assert r["detect"] == pytest.approx(1920 * 4.0 / (5.37 * 25.0), rel=1e-12)


def test_published_calculator_example_90_degrees():
    # Active Online's DORI calculator (activeonline.com.au/free-dori-calculator): a 1920 px
    # camera with a 90 degree lens detects at 48.9 m and identifies at 4.9 m. It uses the arc
    # px / (ppm * hfov_rad); the chord (pinhole) gives px / (2 tan(45) ppm) = 38.4 / 3.84 m,
    # exactly pi/4 of the arc at 90 degrees.
    cam = CameraSpec("x", 1920, 90.0)
    assert cam.reach_m("detect") == pytest.approx(38.4)
    assert cam.reach_m("identify") == pytest.approx(3.84)
    arc = 1920 / (25.0 * math.pi / 2)
    assert round(arc, 1) == 48.9
    assert cam.reach_m("detect") == pytest.approx(arc * math.pi / 4)


def test_levels_ordered_and_ppm():
    cam = CameraSpec("x", 3840, 50.0)
    r = cam.reaches_m
    assert list(r) == ["identify", "recognise", "observe", "detect"]
    assert r["identify"] < r["recognise"] < r["observe"] < r["detect"]
    assert r["detect"] / r["identify"] == pytest.approx(DORI_PPM["identify"] / DORI_PPM["detect"])


def test_lens_field_of_view():
    assert hfov_from_lens(4.0, 8.0) == pytest.approx(90.0)
    with pytest.raises(OptionError, match="--focal-mm"):
        hfov_from_lens(0.0, 5.0)


def test_blind_zone():
    cam = CameraSpec("x", 1920, 90.0, height_m=6.0, tilt_deg=10.0, aspect=1.0)
    # vfov = 90 with aspect 1: lower edge 55 degrees below the horizontal.
    assert cam.blind_m == pytest.approx(6.0 / math.tan(math.radians(55.0)))
    assert CameraSpec("x", 1920, 90.0).blind_m == 0.0
    assert CameraSpec("x", 1920, 90.0, height_m=6.0, tilt_deg=60.0, aspect=1.0).blind_m == 0.0


@pytest.mark.parametrize(
    ("kwargs", "option"),
    [({"resolution_px": 0}, "--resolution"), ({"hfov_deg": 180.0}, "--hfov"),
     ({"per_set": 5}, "--cameras-per-set"), ({"height_m": 5.0}, "--mount-height")],
)
def test_bad_specs(kwargs, option):
    base = {"name": "x", "resolution_px": 1920, "hfov_deg": 60.0}
    with pytest.raises(OptionError, match=option):
        CameraSpec(**{**base, **kwargs})


def test_catalogue_and_user_types():
    names = set(camera_catalogue())
    assert {"1080p-4mm", "4k-8mm", "1080p-2.8mm", "4k-12mm"} <= names
    cam = catalogue_camera("1080p-4mm", per_set=3)
    assert (cam.per_set, cam.focal_mm, cam.sensor_mm) == (3, 4.0, 5.37)
    mine = catalogue_camera("mine", extra={"mine": {"resolution_px": 2560, "hfov_deg": 80.0}})
    assert mine.hfov_deg == 80.0
    wider = catalogue_camera("1080p-4mm", hfov_deg=100.0)
    assert wider.hfov_deg == 100.0
    assert wider.focal_mm is None
    with pytest.raises(OptionError, match="unknown camera type"):
        catalogue_camera("8k-1mm")
    with pytest.raises(OptionError, match="not both"):
        camera_from_mapping("x", {"resolution_px": 1920, "hfov_deg": 60, "focal_mm": 4})
    with pytest.raises(OptionError, match="unknown camera key"):
        camera_from_mapping("x", {"resolution_px": 1920, "hfov": 60})
