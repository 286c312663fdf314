"""Comparing plans: the numbers, the page, the sweeps and the command line."""

from __future__ import annotations

import csv
import dataclasses
import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point, box

import planner.scenario
from maps.cli.main import main
from maps.compare.plans import compare_plans, load_plan
from maps.compare.run import ComparisonOutput, write_comparison_folder
from maps.compare.sweep import parse_values, plan_prefix, rank_coverage, sweep_scenario
from maps.export.folder import write_plan
from maps.export.tables import curve_to_csv
from planner.plan.result import Certificate, Plan

QUIET = ComparisonOutput(interactive_map=False)
"""Sweeps written without the interactive comparison map (faster)."""

HOSTILE = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
CRS = "EPSG:32612"
EXTERNAL = re.compile(
    r"<(?:script|link|img|iframe)\b[^>]*(?:src|href)\s*=\s*[\"']?\s*(?:https?:)?//", re.IGNORECASE
)


# --------------------------------------------------------------------------- plans


def _first_phase(plan: Plan) -> Plan:
    """The small plan cut to its first phase (3 sets), by hand."""
    k = plan.phases[0].cumulative_sets
    districts = plan.districts.assign(sets=[2, 1], covered_share=[0.5, 0.25])
    ub = plan.phases[0].upper_bound
    return dataclasses.replace(
        plan, sites=plan.sites.iloc[:k].copy(), footprints=plan.footprints.iloc[:k].copy(),
        curve=plan.curve[: k + 1], covered_weight=float(plan.curve[k]),
        phases=plan.phases[:1], districts=districts, title="first phase",
        certificate=Certificate(ub, (ub - plan.curve[k]) / ub, "online-submodular", False),
    )


def _other_sites(plan: Plan) -> Plan:
    """The small plan with its first site replaced by another id (S9)."""
    sites = plan.sites.copy()
    sites.loc[0, "site_id"] = "S9"
    districts = plan.districts.assign(covered_share=[0.7, 0.45])
    return dataclasses.replace(plan, sites=sites, districts=districts, title="other sites")


@pytest.fixture
def folders(small_plan: Plan, tmp_path: Path) -> list[Path]:
    """Three plan folders: A (3 sets), B (5 sets), C (B with S1 -> S9). A's name is hostile."""
    plans = {"<em>A": _first_phase(small_plan), "B": small_plan, "C": _other_sites(small_plan)}
    return [write_plan(p, tmp_path / "plans" / name) for name, p in plans.items()]


