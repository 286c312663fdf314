"""The comparison page: ``compare.html``, ``compare.md``, the PNGs, the map and the JSON.

Both documents are rendered from one list of sections (as :mod:`maps.report`
does for a plan), so they hold the same numbers. Every text taken from the
plans (labels, titles, paths, site ids, district and owner names) is escaped:
by Jinja2's autoescape in HTML, by :func:`maps.report.escape_markdown` in
Markdown, by :func:`maps.webmap.escape_text` on the map; ``$`` is escaped for
matplotlib so that a name never turns into mathtext.
"""

from __future__ import annotations

import dataclasses
import io
import itertools
import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import offlinefolium as folium
from matplotlib.figure import Figure

from maps.compare.plans import MARKER, Comparison, PlanRecord
from maps.export.values import dumps_json, json_value
from maps.report.pages import PageSection, Table, render_html, render_markdown
from maps.webmap import map as webmap
from maps.webmap.elements import GeoJson

__all__ = [
    "comparison_map",
    "comparison_sections",
    "comparison_summary",
    "render_curves",
    "render_sites",
    "write_comparison",
]

logger = logging.getLogger(__name__)

CURVES_PNG = "curves.png"
SITES_PNG = "sites.png"
MAP_HTML = "compare_map.html"
COMMON_COLOUR = "#4d4d4d"
"""Sites held by every plan; other groups take :data:`maps.webmap.PHASE_COLOURS` in turn."""


# --------------------------------------------------------------------------- formatting


def _pct(value: float) -> str:
    return f"{value * 100:.2f} %" if math.isfinite(value) else "–"


def _pp(value: float) -> str:
    """A difference of shares in percentage points, signed."""
    return f"{value * 100:+.2f} pp" if math.isfinite(value) else "–"


def _num(value: float) -> str:
    return f"{value:,.2f}" if math.isfinite(value) else "–"


def _signed(value: float) -> str:
    return f"{value:+,.2f}" if math.isfinite(value) else "–"


def _count(value: float) -> str:
    return f"{value:,.0f}" if math.isfinite(value) else "–"


def _rate(value: float) -> str:
    return f"{value:.3f}" if math.isfinite(value) else "–"


def _plot_text(text: str) -> str:
    """Text for matplotlib: ``$`` escaped so that it is never read as mathtext."""
    return str(text).replace("$", r"\$")


# --------------------------------------------------------------------------- content


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> Table:
    return Table(tuple(headers), tuple(tuple(r) for r in rows))


def _side_by_side(cmp: Comparison) -> PageSection:
    plans = cmp.plans
    owners: dict[str, None] = {}
    for p in plans:
        owners.update(dict.fromkeys(p.owners))

    def row(name: str, cells: Sequence[str]) -> list[str]:
        return [name, *cells]

    rows = [
        row("Title", [p.title for p in plans]),
        row("Source", [p.source for p in plans]),
        row("New camera sets", [f"{p.n_sets:,}" for p in plans]),
        row("Phases", [" + ".join(f"{n:,}" for n in p.phase_sizes) for p in plans]),
        row("Reach (m)", [f"{p.radius_m:g}" for p in plans]),
        row("Covered share", [_pct(p.coverage_share) for p in plans]),
        row("Covered weight", [_num(p.covered_weight) for p in plans]),
        row("Total demand weight", [_num(p.total_weight) for p in plans]),
        row("Upper bound (share)", [_pct(p.share(p.upper_bound)) for p in plans]),
        row("Gap to the bound", ["proven optimal" if p.proven_optimal else _pct(p.gap)
                                 for p in plans]),
        row("Existing cameras cover", [_pct(p.share(p.existing_weight)) for p in plans]),
        row("New sets add", [_pct(p.share(p.covered_weight - p.existing_weight))
                             for p in plans]),
        *(row(f"Existing cameras of {o} alone",
              [_pct(p.share(p.owners[o])) if o in p.owners else "–" for p in plans])
          for o in owners),
    ]
    notes = (("Shares are of each plan's own total demand weight. Owners' cameras may watch "
             "the same places, so owner rows need not add up."),)
    return PageSection("Side by side", tables=(_table(["", *cmp.labels], rows),), notes=notes)


