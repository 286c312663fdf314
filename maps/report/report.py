"""The plan report: the coverage curve (PNG) and ``report.md`` / ``report.html``.

Both documents are rendered from one list of sections, so their tables hold
the same numbers. Every text that comes from the inputs (the title, site ids,
district names, owners, attributes, parameters) is escaped: by Jinja2's
autoescape in HTML and by :func:`escape_markdown` in Markdown.
"""

from __future__ import annotations

import io
import json
import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from maps.export.features import SITE_COLUMNS
from maps.export.gpkg import demand_layer_note
from maps.export.values import format_cell, json_value
from maps.report.pages import PageSection, Table, escape_markdown, render_html, render_markdown
from planner.plan.result import Plan

__all__ = ["coverage_curve_png", "escape_markdown", "render_curve", "write_report"]

logger = logging.getLogger(__name__)

TOP_SITES = 20
PNG_NAME = "coverage.png"


# --------------------------------------------------------------------------- the curve


def render_curve(plan: Plan, *, dpi: int = 100) -> bytes:
    """Render the coverage curve as PNG bytes, identical between runs.

    Covered share (in %) against the number of new sets, from ``plan.curve``;
    dotted vertical lines at phase boundaries; a dashed horizontal line at the
    upper bound's share.

    Parameters
    ----------
    plan
        The plan to plot.
    dpi
        Resolution in dots per inch (the figure is 8 x 4.5 inches).

    Returns
    -------
    bytes
        A PNG image with no timestamp or software tag.
    """
    total = plan.total_weight if plan.total_weight > 0 else 1.0
    curve = np.asarray(plan.curve, dtype=float) / total * 100
    fig = Figure(figsize=(8, 4.5), dpi=dpi)
    ax = fig.add_subplot()
    ax.plot(np.arange(len(curve)), curve, color="#1f5fa8", linewidth=1.8, label="covered share")
    bound = plan.certificate.upper_bound / total * 100
    label = f"upper bound, {plan.n_sets:,} sets"
    ax.axhline(bound, color="#b03030", linestyle="--", linewidth=1, label=label)
    if plan.phases:
        ax.plot(
            [p.cumulative_sets for p in plan.phases],
            [p.upper_bound / total * 100 for p in plan.phases],
            "v",
            color="#b03030",
            label="upper bound after each phase",
        )
    for i, phase in enumerate(plan.phases[:-1]):
        ax.axvline(
            phase.cumulative_sets,
            color="#666666",
            linestyle=":",
            linewidth=1,
            label="end of phase" if i == 0 else None,
        )
    ax.set_xlabel("number of new camera sets")
    ax.set_ylabel("demand weight covered (%)")
    ax.set_title(plan.title, parse_math=False)
    ax.set_xlim(0, max(len(curve) - 1, 1))
    ax.set_ylim(0, min(100.0, max(bound, float(curve.max(initial=0.0)))) * 1.05 or 1.0)
    ax.grid(visible=True, color="#dddddd", linewidth=0.5)
    ax.legend(loc="lower right")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def coverage_curve_png(plan: Plan, path: str | Path, *, dpi: int = 100) -> Path:
    """Write the coverage curve (see :func:`render_curve`) to a PNG file.

    Parameters
    ----------
    plan
        The plan to plot.
    path
        The file to write (replaced when it exists).
    dpi
        Resolution in dots per inch.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    path.write_bytes(render_curve(plan, dpi=dpi))
    logger.debug("wrote %s", path)
    return path


# --------------------------------------------------------------------------- the content


def _pct(value: float) -> str:
    """A share 0..1 as a percentage with two decimals; a dash when not a number."""
    return f"{value * 100:.2f} %" if math.isfinite(value) else "–"


def _num(value: float) -> str:
    """A weight with thousands separators and two decimals; a dash when not a number."""
    return f"{value:,.2f}" if math.isfinite(value) else "–"


def _count(value: Any) -> str:
    """A count (population, sets) with thousands separators; empty when missing."""
    value = json_value(value)
    return f"{value:,.0f}" if isinstance(value, int | float) else format_cell(value)


def _rate(value: Any) -> str:
    """Sets per 1,000 residents with three decimals; empty when missing."""
    value = json_value(value)
    return f"{value:.3f}" if isinstance(value, int | float) else format_cell(value)


def _share(weight: float, total: float) -> str:
    """``weight / total`` as a percentage; a dash when the total is not positive."""
    return _pct(weight / total) if total > 0 else "–"


def _summary_section(plan: Plan) -> PageSection:
    """The plan in a few sentences."""
    cert = plan.certificate
    best = plan.covered_weight / cert.upper_bound if cert.upper_bound > 0 else 1.0
    proof = "proven optimal" if cert.proven_optimal else f"gap {_pct(cert.gap)}"
    covered = (
        f"{plan.n_sets:,} new camera sets (reach {plan.radius_m:g} m) together with the existing "
        f"cameras cover {_share(plan.covered_weight, plan.total_weight)} of the demand weight "
        f"({_num(plan.covered_weight)} of {_num(plan.total_weight)})."
    )
    existing = (
        f"The existing cameras alone cover {_share(plan.existing_weight, plan.total_weight)}; "
        f"the new sets add {_num(plan.covered_weight - plan.existing_weight)}."
    )
    bound = (
        f"No plan with the same number of sets covers more than {_num(cert.upper_bound)} "
        f"({_share(cert.upper_bound, plan.total_weight)}), bound by {cert.method}: this plan is "
        f"at least {_pct(best)} of the best possible ({proof})."
    )
    paragraphs = (covered, existing, bound, *_demand_note(plan), _gpkg_note(plan))
    return PageSection("Summary", paragraphs)


_GPKG_NOTES = {
    "all": "plan.gpkg's demand layer holds every demand point ({points:,}) with its coverage "
           "quality.",
    "covered": "plan.gpkg's demand layer holds the {points:,} demand points the plan covers "
               "(of {of:,}), with their coverage quality; the other points of the input are not "
               "covered (quality 0). Ask for every point with --demand-layer all.",
    "uncovered": "plan.gpkg's demand layer holds the {points:,} demand points the plan does not "
                 "cover (of {of:,}). Ask for every point with --demand-layer all.",
    "none": "plan.gpkg has no demand layer (demand_layer = none; {of:,} demand points). Ask for "
            "every point with --demand-layer all.",
}


def _gpkg_note(plan: Plan) -> str:
    """What plan.gpkg's demand layer holds, so that nobody takes left-out points as lost."""
    note = demand_layer_note(plan)
    return _GPKG_NOTES[str(note["choice"])].format(**note)


