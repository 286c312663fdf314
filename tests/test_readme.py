"""The README's Python example runs as written, on small layers made here."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point

ROOT = Path(__file__).resolve().parents[1]


def _example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    (block,) = [b for b in blocks if "plan_sites" in b]
    return block


def test_readme_python_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(7)
    crs = "EPSG:2326"
    xy = rng.uniform([835_000, 818_000], [836_000, 819_000], size=(200, 2))
    gpd.GeoDataFrame({"people": rng.gamma(2.0, 1.0, 200)},
                     geometry=[Point(x, y) for x, y in xy], crs=crs).to_file(
        tmp_path / "footfall.gpkg")
    poles = rng.uniform([835_000, 818_000], [836_000, 819_000], size=(40, 2))
    gpd.GeoDataFrame({"pole_id": [f"LP{k:04d}" for k in range(40)]},
                     geometry=[Point(x, y) for x, y in poles], crs=crs).to_crs(4326).to_file(
        tmp_path / "lamp_posts.geojson", driver="GeoJSON")
    monkeypatch.chdir(tmp_path)
    exec(compile(_example(), "README.md", "exec"), {})
    assert "covered, at least" in capsys.readouterr().out
    sites = json.loads((tmp_path / "out/hk/sites.geojson").read_text(encoding="utf-8"))
    assert {f["properties"]["site_id"][:2] for f in sites["features"]} == {"LP"}
    assert (tmp_path / "out/hk/map.html").is_file()
