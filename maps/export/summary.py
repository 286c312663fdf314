"""``summary.json``: a plan's numbers, inputs and timings."""

from __future__ import annotations

import dataclasses
import importlib.metadata
from pathlib import Path
from typing import Any

from maps.export.gpkg import demand_layer_note
from maps.export.values import json_value, ratio, write_json
from planner.plan.result import Plan

__all__ = ["camplan_version", "plan_summary", "write_summary"]


def camplan_version() -> str:
    """The installed camplan version, or ``"unknown"`` when run from a bare checkout."""
    try:
        return importlib.metadata.version("camplan")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def plan_summary(plan: Plan) -> dict[str, Any]:
    """The contents of ``summary.json``: the plan's numbers, inputs and timings.

    ``timings`` is the last key and the only one that differs between two
    runs of the same inputs.

    Parameters
    ----------
    plan
        The plan to summarise.

    Returns
    -------
    dict
        Plain JSON values, in a fixed key order.
    """
    cert = plan.certificate
    summary: dict[str, Any] = {
        "title": plan.title,
        "n_sets": plan.n_sets,
        "radius_m": plan.radius_m,
        "covered_weight": plan.covered_weight,
        "total_weight": plan.total_weight,
        "coverage_share": plan.coverage_share,
        "existing_weight": plan.existing_weight,
        "new_weight": plan.covered_weight - plan.existing_weight,
        "owners": dict(plan.owners),
        "upper_bound": cert.upper_bound,
        "upper_bound_share": ratio(cert.upper_bound, plan.total_weight),
        "share_of_best_possible": ratio(plan.covered_weight, cert.upper_bound, default=1.0),
        "gap": cert.gap,
        "bound_method": cert.method,
        "proven_optimal": cert.proven_optimal,
        "presolve": None if plan.presolve is None else plan.presolve.as_dict(),
        "gpkg_demand_layer": demand_layer_note(plan),
        "phases": [dataclasses.asdict(p) for p in plan.phases],
        "parameters": dict(plan.parameters),
        "inputs": dict(plan.inputs),
        "crs": plan.crs,
        "crs_reason": plan.parameters.get("crs_reason"),
        "camplan_version": camplan_version(),
    }
    summary = json_value(summary)
    summary["timings"] = json_value(dict(plan.timings))
    return summary


def write_summary(plan: Plan, path: str | Path) -> Path:
    """Write :func:`plan_summary` as indented UTF-8 JSON with a trailing newline.

    Parameters
    ----------
    plan
        The plan to summarise.
    path
        The file to write (replaced when it exists).

    Returns
    -------
    Path
        ``path``.
    """
    return write_json(plan_summary(plan), Path(path), indent=2)
