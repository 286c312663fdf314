"""The boxes fixed on the page: the title with the plan's summary, and the legend."""

from __future__ import annotations

import html

import offlinefolium as folium
from branca.element import Figure
from offlinefolium.template import Template

from maps.webmap.colours import (
    BACKGROUND_COLOUR,
    DISTRICT_COLOURS,
    EXCLUSION_COLOUR,
    HEAT_OPACITY,
    LEVEL_COLOURS,
    owner_colours,
    phase_colour,
)
from maps.webmap.elements import VerbatimMacroElement
from maps.webmap.text import _text
from planner.plan.result import Plan


class _Box(VerbatimMacroElement):
    """A fixed HTML box on the page: ``body`` must already be escaped HTML."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>{{ this.css }}</style>
        {% endmacro %}
        {% macro html(this, kwargs) %}
        <div class="{{ this.css_class }}">{{ this.body }}</div>
        {% endmacro %}
        """
    )

    def __init__(self, *, css_class: str, css: str, body: str) -> None:
        super().__init__()
        self._name = "Box"
        self.css_class = css_class
        self.css = css
        self.body = body


_BOX_CSS = """
.camplan-title, .camplan-legend {
  position: fixed; z-index: 1000; background: rgba(255,255,255,0.92);
  border-radius: 4px; box-shadow: 0 1px 5px rgba(0,0,0,0.4);
  font: 13px/1.35 "Helvetica Neue", Arial, Helvetica, sans-serif; color: #222;
}
.camplan-title { top: 10px; left: 60px; max-width: 45%; padding: 6px 10px; }
.camplan-title h1 { font-size: 16px; margin: 0 0 2px 0; }
.camplan-legend { bottom: 30px; right: 10px; padding: 6px 10px; max-width: 260px; }
.camplan-legend h2 { font-size: 13px; margin: 4px 0 2px 0; }
.camplan-legend .sw { display: inline-block; width: 11px; height: 11px; margin-right: 5px;
  vertical-align: middle; border: 1px solid #555; }
.camplan-legend .dot { border-radius: 50%; }
.camplan-legend .bar { height: 10px; border: 1px solid #555; }
.camplan-legend .ticks { display: flex; justify-content: space-between; font-size: 11px; }
"""


def _title_html(plan: Plan) -> str:
    """The title box: the plan title and a one-line summary (escaped)."""
    n_phases = int(plan.sites["phase"].nunique()) if plan.n_sets else 0
    ub = plan.certificate.upper_bound
    if plan.certificate.proven_optimal:
        proof = " · proven optimal"
    elif ub:
        proof = f" · at least {100 * plan.covered_weight / ub:.1f} % of the best possible"
    else:
        proof = ""
    summary = (
        f"{plan.n_sets:,} camera sets in {n_phases} phase{'s' if n_phases != 1 else ''}"
        f" · {100 * plan.coverage_share:.1f} % of demand covered{proof}"
        f" · {_reach_text(plan)}"
    )
    return f"<h1>{_text(plan.title)}</h1><div>{html.escape(summary)}</div>"


def _reach_text(plan: Plan) -> str:
    """``reach 75 m``, or the camera set (``3 × 1080p-4mm cameras, detect to 57 m``)."""
    camera = plan.parameters.get("camera")
    if not isinstance(camera, dict):
        return f"reach {plan.radius_m:g} m"
    name = camera.get("camera_type") or "directional"
    reach = camera.get("reach_m", {})
    level = camera.get("level") or "detect"
    return (f"{camera.get('cameras_per_set')} × {name} cameras per set, "
            f"{level} to {float(reach.get(level, plan.radius_m)):.0f} m")


def _swatch(colour: str, label: str, *, dot: bool) -> str:
    """One legend row; ``label`` must already be escaped."""
    cls = "sw dot" if dot else "sw"
    return f'<div><span class="{cls}" style="background:{colour}"></span>{label}</div>'


def _legend_html(plan: Plan) -> str:
    """The legend: phase colours, owner colours, district scale, exclusion zones."""
    parts: list[str] = []
    if plan.n_sets:
        parts.append("<h2>Camera sets by phase</h2>")
        parts += [
            _swatch(phase_colour(p), f"Phase {int(p)}", dot=True)
            for p in sorted(plan.sites["phase"].unique())
        ]
    if "level" in plan.footprints.columns and len(plan.footprints):
        present = set(plan.footprints["level"].astype(str))
        parts.append("<h2>Camera wedges by DORI level</h2>")
        parts += [_swatch(c, level, dot=False) for level, c in LEVEL_COLOURS.items()
                  if level in present]
    if plan.existing is not None and len(plan.existing) and "owner" in plan.existing:
        parts.append("<h2>Existing cameras by owner</h2>")
        owners = owner_colours(list(plan.existing["owner"].astype(str).unique()))
        parts += [_swatch(c, _text(o), dot=True) for o, c in owners.items()]
    if plan.districts is not None and len(plan.districts):
        gradient = ", ".join(DISTRICT_COLOURS)
        parts.append("<h2>District covered share</h2>")
        parts.append(f'<div class="bar" style="background:linear-gradient(to right, {gradient})">')
        parts.append(
            "</div><div class='ticks'><span>0 %</span><span>50 %</span><span>100 %</span></div>"
        )
    if plan.exclusions is not None and len(plan.exclusions):
        parts.append(_swatch(EXCLUSION_COLOUR, "Exclusion zone", dot=False))
    return "".join(parts)


def _add_boxes(m: folium.Map, plan: Plan, *, background: str = BACKGROUND_COLOUR) -> None:
    """Title box, legend, page title and the background shown without tiles."""
    css = (
        _BOX_CSS
        + f".folium-map.leaflet-container {{ background: {background}; }}\n"
        + f".leaflet-heatmap-layer {{ opacity: {HEAT_OPACITY}; }}\n"
    )
    m.get_root().add_child(_Box(css_class="camplan-title", css=css, body=_title_html(plan)))
    m.get_root().add_child(_Box(css_class="camplan-legend", css="", body=_legend_html(plan)))
    figure = m.get_root()
    if isinstance(figure, Figure):
        figure.title = _text(plan.title)