def _demand_note(plan: Plan) -> tuple[str, ...]:
    """What the demand was built from, and a plain warning when it has no crime in it."""
    surface = plan.parameters.get("surface")
    if not isinstance(surface, dict):
        return ()
    parts = ", ".join(surface.get("components", ())) or "uniform footfall"
    if surface.get("crime"):
        return (f"Demand combines crime with footfall ({parts}).",)
    note = (f"Demand is footfall only ({parts}): no crime layer or crime counts were given, "
            "so the plan follows where people are, not where crime happens.")
    return (note,)


def _phase_section(plan: Plan) -> PageSection:
    """Coverage after each phase, against plain greedy and the bound for its number of sets."""
    total = plan.total_weight
    rows = tuple(
        (
            str(p.phase),
            f"{p.n_sets:,}",
            f"{p.cumulative_sets:,}",
            _share(p.covered_weight, total),
            _share(p.greedy_weight, total),
            _share(p.upper_bound, total),
            _share(p.covered_weight, p.upper_bound),
        )
        for p in plan.phases
    )
    headers = ("Phase", "Sets", "Cumulative sets", "Covered share", "Plain greedy share", "Bound",
               "At least, of the best possible")  # fmt: skip
    note = ("Bound: no plan with the phase's cumulative number of sets covers more; the last "
            "column is the phase's covered share over it.")  # fmt: skip
    return PageSection("Phases", paragraphs=(note,), tables=(Table(headers, rows),))


def _camera_section(plan: Plan) -> PageSection | None:
    """The camera model of a directional plan and the coverage it reaches at each DORI level."""
    cam = plan.parameters.get("camera")
    if not cam:
        return None
    ppm = {"identify": 250, "recognise": 125, "observe": 62.5, "detect": 25}
    lens = (f", a {cam['focal_mm']:g} mm lens on a {cam['sensor_mm']:g} mm wide sensor"
            if cam.get("focal_mm") else "")
    spread = (f"fixed {cam['spread_deg']:g} degrees apart" if cam.get("spread_deg")
              else "each panned independently")
    model = (
        f"Each set is one mount with up to {cam['cameras_per_set']} {cam['camera_type']} cameras "
        f"({cam['resolution_px']} px across, {cam['hfov_deg']:.1f} degree field of view{lens}), "
        f"{spread}; the pans were chosen among every {cam['pan_step_deg']:g} degrees from north. "
        "A camera sees a point within its field of view up to the distance at which it still "
        "puts the pixel density of a DORI level (EN 62676-4) on it: "
        "reach = px / (2 tan(hfov / 2) px_per_m)."
    )
    value = (f"A point counts when seen at {cam['level']} or better." if cam.get("level") else
             "A point counts with its weight times the weight of the best level it is seen at: "
             + ", ".join(f"{k} {v:g}" for k, v in cam["level_weights"].items()) + ".")
    shares = plan.parameters.get("coverage_by_level", {})
    rows = tuple(
        (level, f"{ppm[level]:g}", f"{float(cam['reach_m'][level]):.1f}",
         _pct(float(shares[level])) if level in shares else "not counted")
        for level in ("identify", "recognise", "observe", "detect")
    )
    blind = (f"Blind zone under the pole: {cam['blind_m']:.1f} m." if cam.get("blind_m") else
             "No mount height and tilt given: no blind zone.")
    table = Table(("Level", "px/m", "Reach (m)", "Demand weight seen at this level or better"),
                  rows)
    return PageSection("Camera model and coverage by level", (model, value, blind),
                       tables=(table,))


