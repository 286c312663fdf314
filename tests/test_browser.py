"""The map in a real browser: headless Chromium, with no network at all.

Chromium is driven from its command line only (no extra Python dependency):
``--dump-dom`` returns the DOM after the page's scripts ran, ``--screenshot``
writes a PNG. To look inside the page, the test opens a copy of ``map.html``
with two small probe scripts added: one at the top of ``<head>`` that records
errors (uncaught exceptions, failed resource loads, ``console.error``), and one
at the end that, after load, counts the camera-set circle markers on the
Leaflet map and checks on the canvas that each is actually painted in its
phase colour, then writes the findings into the DOM as JSON.

The network is cut three ways: every host name resolves to nothing, all
traffic goes to a proxy on a closed port, and background networking is off.
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from maps.webmap.colours import BACKGROUND_COLOUR, LAND_COLOUR, WATER_COLOUR
from maps.webmap.map import save_map
from maps.webmap.tiles import tiles_from
from planner.plan.result import Plan

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        shutil.which("chromium") is None,
        reason="headless Chromium not installed (Debian: apt-get install chromium; "
        ".ci/run installs it)",
    ),
]

ARTIFACTS = Path(__file__).parent / "artifacts"
TIMEOUT_S = 120

OFFLINE_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=127.0.0.1:9",
    "--enable-logging=stderr",
    "--v=0",
    "--window-size=1280,900",
)

HEAD_PROBE = """<script>
window.__camplan_errors = [];
window.addEventListener("error", function (e) {
  var t = e.target, src = t && (t.src || t.href);
  window.__camplan_errors.push(src ? "resource: " + src : "uncaught: " + e.message);
}, true);
window.addEventListener("unhandledrejection", function (e) {
  window.__camplan_errors.push("rejection: " + e.reason);
});
(function () {
  var original = console.error;
  console.error = function () {
    window.__camplan_errors.push("console.error: " + Array.from(arguments).join(" "));
    return original.apply(console, arguments);
  };
})();
</script>
"""

TAIL_PROBE = """<script>
function __camplan_hex(px) {
  return "#" + [px[0], px[1], px[2]].map(function (v) {
    return v.toString(16).padStart(2, "0");
  }).join("");
}
window.addEventListener("load", function () {
  setTimeout(function () {
    var out = {leaflet: window.L ? L.version : null, sets: 0, painted: 0,
               background: null, errors: window.__camplan_errors};
    var el = document.querySelector(".folium-map");
    var map = el && window[el.id];
    if (map) {
      out.background = getComputedStyle(el).backgroundColor;
      var scale = L.Browser.retina ? 2 : 1;
      map.eachLayer(function (layer) {
        if (!(layer instanceof L.CircleMarker) || !layer.feature) return;
        if (!("site_id" in layer.feature.properties)) return;
        out.sets++;
        var r = layer._renderer;
        if (!r || !r._ctx || !layer._point) return;
        var p = layer._point.subtract(r._bounds.min);
        var px = r._ctx.getImageData(Math.round(p.x * scale), Math.round(p.y * scale), 1, 1).data;
        if (px[3] === 255 && __camplan_hex(px) === layer.options.fillColor.toLowerCase()) {
          out.painted++;
        }
      });
    }
    var pre = document.createElement("pre");
    pre.id = "camplan-probe";
    pre.textContent = JSON.stringify(out);
    document.body.appendChild(pre);
  }, 1000);
});
</script>
"""


def chromium(url: str, *extra: str, profile: Path) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium offline on ``url`` with ``extra`` arguments."""
    cmd = [
        "chromium",
        *OFFLINE_ARGS,
        f"--user-data-dir={profile}",
        "--virtual-time-budget=5000",
        *extra,
        url,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)


def probe(map_html: Path, tmp_path: Path) -> tuple[str, dict[str, Any], list[str]]:
    """Open an instrumented copy of ``map_html``; return the DOM, the probe, console lines."""
    page = map_html.read_text(encoding="utf-8")
    page = page.replace("<head>", "<head>\n" + HEAD_PROBE, 1)
    page = page.replace("</html>", TAIL_PROBE + "</html>", 1)
    probed = tmp_path / "probed.html"
    probed.write_text(page, encoding="utf-8")
    run = chromium(probed.as_uri(), "--dump-dom", profile=tmp_path / "profile-dom")
    assert run.returncode == 0, run.stderr[-2000:]
    found = re.search(r'<pre id="camplan-probe">(.*?)</pre>', run.stdout, re.DOTALL)
    assert found, "the probe did not report: the page's scripts did not run to the end"
    console = [line for line in run.stderr.splitlines() if "CONSOLE" in line]
    return run.stdout, json.loads(html.unescape(found.group(1))), console


