"""The coverage curve and the Markdown / HTML report."""

from __future__ import annotations

import base64
import dataclasses
import re
import struct
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from conftest import HOSTILE

from maps.report import report
from planner.plan.result import Plan

ESCAPED_HTML = "&lt;script&gt;alert(1)&lt;/script&gt;"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_chunks(data: bytes) -> list[bytes]:
    """The chunk types of a PNG file, in order."""
    assert data.startswith(PNG_SIGNATURE)
    chunks, pos = [], len(PNG_SIGNATURE)
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        chunks.append(data[pos + 4 : pos + 8] + data[pos + 8 : pos + 8 + min(length, 20)])
        pos += 12 + length
    return chunks


def _md_table(markdown: str, heading: str) -> list[list[str]]:
    """The body rows of the first table after ``## heading``."""
    section = markdown.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    return [[c.strip() for c in line.strip("|").split(" | ")] for line in lines[2:]]


@pytest.fixture
def hostile_plan(small_plan: Plan) -> Plan:
    """The small plan with hostile text in every free-text field the report shows."""
    sites = small_plan.sites.copy()
    sites["mount_type"] = [
        '"><img src=x onerror=alert(2)>',
        "a|b",
        "*bold* _it_",
        "`code`",
        "[l](u)",
    ]
    return dataclasses.replace(
        small_plan,
        sites=sites,
        owners={"<b>MTR</b>": small_plan.existing_weight},
        parameters={"<i>key</i>": "<u>value</u>", "radius_m": 150.0},
        inputs={"demand": "sha256:<x>"},
    )


@pytest.fixture
def written(hostile_plan: Plan, tmp_path: Path) -> tuple[str, str]:
    paths = report.write_report(hostile_plan, tmp_path)
    assert [p.name for p in paths] == ["coverage.png", "report.md", "report.html"]
    markdown = (tmp_path / "report.md").read_text("utf-8")
    return markdown, (tmp_path / "report.html").read_text("utf-8")


# --------------------------------------------------------------------------- escaping


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (HOSTILE, ESCAPED_HTML),
        ("a|b", "a\\|b"),
        ("*x* _y_ `z` [l](u)", "\\*x\\* \\_y\\_ \\`z\\` \\[l\\](u)"),
        ("a & b", "a &amp; b"),
        ("back\\slash", "back\\\\slash"),
        ("two\nlines", "two lines"),
    ],
)
def test_escape_markdown(text: str, expected: str) -> None:
    assert report.escape_markdown(text) == expected


def test_markdown_never_holds_raw_hostile_text(written: tuple[str, str]) -> None:
    markdown, _ = written
    assert HOSTILE not in markdown
    assert "<" not in markdown
    assert ">" not in markdown
    assert markdown.count(ESCAPED_HTML) >= 3  # title, district, site
    assert "&lt;b&gt;MTR&lt;/b&gt;" in markdown
    assert "a\\|b" in markdown
    assert "\\*bold\\* \\_it\\_" in markdown


def test_html_never_holds_raw_hostile_text(written: tuple[str, str]) -> None:
    _, html = written
    assert HOSTILE not in html
    assert "<script" not in html
    assert "<img src=x" not in html
    assert "<b>MTR" not in html
    assert "<i>key" not in html
    assert "&lt;u&gt;value&lt;/u&gt;" in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(2)&gt;" in html
    assert html.count(ESCAPED_HTML) >= 4  # <title>, <h1>, district, site