def _returns(cmp: Comparison) -> PageSection:
    unit = f"{cmp.unit:,}"
    pair_rows = [
        [f"{d.a} → {d.b}", f"{d.extra_sets:+,}", _pp(d.extra_share),
         _signed(d.extra_weight) if d.same_demand else "–",
         _pp(d.per_unit_share), _signed(d.per_unit_weight) if d.same_demand else "–"]
        for d in cmp.pairs
    ]
    pairs = _table(["Plans", "Extra sets", "Extra covered share", "Extra covered weight",
                    f"Share per {unit} extra sets", f"Weight per {unit} extra sets"], pair_rows)
    spans = sorted({(s.start, s.end) for s in cmp.steps})
    gained = {(s.label, s.start, s.end): s for s in cmp.steps}
    step_rows = [
        [f"{a:,} → {b:,}",
         *(_pp(gained[(lab, a, b)].per_unit_share) if (lab, a, b) in gained else ""
           for lab in cmp.labels)]
        for a, b in spans
    ]
    steps = _table(["Sets", *cmp.labels], step_rows)
    paragraphs = (
        ("What each plan buys over the one before it (first table), and the covered share "
        f"each plan gains per {unit} sets along its own curve, in steps of {unit} sets "
        f"(second table; a shorter last step is scaled to {unit} sets)."),
    )
    notes = []
    if not all(d.same_demand for d in cmp.pairs):
        notes.append("Plans with different demand (another weighting rule) have different "
                     "total weights: compare their shares, not their weights.")
    return PageSection(f"Marginal return per {unit} sets", paragraphs, (pairs, steps),
                       notes=tuple(notes))


def _sites(cmp: Comparison) -> PageSection:
    pairs = _table(
        ["Plans", "Common sites", "Only in the first", "Only in the second"],
        [[f"{d.a} → {d.b}", f"{d.common:,}", f"{d.only_a:,}", f"{d.only_b:,}"]
         for d in cmp.pairs],
    )
    groups = _table(["Sites", "Count"],
                    [[g.name(cmp.labels), f"{len(g.site_ids):,}"] for g in cmp.groups])
    paragraphs = ("Sites are matched by their site id.",)
    return PageSection("Sites in common", paragraphs, (pairs, groups), image=SITES_PNG,
                       link=("Open the interactive map of these sites", MAP_HTML))


def _districts(cmp: Comparison) -> list[PageSection]:
    if not cmp.districts:
        return []
    plans = cmp.plans

    def get(p: PlanRecord, name: str, field: str) -> float:
        row = cmp.district(p, name)
        return math.nan if row is None else float(getattr(row, field))

    share_rows = []
    for name in cmp.districts:
        shares = [get(p, name, "covered_share") for p in plans]
        diffs = [b - a for a, b in itertools.pairwise(shares)]
        share_rows.append([name, *map(_pct, shares), *map(_pp, diffs)])
    diff_heads = [f"{d.b} − {d.a}" for d in cmp.pairs]
    shares_table = _table(["District", *cmp.labels, *diff_heads], share_rows)
    set_rows = [
        [name, *(_count(get(p, name, "sets")) for p in plans),
         *(_rate(get(p, name, "sets_per_1000")) for p in plans)]
        for name in cmp.districts
    ]
    sets_table = _table(
        ["District", *(f"Sets, {lab}" for lab in cmp.labels),
         *(f"Per 1,000 residents, {lab}" for lab in cmp.labels)], set_rows)
    return [
        PageSection("Districts: covered share", tables=(shares_table,),
                    notes=("A dash: the plan has no such district.",)),
        PageSection("Districts: sets and sets per 1,000 residents", tables=(sets_table,)),
    ]


def comparison_sections(cmp: Comparison) -> list[PageSection]:
    """Every section of the comparison page, in order (plain text; renderers escape it)."""
    intro = PageSection(
        "Plans",
        paragraphs=tuple(f"{p.label}: {p.title} ({p.n_sets:,} sets, {_pct(p.coverage_share)} "
                         f"covered), from {p.source}" for p in cmp.plans),
    )
    return [
        intro,
        _side_by_side(cmp),
        PageSection("Coverage curves", image=CURVES_PNG),
        _returns(cmp),
        _sites(cmp),
        *_districts(cmp),
    ]


