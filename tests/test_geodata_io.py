"""Reading layers: every format, CSV coordinates, CRS resolution, and the bad-input corpus."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import sys
from pathlib import Path

import geopandas as gpd
import pyogrio.errors
import pytest
from shapely.geometry import Point

from geodata import CRSError, LayerError, OptionError, fingerprint, read_layer, validate_layer

DATA = Path(__file__).parent / "data"
BAD = DATA / "bad"

SITES = DATA / "mesa_sites.geojson"


# --- formats ---------------------------------------------------------------------------------


def test_geojson_is_read_with_its_attributes_and_rfc7946_crs() -> None:
    gdf = read_layer(SITES)
    assert list(gdf["site_id"]) == ["S1", "S2", "S3"]
    assert gdf.crs.to_epsg() == 4326
    assert gdf.geometry.iloc[0].equals(Point(-111.8315, 33.4152))
    assert list(gdf.index) == [0, 1, 2]


@pytest.fixture
def sites_hk() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"site_id": ["G1", "G2"], "weight": [1.5, 2.0]},
        geometry=[Point(835500, 818200), Point(835200, 820500)],
        crs="EPSG:2326",
    )


@pytest.mark.parametrize("suffix", [".gpkg", ".shp", ".fgb"])
def test_binary_formats_round_trip(tmp_path: Path, sites_hk: gpd.GeoDataFrame, suffix: str) -> None:
    path = tmp_path / f"sites{suffix}"
    sites_hk.to_file(path, engine="pyogrio")
    gdf = read_layer(path)
    assert gdf.crs.to_epsg() == 2326
    assert list(gdf["site_id"]) == ["G1", "G2"]
    assert gdf.geometry.iloc[1].equals(Point(835200, 820500))


def test_geopackage_with_several_layers_needs_a_layer_name(
    tmp_path: Path, sites_hk: gpd.GeoDataFrame
) -> None:
    path = tmp_path / "city.gpkg"
    sites_hk.to_file(path, layer="sites", engine="pyogrio")
    sites_hk.iloc[:1].to_file(path, layer="existing", engine="pyogrio")
    with pytest.raises(LayerError, match=r"holds 2 layers \('sites', 'existing'\)") as err:
        read_layer(path)
    assert "layer=" in str(err.value)
    assert len(read_layer(path, layer="existing")) == 1
    with pytest.raises(LayerError, match=r"has no layer 'cameras'; its layers are 'sites'"):
        read_layer(path, layer="cameras")


def test_shapefile_without_prj_asks_for_a_crs(tmp_path: Path, sites_hk: gpd.GeoDataFrame) -> None:
    path = tmp_path / "sites.shp"
    sites_hk.to_file(path, engine="pyogrio")
    path.with_suffix(".prj").unlink()
    with pytest.raises(CRSError, match="has no coordinate reference system") as err:
        read_layer(path)
    message = str(err.value)
    assert message.startswith(str(path))
    assert "--crs" in message
    assert ".prj" in message
    assert read_layer(path, crs="EPSG:2326").crs.to_epsg() == 2326


def test_geoparquet_is_read_when_pyarrow_is_installed(
    tmp_path: Path, sites_hk: gpd.GeoDataFrame
) -> None:
    pytest.importorskip("pyarrow")
    path = tmp_path / "sites.parquet"
    sites_hk.to_parquet(path)
    gdf = read_layer(path)
    assert gdf.crs.to_epsg() == 2326
    assert list(gdf["weight"]) == [1.5, 2.0]


def test_geoparquet_without_pyarrow_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "sites.parquet"
    path.write_bytes(b"PAR1")

    def no_pyarrow(*args: object, **kwargs: object) -> None:
        raise ImportError("pyarrow is required")

    monkeypatch.setattr(gpd, "read_parquet", no_pyarrow)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)  # import pyarrow.parquet fails
    with pytest.raises(LayerError, match=r"needs the pyarrow package.*pip install pyarrow") as err:
        read_layer(path)
    assert isinstance(err.value.__cause__, ImportError)


# --- CSV ---------------------------------------------------------------------------------------


def test_csv_lon_lat_columns_are_found_in_any_case() -> None:
    gdf = read_layer(DATA / "hk_sites_lonlat.csv")
    assert gdf.crs.to_epsg() == 4326
    assert gdf.geometry.iloc[0].equals(Point(114.1722, 22.2988))
    assert list(gdf["mount"]) == ["lamp post", "smart pole", "building"]


@pytest.mark.parametrize(
    ("name", "first"),
    [("hk_sites.tsv", "T1"), ("hk_sites_semicolon.txt", "P1")],
)
def test_tsv_and_txt_tables_are_read(name: str, first: str) -> None:
    gdf = read_layer(DATA / name)
    assert gdf["site_id"].iloc[0] == first
    assert gdf.geometry.iloc[1].equals(Point(114.1694, 22.3193))
    assert gdf.crs.to_epsg() == 4326


def test_csv_eastings_northings_take_the_given_crs() -> None:
    gdf = read_layer(DATA / "hk_sites_grid.csv", crs="EPSG:2326")
    assert gdf.crs.to_epsg() == 2326
    assert gdf.geometry.iloc[2].equals(Point(829000, 826100))


def test_csv_explicit_columns_are_matched_case_insensitively() -> None:
    gdf = read_layer(DATA / "hk_sites_custom.csv", x="e_hk1980", y="N_HK1980", crs=2326)
    assert gdf.geometry.iloc[0].equals(Point(835500, 818200))


def test_csv_explicit_column_that_does_not_exist_lists_the_columns() -> None:
    with pytest.raises(LayerError, match=r"has no column 'east'; columns present: site_id"):
        read_layer(DATA / "hk_sites_custom.csv", x="east", y="N_HK1980", crs=2326)


def test_x_without_y_is_an_option_error() -> None:
    with pytest.raises(OptionError, match=r"^y: give both x= and y="):
        read_layer(DATA / "hk_sites_custom.csv", x="E_HK1980")


def test_x_for_a_non_csv_file_is_an_option_error() -> None:
    with pytest.raises(OptionError, match="applies to CSV files only"):
        read_layer(SITES, x="lon", y="lat")


def test_csv_that_is_not_utf8_says_to_save_as_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("site_id,lon,lat\nCaf\xe9,114.1,22.3\n".encode("latin-1"))
    with pytest.raises(LayerError, match="is not UTF-8 text") as err:
        read_layer(path)
    assert "latin1.csv" in str(err.value)


# --- CRS resolution ------------------------------------------------------------------------------


def test_geojson_with_projected_coordinates_takes_the_given_crs() -> None:
    gdf = read_layer(DATA / "hk_grid_no_crs_member.geojson", crs="EPSG:2326")
    assert gdf.crs.to_epsg() == 2326
    assert gdf.geometry.iloc[0].equals(Point(835500, 818200))


def test_geojson_crs_member_is_honoured() -> None:
    gdf = read_layer(DATA / "hk_grid_crs_member.geojson")
    assert gdf.crs.to_epsg() == 2326
    assert read_layer(DATA / "hk_grid_crs_member.geojson", crs="EPSG:2326").crs.to_epsg() == 2326


def test_a_crs_that_conflicts_with_the_file_is_an_error() -> None:
    with pytest.raises(CRSError, match=r"declares CRS EPSG:2326 but crs='EPSG:32650'") as err:
        read_layer(DATA / "hk_grid_crs_member.geojson", crs="EPSG:32650")
    assert "hk_grid_crs_member.geojson" in str(err.value)


def test_lonlat_geojson_with_a_different_crs_is_a_conflict() -> None:
    with pytest.raises(CRSError, match="declares CRS EPSG:4326"):
        read_layer(SITES, crs="EPSG:2326")


def test_a_crs_pyproj_cannot_read_is_explained() -> None:
    with pytest.raises(CRSError, match="not a coordinate reference system pyproj understands"):
        read_layer(DATA / "hk_sites_grid.csv", crs="EPSG:999999")


# --- paths ---------------------------------------------------------------------------------------


def test_missing_file_is_named() -> None:
    path = DATA / "no_such_layer.geojson"
    with pytest.raises(LayerError, match=r"no_such_layer\.geojson: file not found; check the path"):
        read_layer(path)


def test_folder_lists_the_layer_files_inside(tmp_path: Path) -> None:
    shutil.copy(SITES, tmp_path / "sites.geojson")
    (tmp_path / "notes.md").write_text("not a layer")
    with pytest.raises(LayerError, match=r"is a folder, not a file; pass one of the layer files"):
        read_layer(tmp_path)
    with pytest.raises(LayerError, match=r"inside it: sites\.geojson$"):
        read_layer(tmp_path)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "locked.geojson"
    shutil.copy(SITES, path)
    path.chmod(0)
    with pytest.raises(LayerError, match="permission denied"):
        read_layer(path)


def test_file_without_read_permission_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    with pytest.raises(
        LayerError, match=r"mesa_sites\.geojson: cannot be read \(permission denied\)"
    ):
        read_layer(SITES)


def test_role_is_part_of_the_message() -> None:
    with pytest.raises(LayerError, match=r"^sites layer .*zero_features\.geojson: has no features"):
        read_layer(BAD / "zero_features.geojson", role="sites")


def test_gdal_error_is_chained() -> None:
    with pytest.raises(LayerError) as err:
        read_layer(BAD / "broken.geojson")
    assert isinstance(err.value.__cause__, pyogrio.errors.DataSourceError)


def test_reading_logs_what_was_read(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="geodata.io"):
        read_layer(SITES)
    assert "read 3 features (CRS EPSG:4326)" in caplog.text


# --- the bad-input corpus ----------------------------------------------------------------------

# file, read_layer options, validate_layer options (None: reading must fail), expected text
CORPUS = [
    ("broken.geojson", {}, None, "GDAL cannot open it as a vector layer"),
    ("zero_features.geojson", {}, None, "has no features"),
    ("projected_no_crs.geojson", {}, None, "outside longitude -180..180"),
    ("projected_no_crs.geojson", {}, None, "--crs"),
    ("swapped_latlon.csv", {}, None, "latitude and longitude look swapped"),
    ("swapped_latlon.csv", {}, None, "pass x='lat', y='lon'"),
    ("non_numeric_coords.csv", {}, None, "'lon' holds non-numeric coordinates at row 2"),
    ("non_numeric_coords.csv", {}, None, "'lat' holds non-numeric coordinates at row 4"),
    ("lon_out_of_range.csv", {}, None, "longitudes outside -180..180 at row 3 (e.g. 214.109)"),
    ("missing_coords.csv", {}, None, "column 'lon' is empty at row 2"),
    ("xy_no_crs.csv", {}, None, "pass crs=... (command line --crs)"),
    ("empty.csv", {}, None, "is empty: no header and no rows"),
    ("header_only.csv", {}, None, "has no features"),
    ("no_coordinate_columns.csv", {}, None, "columns present: site_id, address"),
    ("ragged.csv", {}, None, "Expected 3 fields in line 3, saw 5"),
    ("null_geometry.geojson", {}, {"geometry": "point"}, "has no geometry (null) at row 2"),
    ("empty_geometry.geojson", {}, {"geometry": "polygon"}, "empty geometry at row 2"),
    (
        "wrong_type_line.geojson",
        {},
        {"geometry": "point"},
        "found LineString (row 2); expected Point",
    ),
    ("multipoint.geojson", {}, {"geometry": "point"}, "found MultiPoint (row 2); expected Point"),
    (
        "collapsed_polygon.geojson",
        {},
        {"geometry": "polygon"},
        "invalid polygons at row 1 that do not repair into polygons",
    ),
    (
        "bowtie.geojson",
        {},
        {"geometry": "polygon", "repair": False},
        "invalid polygons at row 1 (row 1: Self-intersection",
    ),
    ("negative_weight.geojson", {}, {"weight": "weight"}, "'weight' is negative at row 3"),
    ("nan_weight.geojson", {}, {"weight": "weight"}, "'weight' is missing (NaN) at row 2"),
    (
        "non_numeric_weight.geojson",
        {},
        {"weight": "weight"},
        "'weight' is not numeric at row 2 (e.g. 'lots')",
    ),
    ("overflow_weight.geojson", {}, {"weight": "weight"}, "sums to more than a 64-bit float"),
    ("missing_weight_column.geojson", {}, {"weight": "weight"}, "has no weight column 'weight'"),
    (
        "duplicate_ids.geojson",
        {},
        {"id_column": "site_id"},
        "duplicate ids: 'S1' (rows 1, 3)",
    ),
    ("null_id.geojson", {}, {"id_column": "site_id"}, "id column 'site_id' is missing at row 2"),
]


@pytest.mark.parametrize(
    ("name", "read_options", "check_options", "expected"),
    CORPUS,
    ids=[f"{c[0]}:{c[3][:30]}" for c in CORPUS],
)
def test_bad_input_is_named_with_the_exact_problem(
    name: str, read_options: dict, check_options: dict | None, expected: str
) -> None:
    path = BAD / name
    if check_options is None:
        with pytest.raises(LayerError) as err:
            read_layer(path, **read_options)
    else:
        gdf = read_layer(path, **read_options)
        with pytest.raises(LayerError) as err:
            validate_layer(gdf, source=str(path), **check_options)
    message = str(err.value)
    assert message.startswith(str(path)), message
    assert expected in message, message


def test_every_bad_file_is_in_the_corpus() -> None:
    covered = {c[0] for c in CORPUS} | {"bowtie.geojson"}
    assert covered == {p.name for p in BAD.iterdir()}


# --- fingerprint -------------------------------------------------------------------------------


def test_fingerprint_of_a_file_is_sha256_of_its_bytes() -> None:
    expected = hashlib.sha256(SITES.read_bytes()).hexdigest()
    assert fingerprint(SITES) == f"sha256:{expected}"


def test_shapefile_fingerprint_covers_the_prj_but_not_the_index(
    tmp_path: Path, sites_hk: gpd.GeoDataFrame
) -> None:
    path = tmp_path / "sites.shp"
    sites_hk.to_file(path, engine="pyogrio")
    before = fingerprint(path)
    assert before != f"sha256:{hashlib.sha256(path.read_bytes()).hexdigest()}"
    path.with_suffix(".sbn").write_bytes(b"spatial index")
    assert fingerprint(path) == before
    prj = path.with_suffix(".prj")
    prj.write_text(prj.read_text() + " ")
    assert fingerprint(path) != before


def test_folder_fingerprint_is_independent_of_creation_order(tmp_path: Path) -> None:
    first, second = tmp_path / "a.gdb", tmp_path / "b.gdb"
    for folder, names in ((first, ["x", "y"]), (second, ["y", "x"])):
        folder.mkdir()
        for name in names:
            (folder / name).write_text(f"content of {name}")
    assert fingerprint(first) == fingerprint(second)
    (second / "y").rename(second / "z")
    assert fingerprint(first) != fingerprint(second)


def test_folder_fingerprint_is_independent_of_listing_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("a", "b", "c/d"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(name)
    expected = fingerprint(tmp_path)
    listed = Path.rglob
    monkeypatch.setattr(Path, "rglob", lambda self, pattern: list(listed(self, pattern))[::-1])
    assert fingerprint(tmp_path) == expected


def test_fingerprint_of_a_missing_file_is_a_layer_error() -> None:
    with pytest.raises(LayerError, match="file not found"):
        fingerprint(DATA / "no_such_layer.geojson")
