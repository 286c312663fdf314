"""How the map scales: a synthetic 7,000-set plan the size of Hong Kong.

Builds a seeded :class:`planner.plan.Plan` directly (EPSG:2326, 7,000 sets in three
phases of 2,000/2,000/3,000, 100 m disc footprints, 20,000 demand points, 18
rectangular districts, 612 existing sets of three owners, a few exclusion zones),
saves ``map.html`` and reports:

- the time to build and write the HTML, and its size;
- the wall time of headless Chromium (offline) loading the page and dumping the DOM,
  against the same run on an empty map as the baseline;
- the time measured in the page, from the first script to the first frame painted
  after the load event (``performance.now()``, written into the DOM by a probe);
- a screenshot of the map.

Usage::

    .venv/bin/python benchmarks/map_scale.py [--out benchmarks/results/map_scale] [--runs 3]
"""

from __future__ import annotations

import argparse
import html
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import offlinefolium
from shapely.geometry import box

from maps.webmap.map import plan_map, render_map
from planner.plan.result import Certificate, PhaseResult, Plan

CRS = "EPSG:2326"  # Hong Kong 1980 Grid, metres
X0, Y0, WIDTH, HEIGHT = 806_000.0, 808_000.0, 48_000.0, 32_000.0
PHASES = (2000, 2000, 3000)
RADIUS_M = 100.0
N_DEMAND = 20_000
SEED = 2027

CHROMIUM_ARGS = (
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
    "--window-size=1280,900",
)

HEAD_PROBE = "<script>window.__t0 = performance.now();</script>"
TAIL_PROBE = """<script>
window.addEventListener("load", function () {
  var loaded = performance.now();
  requestAnimationFrame(function () { requestAnimationFrame(function () {
    var pre = document.createElement("pre");
    pre.id = "camplan-timing";
    pre.textContent = JSON.stringify({
      scripts_ms: loaded - window.__t0,
      first_frame_ms: performance.now() - window.__t0,
      dom_nodes: document.getElementsByTagName("*").length
    });
    document.body.appendChild(pre);
  }); });
});
</script>"""


def _clustered_points(rng: np.random.Generator, n: int) -> np.ndarray:
    """Points around a few dense urban cores, like Kowloon and the north shore."""
    centres = rng.uniform(
        [X0 + 5_000, Y0 + 5_000], [X0 + WIDTH - 5_000, Y0 + HEIGHT - 5_000], (12, 2)
    )
    spread = rng.uniform(800, 3_000, 12)
    which = rng.integers(0, 12, n)
    xy = centres[which] + rng.normal(0, 1, (n, 2)) * spread[which, None]
    return np.clip(xy, [X0, Y0], [X0 + WIDTH, Y0 + HEIGHT])


def synthetic_plan(seed: int = SEED) -> Plan:
    """A seeded 7,000-set plan in EPSG:2326."""
    rng = np.random.default_rng(seed)
    demand_xy = _clustered_points(rng, N_DEMAND)
    weights = rng.gamma(1.5, 1.0, N_DEMAND).round(6)
    total = float(weights.sum())
    n_sets = sum(PHASES)
    site_xy = _clustered_points(rng, n_sets)
    marginal = np.sort(rng.gamma(1.2, total * 0.6 / n_sets / 1.2, n_sets))[::-1]
    cum = np.cumsum(marginal)
    phase = np.repeat(np.arange(1, len(PHASES) + 1), PHASES)
    sites = gpd.GeoDataFrame(
        {
            "site_id": [f"HK-{i:05d}" for i in range(n_sets)],
            "rank": np.arange(1, n_sets + 1),
            "phase": phase,
            "marginal_weight": marginal,
            "cumulative_weight": cum,
            "cumulative_share": cum / total,
            "mount_type": rng.choice(
                ["lamp post", "smart pole", "building", "interchange"], n_sets
            ),
        },
        geometry=gpd.points_from_xy(site_xy[:, 0], site_xy[:, 1]),
        crs=CRS,
    )
    footprints = gpd.GeoDataFrame(
        sites[["site_id", "rank", "phase"]].copy(), geometry=sites.buffer(RADIUS_M), crs=CRS
    )
    demand = gpd.GeoDataFrame(
        {"weight": weights, "covered": rng.uniform(0, 1, N_DEMAND).round(3)},
        geometry=gpd.points_from_xy(demand_xy[:, 0], demand_xy[:, 1]),
        crs=CRS,
    )
    cells = [
        box(
            X0 + i * WIDTH / 6,
            Y0 + j * HEIGHT / 3,
            X0 + (i + 1) * WIDTH / 6,
            Y0 + (j + 1) * HEIGHT / 3,
        )
        for j in range(3)
        for i in range(6)
    ]
    share = rng.uniform(0.2, 0.9, 18)
    pop = rng.integers(50_000, 600_000, 18)
    sets = rng.multinomial(n_sets, np.full(18, 1 / 18))
    districts = gpd.GeoDataFrame(
        {
            "district": [f"District {k + 1}" for k in range(18)],
            "sets": sets,
            "covered_weight": share * total / 18,
            "total_weight": np.full(18, total / 18),
            "covered_share": share,
            "population": pop,
            "sets_per_1000": sets / pop * 1000,
        },
        geometry=cells,
        crs=CRS,
    )
    existing_xy = _clustered_points(rng, 612)
    existing = gpd.GeoDataFrame(
        {"owner": rng.choice(["Police", "MTR", "Transport Department"], 612)},
        geometry=gpd.points_from_xy(existing_xy[:, 0], existing_xy[:, 1]),
        crs=CRS,
    )
    exclusions = gpd.GeoDataFrame(
        {"name": [f"school {k}" for k in range(5)]},
        geometry=[
            box(x, y, x + 300, y + 200)
            for x, y in rng.uniform([X0, Y0], [X0 + WIDTH, Y0 + HEIGHT], (5, 2))
        ],
        crs=CRS,
    )
    curve = np.concatenate([[0.0], cum])
    ends = np.cumsum(PHASES)
    phases = tuple(
        PhaseResult(
            k + 1,
            PHASES[k],
            int(ends[k]),
            float(cum[ends[k] - 1]),
            float(cum[ends[k] - 1] / total),
            float(cum[ends[k] - 1]),
            min(total, float(cum[ends[k] - 1]) * 1.02),
        )
        for k in range(len(PHASES))
    )
    ub = min(total, float(cum[-1]) * 1.02)
    return Plan(
        sites=sites,
        demand=demand,
        footprints=footprints,
        total_weight=total,
        covered_weight=float(cum[-1]),
        curve=curve,
        phases=phases,
        certificate=Certificate(ub, (ub - cum[-1]) / ub, "online-submodular", False),
        radius_m=RADIUS_M,
        crs=CRS,
        existing=existing,
        districts=districts,
        exclusions=exclusions,
        title="Hong Kong, synthetic: 7,000 camera sets",
    )