def page_title(cmp: Comparison) -> str:
    """``Comparison: A, B and C``."""
    labels = cmp.labels
    return "Comparison: " + ", ".join(labels[:-1]) + " and " + labels[-1]


# --------------------------------------------------------------------------- figures


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _colour(i: int) -> str:
    return webmap.PHASE_COLOURS[i % len(webmap.PHASE_COLOURS)]


def render_curves(cmp: Comparison, *, dpi: int = 100) -> bytes:
    """The plans' coverage curves overlaid (covered share vs sets), as PNG bytes."""
    fig = Figure(figsize=(8, 4.5), dpi=dpi)
    ax = fig.add_subplot()
    top = 0.0
    for i, p in enumerate(cmp.plans):
        share = np.asarray(p.curve, dtype=float) / (p.total_weight or 1.0) * 100
        ax.plot(np.arange(len(share)), share, color=_colour(i), linewidth=1.8,
                label=_plot_text(f"{p.label} ({p.n_sets:,} sets)"))
        ax.plot([len(share) - 1], [share[-1]], "o", color=_colour(i))
        top = max(top, float(share.max(initial=0.0)))
    ax.set_xlabel("number of new camera sets")
    ax.set_ylabel("demand weight covered (%)")
    ax.set_title("Coverage curves", parse_math=False)
    ax.set_xlim(0, max(max(p.n_sets for p in cmp.plans), 1))
    ax.set_ylim(0, min(100.0, top) * 1.05 or 1.0)
    ax.grid(visible=True, color="#dddddd", linewidth=0.5)
    ax.legend(loc="lower right")
    fig.tight_layout()
    return _png(fig)


def _group_colours(cmp: Comparison) -> list[str]:
    return [COMMON_COLOUR if all(g.members) else _colour(i) for i, g in enumerate(cmp.groups)]


def render_sites(cmp: Comparison, *, dpi: int = 100) -> bytes:
    """The sites of every plan coloured by the plans that hold them, as PNG bytes."""
    fig = Figure(figsize=(8, 6), dpi=dpi)
    ax = fig.add_subplot()
    lats = [g.lonlat[:, 1] for g in cmp.groups if len(g.lonlat)]
    mean_lat = float(np.nanmean(np.concatenate(lats))) if lats else 0.0
    size = 12 if sum(len(g.site_ids) for g in cmp.groups) < 500 else 3
    for g, colour in zip(cmp.groups, _group_colours(cmp), strict=True):
        ax.scatter(g.lonlat[:, 0], g.lonlat[:, 1], s=size, color=colour, linewidths=0,
                   label=_plot_text(f"{g.name(cmp.labels)} ({len(g.site_ids):,})"))
    ax.set_aspect(1 / max(math.cos(math.radians(mean_lat)), 0.1))
    ax.ticklabel_format(useOffset=False, style="plain")
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_title("Camera sets by the plans that hold them", parse_math=False)
    ax.legend(loc="best", fontsize="small", markerscale=2)
    ax.grid(visible=True, color="#eeeeee", linewidth=0.5)
    fig.tight_layout()
    return _png(fig)


# --------------------------------------------------------------------------- the map


def comparison_map(cmp: Comparison, *, tiles: str | None = "OpenStreetMap") -> folium.Map:
    """The sites on an offline folium map, one layer per group (common, only in A, ...)."""
    points = [g.lonlat for g in cmp.groups if len(g.lonlat)]
    bounds = None
    if points:
        xy = np.concatenate(points)
        xy = xy[np.isfinite(xy).all(axis=1)]
        if len(xy):
            bounds = [[float(xy[:, 1].min()), float(xy[:, 0].min())],
                      [float(xy[:, 1].max()), float(xy[:, 0].max())]]
    m = webmap.base_map(tiles=tiles, bounds=bounds)
    for g, colour in zip(cmp.groups, _group_colours(cmp), strict=True):
        name = g.name(cmp.labels)
        frame = gpd.GeoDataFrame(
            geometry=gpd.points_from_xy(np.round(g.lonlat[:, 0], webmap.COORD_DECIMALS),
                                        np.round(g.lonlat[:, 1], webmap.COORD_DECIMALS)),
            crs=webmap.WGS84)
        props = [{"site_id": webmap.escape_text(s), "group": webmap.escape_text(name)}
                 for s in g.site_ids]
        GeoJson(
            webmap.feature_collection(frame, props),
            name=f"{webmap.escape_text(name)} ({len(g.site_ids):,})",
            marker=folium.CircleMarker(radius=4, color="#ffffff", weight=1, fill=True,
                                       fill_color=colour, fill_opacity=1),
            popup=folium.GeoJsonPopup(fields=["site_id", "group"], aliases=["Site", "Sites"],
                                      localize=False),
        ).add_to(m)
    webmap.add_layer_control(m)
    if bounds is not None:
        m.fit_bounds(bounds, padding=(20, 20))
    root = m.get_root()
    if hasattr(root, "title"):
        root.title = webmap.escape_text(page_title(cmp))
    webmap.deterministic_ids(root)
    return m