def _summary(folder: Path) -> dict:
    return json.loads((folder / "summary.json").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- curve.csv


def test_curve_csv_has_one_row_per_number_of_sets(small_plan: Plan, tmp_path: Path) -> None:
    with curve_to_csv(small_plan, tmp_path / "curve.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["sets"]) for r in rows] == list(range(6))
    assert [int(r["phase"]) for r in rows] == [0, 1, 1, 1, 2, 2]
    assert [float(r["covered_weight"]) for r in rows] == list(small_plan.curve)
    assert float(rows[-1]["covered_share"]) == pytest.approx(small_plan.coverage_share)


def test_plan_folders_hold_curve_csv(folders: list[Path]) -> None:
    assert all((f / "curve.csv").is_file() for f in folders)


# --------------------------------------------------------------------------- the numbers


def test_values_match_the_plans_summaries(folders: list[Path]) -> None:
    cmp = compare_plans([load_plan(f) for f in folders])
    assert cmp.labels == ("<em>A", "B", "C")
    for record, folder in zip(cmp.plans, folders, strict=True):
        summary = _summary(folder)
        assert record.n_sets == summary["n_sets"]
        assert record.covered_weight == summary["covered_weight"]
        assert record.coverage_share == summary["coverage_share"]
        assert record.gap == summary["gap"]
        assert record.upper_bound == summary["upper_bound"]
        assert dict(record.owners) == summary["owners"]
        assert record.curve[-1] == pytest.approx(summary["covered_weight"])
    a, b, _ = cmp.plans
    assert [r.covered_share for r in a.districts] == [0.5, 0.25]
    assert [r.sets for r in b.districts] == [3, 2]
    assert [r.district for r in b.districts] == ["West", HOSTILE]


def test_common_and_only_counts(folders: list[Path]) -> None:
    cmp = compare_plans([load_plan(f) for f in folders])
    ab, bc = cmp.pairs
    assert (ab.common, ab.only_a, ab.only_b) == (3, 0, 2)
    assert (bc.common, bc.only_a, bc.only_b) == (4, 1, 1)
    groups = {g.name(cmp.labels): set(g.site_ids) for g in cmp.groups}
    assert groups == {
        "in all 3 plans": {"S2", HOSTILE},
        "in <em>A and B": {"S1"},
        "in B and C": {"S4", "S5"},
        "only in C": {"S9"},
    }
    assert cmp.groups[0].name(cmp.labels) == "in all 3 plans"


def test_marginal_returns_by_hand(small_plan: Plan, folders: list[Path]) -> None:
    curve, total = small_plan.curve, small_plan.total_weight
    cmp = compare_plans([load_plan(f) for f in folders[:2]], unit=2)
    steps = [(s.start, s.end, s.weight) for s in cmp.steps if s.label == "B"]
    assert steps == [(0, 2, pytest.approx(curve[2] - curve[0])),
                     (2, 4, pytest.approx(curve[4] - curve[2])),
                     (4, 5, pytest.approx(curve[5] - curve[4]))]
    last = next(s for s in cmp.steps if s.label == "B" and s.start == 4)
    assert last.per_unit_share == pytest.approx((curve[5] - curve[4]) / total * 2)
    (pair,) = compare_plans([load_plan(f) for f in folders[:2]], unit=1000).pairs
    assert pair.extra_sets == 2
    assert pair.extra_weight == pytest.approx(curve[5] - curve[3])
    assert pair.per_unit_weight == pytest.approx((curve[5] - curve[3]) / 2 * 1000)
    assert pair.per_unit_share == pytest.approx((curve[5] - curve[3]) / total / 2 * 1000)
    assert pair.same_demand


def test_returns_are_per_1000_sets_for_large_plans() -> None:
    from maps.compare.plans import default_unit

    assert default_unit(7000) == 1000
    assert default_unit(2000) == 1000
    assert default_unit(12) == 2
    assert default_unit(5) == 1


def test_fewer_than_two_plans_is_an_option_error(folders: list[Path]) -> None:
    from geodata.errors import OptionError

    with pytest.raises(OptionError, match="at least two plans"):
        compare_plans([load_plan(folders[0])])


# --------------------------------------------------------------------------- the page


@pytest.fixture
def page(folders: list[Path], tmp_path: Path) -> Path:
    return write_comparison_folder(tmp_path / "cmp", [load_plan(f) for f in folders])


def test_writes_the_page_and_its_files(page: Path) -> None:
    assert {p.name for p in page.iterdir()} == {
        "compare.html", "compare.md", "comparison.json", "curves.png", "sites.png",
        "compare_map.html"}
    for name in ("curves.png", "sites.png"):
        assert (page / name).read_bytes().startswith(b"\x89PNG")


def test_table_values_match_the_plans(page: Path, folders: list[Path]) -> None:
    md = (page / "compare.md").read_text(encoding="utf-8")
    html = (page / "compare.html").read_text(encoding="utf-8")
    shares = [f"{_summary(f)['coverage_share'] * 100:.2f} %" for f in folders]
    assert f"| Covered share | {' | '.join(shares)} |" in md
    assert "<td>Covered share</td>" + "".join(f"<td>{s}</td>" for s in shares) in html
    sets = " | ".join(str(_summary(f)["n_sets"]) for f in folders)
    assert f"| New camera sets | {sets} |" in md
    assert "| B → C | 4 | 1 | 1 |" in md
    data = json.loads((page / "comparison.json").read_text(encoding="utf-8"))
    for plan, folder in zip(data["plans"], folders, strict=True):
        summary = _summary(folder)
        for key in ("n_sets", "covered_weight", "coverage_share", "gap", "upper_bound"):
            assert plan[key] == summary[key], key


def test_per_district_differences(page: Path) -> None:
    md = (page / "compare.md").read_text(encoding="utf-8")
    # West: A 50 %, B 60 %, C 70 %: +10 pp, +10 pp.
    assert "| West | 50.00 % | 60.00 % | 70.00 % | +10.00 pp | +10.00 pp |" in md


def test_hostile_names_are_text(page: Path) -> None:
    html = (page / "compare.html").read_text(encoding="utf-8")
    md = (page / "compare.md").read_text(encoding="utf-8")
    assert HOSTILE not in html
    assert "<em>A" not in html
    assert ESCAPED in html
    assert "&lt;em&gt;A" in html
    assert "<script" not in html.lower()
    assert HOSTILE not in md
    assert "<em>" not in md
    assert "&lt;script&gt;" in md
    assert HOSTILE not in (page / "compare_map.html").read_text(encoding="utf-8")


def test_page_is_self_contained(page: Path) -> None:
    html = (page / "compare.html").read_text(encoding="utf-8")
    assert not EXTERNAL.search(html)
    assert not re.search(r"https?://", html)
    assert html.count('src="data:image/png;base64,') == 2
    assert 'href="compare_map.html"' in html
    map_html = (page / "compare_map.html").read_text(encoding="utf-8")
    assert not EXTERNAL.search(map_html)


def test_output_is_byte_deterministic(folders: list[Path], tmp_path: Path) -> None:
    one = write_comparison_folder(tmp_path / "one", [load_plan(f) for f in folders])
    two = write_comparison_folder(tmp_path / "two", [load_plan(f) for f in folders])
    names = sorted(p.name for p in one.iterdir())
    assert names == sorted(p.name for p in two.iterdir())
    for name in names:
        assert (one / name).read_bytes() == (two / name).read_bytes(), name


def test_an_existing_comparison_needs_overwrite(page: Path, folders: list[Path]) -> None:
    from geodata.errors import OutputError

    records = [load_plan(f) for f in folders[:2]]
    with pytest.raises(OutputError, match="--overwrite"):
        write_comparison_folder(page, records)
    write_comparison_folder(page, records, overwrite=True)
    assert "C" not in json.loads((page / "comparison.json").read_text())["plans"][-1]["label"]


# --------------------------------------------------------------------------- sweeps


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    """A tiny scenario: 400 weighted demand points, 40 candidate sites, two districts."""
    x0, y0 = 412_000.0, 3_697_000.0
    rng = np.random.default_rng(11)
    xy = rng.uniform(0, 400, size=(400, 2))
    demand = gpd.GeoDataFrame({"weight": rng.gamma(2.0, 1.0, 400).round(4)},
                              geometry=[Point(x0 + x, y0 + y) for x, y in xy], crs=CRS)
    sxy = rng.uniform(0, 400, size=(40, 2))
    sites = gpd.GeoDataFrame({"pole": [f"P{i:02d}" for i in range(40)]},
                             geometry=[Point(x0 + x, y0 + y) for x, y in sxy], crs=CRS)
    districts = gpd.GeoDataFrame(
        {"name": ["West", "East"], "people": [5000, 3000]},
        geometry=[box(x0 - 1, y0 - 1, x0 + 200, y0 + 401), box(x0 + 200, y0 - 1, x0 + 401,
                                                               y0 + 401)], crs=CRS)
    existing = gpd.GeoDataFrame({"owner": ["MTR"]}, geometry=[Point(x0 + 200, y0 + 200)],
                                crs=CRS)
    demand.to_file(tmp_path / "demand.gpkg")
    sites.to_file(tmp_path / "sites.gpkg")
    districts.to_file(tmp_path / "districts.gpkg")
    existing.to_file(tmp_path / "mtr.gpkg")
    path = tmp_path / "tiny.toml"
    path.write_text(
        'title = "Tiny town"\ndemand = "demand.gpkg"\nsites = "sites.gpkg"\nsite_id = "pole"\n'
        'radius = 40\nsets = 3\nexisting = ["mtr.gpkg"]\ndistricts = "districts.gpkg"\n'
        'district_name = "name"\npopulation = "people"\nexact = false\n', encoding="utf-8")
    return path


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list:
    """Every scenario the sweep plans (the optimisations it runs)."""
    seen: list = []
    real = planner.scenario.run_scenario

    def counting(scenario, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(scenario)
        return real(scenario, **kwargs)

    monkeypatch.setattr(planner.scenario, "run_scenario", counting)
    return seen


def test_a_sweep_over_sets_is_one_nested_run(scenario: Path, runs: list, tmp_path: Path) -> None:
    out = sweep_scenario(scenario, "sets", (2, 4, 7), tmp_path / "sweep", output=QUIET)
    assert len(runs) == 1
    assert runs[0].sets == 7
    assert runs[0].phases == (2, 2, 3)
    names = ["sets-2", "sets-4", "sets-7"]
    assert sorted(p.name for p in (out / "plans").iterdir()) == names
    ids = {n: [f["properties"]["site_id"] for f in
               json.loads((out / "plans" / n / "sites.geojson").read_text())["features"]]
           for n in names}
    assert ids["sets-7"][:2] == ids["sets-2"]
    assert ids["sets-7"][:4] == ids["sets-4"]
    full = _summary(out / "plans" / "sets-7")
    assert [p["cumulative_sets"] for p in full["phases"]] == [2, 4, 7]
    for n, k in zip(names, (2, 4, 7), strict=True):
        summary = _summary(out / "plans" / n)
        assert summary["n_sets"] == k
        assert summary["covered_weight"] == full["phases"][names.index(n)]["covered_weight"]
        with (out / "plans" / n / "districts.csv").open(encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        assert sum(int(r["sets"]) for r in rows) == k
        assert sum(float(r["covered_weight"]) for r in rows) == pytest.approx(
            summary["covered_weight"])
    data = json.loads((out / "comparison.json").read_text())
    assert [p["n_sets"] for p in data["plans"]] == [2, 4, 7]
    assert [(d["common"], d["only_a"], d["only_b"]) for d in data["pairs"]] == [(2, 0, 2),
                                                                                (4, 0, 3)]


def test_a_prefix_plan_covers_its_curve(scenario: Path) -> None:
    from planner.scenario import load_scenario, run_scenario

    plan = run_scenario(load_scenario(scenario).with_values(sets=5, phases=(2, 3)))
    cover = rank_coverage(plan)
    assert cover is not None
    first = plan_prefix(plan, 2, coverage=cover)
    covered = float(np.dot(first.demand["weight"], first.demand["covered"]))
    assert covered == pytest.approx(plan.curve[2])
    assert first.covered_weight == plan.curve[2]
    assert first.n_sets == 2
    assert first.certificate.upper_bound == plan.phases[0].upper_bound
    assert plan_prefix(plan, 5) is plan


def test_a_sweep_over_radius_runs_once_per_value(
    scenario: Path, runs: list, tmp_path: Path
) -> None:
    out = sweep_scenario(scenario, "radius", (30.0, 60.0), tmp_path / "sweep",
                         output=QUIET)
    assert [s.radius for s in runs] == [30.0, 60.0]
    data = json.loads((out / "comparison.json").read_text())
    assert [p["radius_m"] for p in data["plans"]] == [30.0, 60.0]
    assert data["plans"][1]["coverage_share"] > data["plans"][0]["coverage_share"]


@pytest.mark.parametrize(
    ("parameter", "text", "needle"),
    [("sets", "2000,abc", "whole numbers"), ("sets", "2000", "at least two"),
     ("sets", "2000,2000", "repeated"), ("radius", "50,-1", "above 0"),
     ("rule", "product,max", "unknown weighting rule")],
)
def test_sweep_values_are_checked(parameter: str, text: str, needle: str) -> None:
    from geodata.errors import OptionError

    with pytest.raises(OptionError, match=needle):
        parse_values(parameter, text)


def test_sweep_values_parse() -> None:
    assert parse_values("sets", "7000, 2_000,4000") == (2000, 4000, 7000)
    assert parse_values("radius", "50,75.5") == (50.0, 75.5)
    assert parse_values("rule", "product,sum") == ("product", "sum")


# --------------------------------------------------------------------------- command line


def test_cli_compare_of_folders(folders: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "cli"
    assert main(["compare", *map(str, folders), "--out", str(out)]) == 0
    assert (out / "compare.html").is_file()
    assert (out / "compare_map.html").is_file()


def test_cli_sweep_over_sets(scenario: Path, runs: list, tmp_path: Path) -> None:
    out = tmp_path / "cli-sweep"
    assert main(["sweep", str(scenario), "--sets", "2,5", "--out", str(out)]) == 0
    assert len(runs) == 1
    assert (out / "plans" / "sets-5" / "map.html").is_file()
    assert "sets-2 → sets-5" in (out / "compare.md").read_text(encoding="utf-8")


def _fails(args: list[str], capsys: pytest.CaptureFixture[str], *needles: str) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    for needle in needles:
        assert needle in err, err


def test_cli_errors_exit_2(
    folders: list[Path], scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    out = str(tmp_path / "never")
    _fails(["compare", str(folders[0]), str(empty), "--out", out], capsys, "summary.json")
    _fails(["compare", str(folders[0]), str(tmp_path / "nope"), "--out", out], capsys, "nope")
    _fails(["compare", str(folders[0]), "--out", out], capsys, "at least two plans")
    _fails(["sweep", str(scenario), "--sets", "2,4", "--radius", "30,60", "--out", out],
           capsys, "exactly one")
    _fails(["sweep", str(scenario), "--out", out], capsys, "exactly one")
    _fails(["sweep", str(scenario), "--sets", "two,four", "--out", out], capsys, "--sets")
    _fails(["sweep", str(scenario), "--radius", "30,x", "--out", out], capsys, "--radius")
    _fails(["sweep", str(scenario), "--rule", "product,sum", "--out", out], capsys,
           "--rule", "[surface]")
    _fails(["sweep", str(tmp_path / "missing.toml"), "--sets", "2,4", "--out", out], capsys,
           "missing.toml")
    assert not Path(out).exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".camplan-")]