def _chromium(url: str, *extra: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Wall time (s) and result of one offline headless Chromium run."""
    with tempfile.TemporaryDirectory() as profile:
        cmd = ["chromium", *CHROMIUM_ARGS, f"--user-data-dir={profile}", *extra, url]
        t0 = time.perf_counter()
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=True)
        return time.perf_counter() - t0, run


def _probed(page: Path) -> Path:
    """A copy of ``page`` with the timing probe."""
    text = page.read_text(encoding="utf-8")
    text = text.replace("<head>", "<head>" + HEAD_PROBE, 1).replace(
        "</html>", TAIL_PROBE + "</html>", 1
    )
    out = page.with_name(page.stem + "_probed.html")
    out.write_text(text, encoding="utf-8")
    return out


def measure(page: Path, runs: int) -> dict[str, float]:
    """Median wall time of ``--dump-dom`` runs and the in-page timings."""
    walls, scripts, frames = [], [], []
    probed = _probed(page)
    for _ in range(runs):
        wall, run = _chromium(probed.as_uri(), "--virtual-time-budget=10000", "--dump-dom")
        found = re.search(r'<pre id="camplan-timing">(.*?)</pre>', run.stdout, re.DOTALL)
        if found is None:
            raise RuntimeError(f"no timing from {page}; stderr: {run.stderr[-1000:]}")
        timing = json.loads(html.unescape(found.group(1)))
        walls.append(wall)
        scripts.append(timing["scripts_ms"])
        frames.append(timing["first_frame_ms"])
    return {
        "wall_s": statistics.median(walls),
        "scripts_ms": statistics.median(scripts),
        "first_frame_ms": statistics.median(frames),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/map_scale"))
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    args.out = args.out.resolve()
    args.out.mkdir(parents=True, exist_ok=True)

    t0 = time.perf_counter()
    plan = synthetic_plan()
    t1 = time.perf_counter()
    page = render_map(plan_map(plan))
    t2 = time.perf_counter()
    map_html = args.out / "map.html"
    map_html.write_text(page, encoding="utf-8")
    print(
        f"plan: {plan.n_sets:,} sets, {len(plan.demand):,} demand points ({t1 - t0:.1f} s to build)"
    )
    print(f"map.html: {len(page.encode()) / 1e6:.2f} MB, built and rendered in {t2 - t1:.2f} s")

    empty = offlinefolium.Map(tiles=None, prefer_canvas=True)
    empty.default_js = empty.default_js[:1]  # Leaflet only, as maps.webmap does
    empty.default_css = empty.default_css[:1]
    empty_html = args.out / "empty.html"
    empty_html.write_text(empty.get_root().render(), encoding="utf-8")

    if shutil.which("chromium") is None:
        print("chromium not found: no browser timings (apt-get install chromium)")
        return 0
    base = measure(empty_html, args.runs)
    full = measure(map_html, args.runs)
    print(
        f"chromium --headless --dump-dom, median of {args.runs} (offline, OSM tiles unreachable):"
    )
    for name, res in (("empty map", base), ("7,000-set map", full)):
        print(
            f"  {name:14s} wall {res['wall_s']:5.2f} s | in page: load event"
            f" {res['scripts_ms']:6.0f} ms, first frame after it {res['first_frame_ms']:6.0f} ms"
        )
    print(f"  cost of the plan's layers: {full['wall_s'] - base['wall_s']:.2f} s wall")
    png = args.out / "map_7000.png"
    wall, _ = _chromium(map_html.as_uri(), "--virtual-time-budget=10000", f"--screenshot={png}")
    print(f"screenshot {png} ({wall:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
