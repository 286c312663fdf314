"""The bundled Mesa, Arizona sample data (libpysal's geodanet example)."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

from geodata import (
    LayerError,
    datasets,
    fingerprint,
    get_path,
    read_layer,
    to_metric,
    validate_layer,
)

US_SURVEY_FOOT_M = 0.3048006


def test_available_lists_the_sample_datasets() -> None:
    assert datasets.available() == ["mesa_crimes", "mesa_streets"]


@pytest.mark.parametrize(
    ("name", "file"), [("mesa_crimes", "crimes.shp"), ("mesa_streets", "streets.shp")]
)
def test_get_path_finds_the_shapefile_and_its_parts(name: str, file: str) -> None:
    path = get_path(name)
    assert path.name == file
    assert path.parent.name == "geodanet"
    for suffix in (".shp", ".shx", ".dbf", ".prj"):
        assert path.with_suffix(suffix).is_file()


def test_unknown_dataset_lists_the_known_ones() -> None:
    with pytest.raises(
        ValueError,
        match=r"unknown sample dataset 'hong_kong'; known datasets: mesa_crimes, mesa_streets",
    ):
        get_path("hong_kong")


def test_get_path_does_not_import_libpysal() -> None:
    code = "import sys, geodata; geodata.get_path('mesa_crimes'); print('libpysal' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_missing_package_says_to_reinstall(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(
        LayerError, match=r"^sample dataset 'mesa_crimes': .*not installed; reinstall camplan"
    ):
        get_path("mesa_crimes")


def test_incomplete_files_say_which_part_is_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    folder = tmp_path / "examples" / "geodanet"
    folder.mkdir(parents=True)
    for suffix in (".shp", ".shx", ".dbf"):
        (folder / f"streets{suffix}").write_bytes(b"")
    monkeypatch.setattr(datasets, "_package_dir", lambda package, *, name: tmp_path)
    with pytest.raises(LayerError, match=r"missing \.prj.*reinstall camplan"):
        get_path("mesa_streets")


def test_mesa_crimes_are_points_in_us_feet() -> None:
    crimes = read_layer(get_path("mesa_crimes"), role="crime")
    assert len(crimes) == 287
    assert set(crimes.geom_type) == {"Point"}
    assert crimes.crs.to_authority() == ("ESRI", "102649")
    assert crimes.crs.axis_info[0].unit_name == "US survey foot"
    validate_layer(crimes, source="mesa_crimes", geometry="point")


def test_mesa_streets_are_lines() -> None:
    streets = read_layer(get_path("mesa_streets"), role="streets")
    assert len(streets) == 293
    assert set(streets.geom_type) == {"LineString"}
    validate_layer(streets, source="mesa_streets", geometry="line")


@pytest.mark.parametrize("name", ["mesa_crimes", "mesa_streets"])
def test_mesa_in_metres_is_utm_12n_and_distances_are_right(name: str) -> None:
    feet = read_layer(get_path(name))
    metres = to_metric(feet, source=name)
    assert metres.crs.to_epsg() == 32612
    assert metres.crs.axis_info[0].unit_name == "metre"
    width_ft = feet.total_bounds[2] - feet.total_bounds[0]
    width_m = metres.total_bounds[2] - metres.total_bounds[0]
    assert width_m == pytest.approx(width_ft * US_SURVEY_FOOT_M, rel=0.01)
    # the study area is about 1.7 km across: a unit mix-up would be off by 3.28x
    assert 1_500 < width_m < 1_800


def test_mesa_street_lengths_convert_from_feet_to_metres() -> None:
    feet = read_layer(get_path("mesa_streets"))
    metres = to_metric(feet, source="mesa_streets")
    total_ft = feet.length.sum()
    assert metres.length.sum() == pytest.approx(total_ft * US_SURVEY_FOOT_M, rel=0.001)


def test_mesa_fingerprints_are_stable() -> None:
    path = get_path("mesa_crimes")
    first = fingerprint(path)
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", first)
    assert fingerprint(path) == first
    assert fingerprint(get_path("mesa_streets")) != first