def screenshot(map_html: Path, png: Path, tmp_path: Path) -> None:
    """Save a 1280x900 screenshot of ``map_html`` to ``png``."""
    png.parent.mkdir(parents=True, exist_ok=True)
    run = chromium(map_html.as_uri(), f"--screenshot={png}", profile=tmp_path / "profile-png")
    assert run.returncode == 0, run.stderr[-2000:]
    assert png.stat().st_size > 10_000


def rgb(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def uncaught(console: list[str]) -> list[str]:
    return [line for line in console if "Uncaught" in line or "Failed to load" in line]


def test_map_renders_offline(small_plan: Plan, tmp_path: Path) -> None:
    map_html = save_map(small_plan, tmp_path / "map.html", tiles=None)
    dom, found, console = probe(map_html, tmp_path)
    assert "leaflet-container" in dom
    assert found["leaflet"] == "1.9.3"
    assert found["sets"] == small_plan.n_sets
    assert found["painted"] == small_plan.n_sets
    assert found["errors"] == []
    assert uncaught(console) == []
    assert found["background"] == rgb(WATER_COLOUR)  # no tiles: water around the drawn land
    assert "<script>alert(1)</script>" not in dom.replace(TAIL_PROBE, "")
    assert "camplan-legend" in dom
    assert "leaflet-control-layers" in dom
    screenshot(map_html, ARTIFACTS / "small_map.png", tmp_path)


def test_map_usable_when_tiles_cannot_load(small_plan: Plan, tmp_path: Path) -> None:
    """With the default OpenStreetMap tiles and no network, only tile images fail.

    Tile images that cannot load are expected on a closed network; they are filtered
    out deliberately, by host, and everything else must be clean.
    """
    map_html = save_map(small_plan, tmp_path / "map.html")
    _, found, console = probe(map_html, tmp_path)
    tile_errors = [
        e for e in found["errors"] if e.startswith("resource: https://tile.openstreetmap.org/")
    ]
    assert tile_errors, "expected the tiles to fail without a network"
    assert [e for e in found["errors"] if e not in tile_errors] == []
    assert [line for line in console if "Uncaught" in line] == []
    assert found["painted"] == small_plan.n_sets
    assert found["background"] == rgb(BACKGROUND_COLOUR)
    screenshot(map_html, ARTIFACTS / "small_map_tiles_unreachable.png", tmp_path)


def _share_of(png: Path, hex_colour: str) -> float:
    """The share of the screenshot's pixels that are exactly ``hex_colour``."""
    import matplotlib.image

    pixels = (matplotlib.image.imread(png)[:, :, :3] * 255).round().astype(int)
    target = [int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)]
    return float((pixels == target).all(axis=2).mean())


def test_map_uses_the_tile_server_given(small_plan: Plan, tmp_path: Path) -> None:
    """A closed network's own tile server: the browser asks it (and only it) for tiles."""
    template = "https://tiles.city.example/base/{z}/{x}/{y}.png"
    map_html = save_map(small_plan, tmp_path / "map.html",
                        tiles=tiles_from(template, "© City Survey"))
    assert template in map_html.read_text(encoding="utf-8")
    _, found, console = probe(map_html, tmp_path)
    asked = [e for e in found["errors"] if e.startswith("resource: https://tiles.city.example/base/")]
    assert asked, "expected the browser to ask the given tile server (unreachable here)"
    assert [e for e in found["errors"] if e not in asked] == []
    assert [line for line in console if "Uncaught" in line] == []
    assert found["painted"] == small_plan.n_sets


def test_map_without_tiles_draws_the_land(small_plan: Plan, tmp_path: Path) -> None:
    """--tiles none: water background, the land (here the study area) drawn over it."""
    plan = dataclasses.replace(small_plan, districts=None)  # districts would shade the land
    map_html = save_map(plan, tmp_path / "map.html", tiles=tiles_from("none"))
    _, found, _console = probe(map_html, tmp_path)
    assert found["errors"] == []
    assert found["background"] == rgb(WATER_COLOUR)
    png = ARTIFACTS / "small_map_no_tiles.png"
    screenshot(map_html, png, tmp_path)
    assert _share_of(png, WATER_COLOUR) > 0.05  # the sea around the study area
    assert _share_of(png, LAND_COLOUR) > 0.05  # the land, where no other layer covers it
