"""The plan report: the coverage curve (PNG) and ``report.md`` / ``report.html``.

Both documents are rendered from one list of sections, so their tables hold
the same numbers. Every text that comes from the inputs (the title, site ids,
district names, owners, attributes, parameters) is escaped: by Jinja2's
autoescape in HTML and by :func:`escape_markdown` in Markdown.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
from matplotlib.figure import Figure

from maps.export import SITE_COLUMNS, format_cell, json_value
from planner.plan import Plan

__all__ = ["coverage_curve_png", "escape_markdown", "render_curve", "write_report"]

logger = logging.getLogger(__name__)

TOP_SITES = 20
PNG_NAME = "coverage.png"
_MARKDOWN_SPECIAL = "\\`*_[]|~#!"
_MARKDOWN_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


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


@dataclass(frozen=True)
class Table:
    """A table of plain-text cells (escaped only when rendered)."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Section:
    """A heading, its paragraphs of plain text, and optionally a table and the curve."""

    heading: str
    paragraphs: tuple[str, ...] = ()
    table: Table | None = None
    figure: bool = False
    notes: tuple[str, ...] = ()


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


def _summary_section(plan: Plan) -> Section:
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
    paragraphs = (covered, existing, bound)
    return Section("Summary", paragraphs)


def _phase_section(plan: Plan) -> Section:
    """Coverage after each phase, against plain greedy and the bound."""
    total = plan.total_weight
    rows = tuple(
        (
            str(p.phase),
            f"{p.n_sets:,}",
            f"{p.cumulative_sets:,}",
            _share(p.covered_weight, total),
            _share(p.greedy_weight, total),
            _share(p.upper_bound, total),
        )
        for p in plan.phases
    )
    headers = ("Phase", "Sets", "Cumulative sets", "Covered share", "Plain greedy share", "Bound")
    return Section("Phases", table=Table(headers, rows))


def _owner_section(plan: Plan) -> Section | None:
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
    notes = ("Owners' cameras may watch the same places, so rows need not add up.",)
    table = Table(("Owner", "Covered weight", "Covered share"), tuple(rows))
    return Section("Existing cameras by owner", table=table, notes=notes)


def _district_section(plan: Plan) -> Section | None:
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
    return Section("Districts", table=Table(headers, rows))


def _sites_section(plan: Plan) -> Section:
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
    return Section(heading, table=Table(headers, rows))


def _mapping_section(heading: str, items: dict[str, Any], key: str) -> Section:
    """A two-column table of keys and JSON values."""
    rows = tuple(
        (str(k), v if isinstance(v, str) else json.dumps(json_value(v), ensure_ascii=False))
        for k, v in items.items()
    )
    return Section(heading, table=Table((key, "Value"), rows))


def report_sections(plan: Plan) -> list[Section]:
    """Every section of the report, in order.

    Parameters
    ----------
    plan
        The plan to report on.

    Returns
    -------
    list of Section
        Plain text; renderers escape it.
    """
    sections: list[Section | None] = [
        _summary_section(plan),
        Section("Coverage curve", figure=True),
        _phase_section(plan),
        _owner_section(plan),
        _district_section(plan),
        _sites_section(plan),
        _mapping_section("Parameters", dict(plan.parameters), "Parameter"),
        _mapping_section("Inputs", dict(plan.inputs), "Input"),
    ]
    return [s for s in sections if s is not None]


# --------------------------------------------------------------------------- Markdown


def escape_markdown(text: str) -> str:
    """Escape text so that Markdown renders it literally, also inside a table cell.

    ``&``, ``<`` and ``>`` become entities (so no HTML tag survives), Markdown
    punctuation is backslash-escaped and line breaks become spaces.

    Parameters
    ----------
    text
        Any text from the inputs.

    Returns
    -------
    str
        The escaped text.
    """
    out = []
    for char in str(text).replace("\r\n", " ").replace("\n", " ").replace("\r", " "):
        if char in _MARKDOWN_ENTITIES:
            out.append(_MARKDOWN_ENTITIES[char])
        elif char in _MARKDOWN_SPECIAL:
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)


def _markdown_table(table: Table) -> list[str]:
    """A GitHub-flavoured Markdown table."""

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(escape_markdown(c) for c in cells) + " |"

    return [line(table.headers), "|" + "---|" * len(table.headers), *map(line, table.rows)]


def render_markdown(plan: Plan, sections: Sequence[Section], *, image: str = PNG_NAME) -> str:
    """The report as Markdown, the curve linked as ``image``."""
    lines = [f"# {escape_markdown(plan.title)}", ""]
    for section in sections:
        lines += [f"## {escape_markdown(section.heading)}", ""]
        for paragraph in section.paragraphs:
            lines += [escape_markdown(paragraph), ""]
        if section.figure:
            lines += [f"![Coverage curve]({image})", ""]
        if section.table is not None:
            lines += [*_markdown_table(section.table), ""]
        for note in section.notes:
            lines += [escape_markdown(note), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


# --------------------------------------------------------------------------- HTML

_HTML = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy"
 content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 72rem; margin: 2rem auto;
       padding: 0 1rem; color: #222; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; }
th { background: #f2f2f2; } tr:nth-child(even) td { background: #fafafa; }
img { max-width: 100%; } .note { color: #555; font-size: 0.85rem; }
</style>
</head>
<body>
<h1>{{ title }}</h1>
{% for s in sections %}
<section>
<h2>{{ s.heading }}</h2>
{% for p in s.paragraphs %}<p>{{ p }}</p>
{% endfor %}{% if s.figure %}<img alt="Coverage curve" src="data:image/png;base64,{{ png }}">
{% endif %}{% if s.table %}<table>
<thead><tr>{% for h in s.table.headers %}<th>{{ h }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in s.table.rows %}<tr>{% for c in row %}<td>{{ c }}</td>{% endfor %}</tr>
{% endfor %}</tbody>
</table>
{% endif %}{% for n in s.notes %}<p class="note">{{ n }}</p>
{% endfor %}</section>
{% endfor %}
</body>
</html>
"""


def render_html(plan: Plan, sections: Sequence[Section], *, png: bytes) -> str:
    """The report as one self-contained HTML page, the curve embedded as a data URI."""
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    template = env.from_string(_HTML)
    encoded = base64.b64encode(png).decode("ascii")
    return template.render(title=plan.title, sections=sections, png=encoded)


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
    paths[1].write_bytes(render_markdown(plan, sections).encode("utf-8"))
    paths[2].write_bytes(render_html(plan, sections, png=png).encode("utf-8"))
    logger.debug("wrote %s", ", ".join(str(p) for p in paths))
    return paths