# --------------------------------------------------------------------------- documents


_HTML = """{% extends "page.html" %}
{% set width = "80rem" %}
{% block table_style -%}
table { border-collapse: collapse; font-size: 0.9rem; margin: 0.5rem 0 1rem 0; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; }
td { font-variant-numeric: tabular-nums; }
{%- endblock %}
{% block image %}<img alt="{{ s.heading }}"
 src="data:image/png;base64,{{ images[s.image] }}">{% endblock %}
"""
"""The comparison page's look on the shared page shell (:mod:`maps.pages`)."""


def comparison_summary(cmp: Comparison) -> dict[str, Any]:
    """The comparison's numbers as plain JSON (``comparison.json``)."""
    def plan(p: PlanRecord) -> dict[str, Any]:
        return {
            "label": p.label, "source": p.source, "title": p.title, "n_sets": p.n_sets,
            "phase_sizes": list(p.phase_sizes), "radius_m": p.radius_m,
            "covered_weight": p.covered_weight, "total_weight": p.total_weight,
            "coverage_share": p.coverage_share, "existing_weight": p.existing_weight,
            "upper_bound": p.upper_bound, "gap": p.gap, "proven_optimal": p.proven_optimal,
            "owners": dict(p.owners),
            "districts": None if p.districts is None else
            [dataclasses.asdict(r) for r in p.districts],
        }

    pairs = [{**dataclasses.asdict(d), "per_unit_weight": d.per_unit_weight,
              "per_unit_share": d.per_unit_share} for d in cmp.pairs]
    steps = [{**dataclasses.asdict(s), "per_unit_weight": s.per_unit_weight,
              "per_unit_share": s.per_unit_share} for s in cmp.steps]
    groups = [{"sites": g.name(cmp.labels), "plans": [lab for lab, m in
                                                      zip(cmp.labels, g.members, strict=True)
                                                      if m], "count": len(g.site_ids)}
              for g in cmp.groups]
    return json_value({"unit": cmp.unit, "plans": [plan(p) for p in cmp.plans], "pairs": pairs,
                       "marginal_steps": steps, "site_groups": groups})


def write_comparison(
    cmp: Comparison, folder: str | Path, *, interactive_map: bool = True
) -> list[Path]:
    """Write ``compare.html``, ``compare.md``, the two PNGs, ``comparison.json`` and the map.

    Parameters
    ----------
    cmp
        From :func:`maps.compare.compare_plans`.
    folder
        An existing folder; files of the same names are replaced.
    interactive_map
        Also write ``compare_map.html``.
    """
    folder = Path(folder)
    images = {CURVES_PNG: render_curves(cmp), SITES_PNG: render_sites(cmp)}
    sections = comparison_sections(cmp)
    files = {
        **images,
        "compare.md": render_markdown(page_title(cmp), sections).encode("utf-8"),
        "compare.html": render_html(_HTML, title=page_title(cmp), sections=sections,
                                    images=images).encode("utf-8"),
        MARKER: dumps_json(comparison_summary(cmp), indent=2).encode("utf-8"),
    }
    if interactive_map:
        files[MAP_HTML] = webmap.render_map(comparison_map(cmp)).encode("utf-8")
    paths = []
    for name, data in files.items():
        (folder / name).write_bytes(data)
        paths.append(folder / name)
    logger.debug("wrote %s", ", ".join(str(p) for p in paths))
    return paths