def test_html_is_self_contained(written: tuple[str, str], hostile_plan: Plan) -> None:
    _, html = written
    assert not re.search(r"(src|href)=\"(https?:)?//", html)
    match = re.search(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert match is not None
    assert base64.b64decode(match.group(1)) == report.render_curve(hostile_plan)
    assert "Content-Security-Policy" in html


# --------------------------------------------------------------------------- the curve


def test_png_is_byte_identical_between_renders(small_plan: Plan, tmp_path: Path) -> None:
    a = report.coverage_curve_png(small_plan, tmp_path / "a.png").read_bytes()
    b = report.coverage_curve_png(small_plan, tmp_path / "b.png").read_bytes()
    assert a == b
    chunks = _png_chunks(a)
    assert not any(c.startswith(b"tIME") for c in chunks)
    assert not any(b"Software" in c for c in chunks)


def test_png_differs_when_the_plan_differs(small_plan: Plan) -> None:
    other = dataclasses.replace(small_plan, curve=small_plan.curve * 0.5)
    assert report.render_curve(small_plan) != report.render_curve(other)


def test_png_title_with_dollar_signs_is_not_mathtext(small_plan: Plan) -> None:
    plan = dataclasses.replace(small_plan, title="budget $5 and $x^")
    assert report.render_curve(plan).startswith(PNG_SIGNATURE)


def test_png_of_an_empty_plan(small_plan: Plan) -> None:
    plan = dataclasses.replace(
        small_plan, sites=small_plan.sites.iloc[:0], curve=small_plan.curve[:1], phases=()
    )
    assert report.render_curve(plan).startswith(PNG_SIGNATURE)


# --------------------------------------------------------------------------- the numbers


def test_summary_states_the_bound(small_plan: Plan, tmp_path: Path) -> None:
    report.write_report(small_plan, tmp_path)
    markdown = (tmp_path / "report.md").read_text("utf-8")
    best = small_plan.covered_weight / small_plan.certificate.upper_bound
    assert f"at least {best * 100:.2f} % of the best possible" in markdown
    assert f"gap {small_plan.certificate.gap * 100:.2f} %" in markdown
    assert f"cover {small_plan.coverage_share * 100:.2f} % of the demand weight" in markdown
    assert "online-submodular" in markdown
    assert "![Coverage curve](coverage.png)" in markdown


def test_phase_table_matches_the_plan(small_plan: Plan, tmp_path: Path) -> None:
    report.write_report(small_plan, tmp_path)
    rows = _md_table((tmp_path / "report.md").read_text("utf-8"), "Phases")
    total = small_plan.total_weight
    assert rows == [
        [
            str(p.phase),
            str(p.n_sets),
            str(p.cumulative_sets),
            f"{p.covered_weight / total * 100:.2f} %",
            f"{p.greedy_weight / total * 100:.2f} %",
            f"{p.upper_bound / total * 100:.2f} %",
            f"{p.covered_weight / p.upper_bound * 100:.2f} %",
        ]
        for p in small_plan.phases
    ]


def test_owner_and_district_tables_match_the_plan(small_plan: Plan, tmp_path: Path) -> None:
    report.write_report(small_plan, tmp_path)
    markdown = (tmp_path / "report.md").read_text("utf-8")
    weight = small_plan.existing_weight
    share = f"{weight / small_plan.total_weight * 100:.2f} %"
    owners = _md_table(markdown, "Existing cameras by owner")
    assert owners[0] == ["MTR", f"{weight:,.2f}", share]
    added = small_plan.covered_weight - weight
    assert owners[2][:2] == ["added by the 5 new sets", f"{added:,.2f}"]
    assert owners[3][1] == f"{small_plan.covered_weight:,.2f}"
    districts = _md_table(markdown, "Districts")
    assert districts[0][:5] == ["West", "3", "60.00 %", "12,000", "0.250"]
    assert districts[1][0] == ESCAPED_HTML
    assert districts[1][2] == "40.00 %"


def test_top_sites_are_the_first_twenty_by_rank(small_plan: Plan, tmp_path: Path) -> None:
    many = pd.concat([small_plan.sites] * 5, ignore_index=True)
    many["rank"] = range(len(many), 0, -1)  # reversed: the report must sort by rank
    many["site_id"] = [f"T{r}" for r in many["rank"]]
    plan = dataclasses.replace(small_plan, sites=gpd.GeoDataFrame(many, crs=small_plan.crs))
    report.write_report(plan, tmp_path)
    rows = _md_table((tmp_path / "report.md").read_text("utf-8"), "Top 20 sites")
    assert [r[0] for r in rows] == [str(i) for i in range(1, 21)]
    assert [r[1] for r in rows] == [f"T{i}" for i in range(1, 21)]


def test_optional_sections_are_left_out(small_plan: Plan, tmp_path: Path) -> None:
    plan = dataclasses.replace(small_plan, districts=None, owners={}, existing=None)
    report.write_report(plan, tmp_path)
    markdown = (tmp_path / "report.md").read_text("utf-8")
    html = (tmp_path / "report.html").read_text("utf-8")
    for text in (markdown, html):
        assert "Districts" not in text
        assert "Existing cameras by owner" not in text
        assert "Phases" in text


def test_report_is_deterministic(small_plan: Plan, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    paths_a, paths_b = report.write_report(small_plan, a), report.write_report(small_plan, b)
    for pa, pb in zip(paths_a, paths_b, strict=True):
        assert pa.read_bytes() == pb.read_bytes()


def test_summary_says_when_demand_has_no_crime(small_plan: Plan, tmp_path: Path) -> None:
    surface = {"components": ["population", "attractors"], "crime": False}
    plan = dataclasses.replace(small_plan, parameters={**small_plan.parameters,
                                                       "surface": surface})
    report.write_report(plan, tmp_path)
    text = (tmp_path / "report.md").read_text("utf-8")
    assert "Demand is footfall only (population, attractors)" in text
    (tmp_path / "plain").mkdir()
    report.write_report(small_plan, tmp_path / "plain")
    assert "footfall only" not in (tmp_path / "plain" / "report.md").read_text("utf-8")