def _owner_section(plan: Plan) -> PageSection | None:
    """What each owner's existing cameras cover on their own."""
    if not plan.owners:
        return None
    rows = [
        (str(owner), _num(weight), _share(weight, plan.total_weight))
        for owner, weight in plan.owners.items()
    ]
    rows.append(
        (
            "all existing cameras",
            _num(plan.existing_weight),
            _share(plan.existing_weight, plan.total_weight),
        )
    )
    added = plan.covered_weight - plan.existing_weight
    rows.append((f"added by the {len(plan.sites):,} new sets", _num(added),
                 _share(added, plan.total_weight)))
    rows.append(("existing and new together", _num(plan.covered_weight),
                 _share(plan.covered_weight, plan.total_weight)))
    notes = (
        "Owners' cameras may watch the same places, so rows need not add up.",
        "The new sets' row counts only the demand that no existing camera covers.",
    )
    table = Table(("Owner", "Covered weight", "Covered share"), tuple(rows))
    return PageSection("Existing cameras by owner", tables=(table,), notes=notes)


def _district_section(plan: Plan) -> PageSection | None:
    """Per-district coverage."""
    if plan.districts is None:
        return None
    headers = (
        "District",
        "Sets",
        "Covered share",
        "Population",
        "Sets per 1,000",
        "Covered weight",
        "Total weight",
    )
    rows = tuple(
        (
            format_cell(row.get("district")),
            _count(row.get("sets")),
            _pct(float(row["covered_share"])) if "covered_share" in row else "",
            _count(row.get("population")),
            _rate(row.get("sets_per_1000")),
            _num(float(row["covered_weight"])) if "covered_weight" in row else "",
            _num(float(row["total_weight"])) if "total_weight" in row else "",
        )
        for row in plan.districts.drop(columns=plan.districts.geometry.name).to_dict("records")
    )
    return PageSection("Districts", tables=(Table(headers, rows),))


def _sites_section(plan: Plan) -> PageSection:
    """The first sets by rank, with their own attributes."""
    sites = plan.sites.sort_values("rank").head(TOP_SITES)
    attrs = [c for c in sites.columns if c not in SITE_COLUMNS and c != sites.geometry.name]
    headers = ("Rank", "Site", "Phase", "Marginal weight", "Cumulative share", *map(str, attrs))
    rows = tuple(
        (
            format_cell(row["rank"]),
            format_cell(row["site_id"]),
            format_cell(row["phase"]),
            _num(float(row["marginal_weight"])),
            _pct(float(row["cumulative_share"])),
            *(format_cell(row[c]) for c in attrs),
        )
        for row in sites.to_dict("records")
    )
    heading = f"Top {min(TOP_SITES, len(sites))} sites"
    return PageSection(heading, tables=(Table(headers, rows),))


def _mapping_section(heading: str, items: dict[str, Any], key: str) -> PageSection:
    """A two-column table of keys and JSON values."""
    rows = tuple(
        (str(k), v if isinstance(v, str) else json.dumps(json_value(v), ensure_ascii=False))
        for k, v in items.items()
    )
    return PageSection(heading, tables=(Table((key, "Value"), rows),))


def report_sections(plan: Plan) -> list[PageSection]:
    """Every section of the report, in order.

    Parameters
    ----------
    plan
        The plan to report on.

    Returns
    -------
    list of maps.pages.PageSection
        Plain text; renderers escape it.
    """
    sections: list[PageSection | None] = [
        _summary_section(plan),
        PageSection("Coverage curve", image=PNG_NAME),
        _phase_section(plan),
        _camera_section(plan),
        _owner_section(plan),
        _district_section(plan),
        _sites_section(plan),
        _mapping_section("Parameters", dict(plan.parameters), "Parameter"),
        _mapping_section("Inputs", dict(plan.inputs), "Input"),
    ]
    return [s for s in sections if s is not None]


# --------------------------------------------------------------------------- HTML

_HTML = """{% extends "page.html" %}
{% set width = "72rem" %}
{% block table_style -%}
table { border-collapse: collapse; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; }
{%- endblock %}
{% block image %}<img alt="{{ s.heading }}" src="data:image/png;base64,{{ images[s.image] }}">
{%- endblock %}
"""
"""The report's look on the shared page shell (:mod:`maps.pages`)."""


def write_report(plan: Plan, out_dir: str | Path) -> list[Path]:
    """Write ``coverage.png``, ``report.md`` and ``report.html`` into ``out_dir``.

    Parameters
    ----------
    plan
        The plan to report on.
    out_dir
        An existing folder; files of the same names are replaced.

    Returns
    -------
    list of Path
        The files written.
    """
    out_dir = Path(out_dir)
    png = render_curve(plan)
    sections = report_sections(plan)
    paths = [out_dir / PNG_NAME, out_dir / "report.md", out_dir / "report.html"]
    paths[0].write_bytes(png)
    html = render_html(_HTML, title=plan.title, sections=sections, images={PNG_NAME: png})
    paths[1].write_bytes(render_markdown(plan.title, sections).encode("utf-8"))
    paths[2].write_bytes(html.encode("utf-8"))
    logger.debug("wrote %s", ", ".join(str(p) for p in paths))
    return paths
