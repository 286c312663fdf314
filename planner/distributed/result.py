"""The :class:`~planner.plan.Plan` of a distributed run, from what the workers send back.

The chosen sites are fetched with their attributes (a few thousand rows); the demand
is not gathered: the plan carries it summarised per square cell (total weight,
covered weight as a share in ``covered``, number of points), with a note saying so,
which the map and the exports use as they use points.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.crs import crs_label
from planner.api import PlanOptions
from planner.distributed.engine import ClusterOptions
from planner.distributed.greedy import GreedyRun
from planner.plan.assemble import RESERVED
from planner.plan.result import Certificate, PhaseResult, Plan
from planner.solver.certificate import PROVEN_TOLERANCE

__all__ = ["assemble", "chosen_rows"]


def chosen_rows(sites: Any, offsets: np.ndarray, rows: np.ndarray) -> gpd.GeoDataFrame:
    """The input rows ``rows`` (global row numbers) of a dask-geopandas frame, in that order."""
    part = np.searchsorted(offsets, rows, side="right") - 1
    wanted = {int(p): np.sort(rows[part == p] - offsets[p]) for p in np.unique(part)}

    def _pick(frame: gpd.GeoDataFrame, partition_info: dict | None = None) -> gpd.GeoDataFrame:
        number = partition_info["number"] if partition_info else 0
        local = wanted.get(number, np.zeros(0, dtype=np.int64))
        out = frame.iloc[local].copy()
        out["_row"] = local + offsets[number]
        return out

    meta = sites._meta.assign(_row=pd.Series(dtype="i8"))
    got = sites.map_partitions(_pick, meta=meta).compute()
    got = got.set_index("_row").loc[rows].reset_index(drop=True)
    return gpd.GeoDataFrame(got, geometry=got.geometry.name, crs=sites.crs)


def _demand_cells(cells: Sequence[pd.DataFrame], x0: float, y0: float, side: float,
                  crs: Any) -> gpd.GeoDataFrame:
    table = pd.concat(list(cells)).groupby(["cx", "cy"], as_index=False).sum()
    table = table.sort_values(["cx", "cy"]).reset_index(drop=True)
    share = np.divide(table["covered"], table["weight"], out=np.zeros(len(table)),
                      where=table["weight"].to_numpy() > 0)
    x = x0 + (table["cx"].to_numpy() + 0.5) * side
    y = y0 + (table["cy"].to_numpy() + 0.5) * side
    return gpd.GeoDataFrame(
        {"weight": table["weight"].to_numpy(dtype=float), "covered": share,
         "points": table["points"].to_numpy(dtype=np.int64)},
        geometry=gpd.points_from_xy(x, y), crs=crs,
    )


def _phases(curve: np.ndarray, ends: list[int], bounds: np.ndarray,
            total: float) -> tuple[PhaseResult, ...]:
    out, start = [], 0
    for t, (end, bound) in enumerate(zip(ends, bounds, strict=True)):
        covered = float(curve[end])
        out.append(PhaseResult(t + 1, end - start, end, covered,
                               covered / total if total > 0 else 0.0, covered, float(bound)))
        start = end
    return tuple(out)


def _chosen_sites(sites_g: Any, offsets: np.ndarray, table: Any, order: list[int],
                  site_id: str | None) -> tuple[gpd.GeoDataFrame, pd.Series, list[str]]:
    """The chosen sites' input rows in rank order, their ids and attribute columns."""
    index = np.asarray(order, dtype=np.int64)
    picked = table[table["index"].isin(index.tolist())].compute().set_index("index").loc[index]
    chosen = chosen_rows(sites_g, offsets, picked["row"].to_numpy(dtype=np.int64))
    ids = chosen[site_id] if site_id else pd.Series(picked["row"].to_numpy() + 1)
    attrs = [c for c in chosen.columns if c not in (*RESERVED, site_id, chosen.geometry.name)]
    return chosen, ids, attrs


def _curve(base: float, gains: list[float], run: GreedyRun) -> np.ndarray:
    curve = np.concatenate([[base], np.asarray(gains, dtype=np.float64)]).cumsum()
    curve[-1] = max(run.value, 0.0) if gains else base
    return curve


def assemble(sites_g: Any, offsets: np.ndarray, table: Any, order: list[int],
             gains: list[float], run: GreedyRun, tiles: dict, cells: dict, **kw: Any) -> Plan:
    """The plan: chosen sites, footprints, per-cell demand, curve, phases and bound."""
    options: PlanOptions = kw["options"]
    cluster: ClusterOptions = kw["cluster"]
    crs = kw["crs"]
    per_tile = [s for host in tiles.values() for s in host.values()]
    total = float(sum(s["total"] for s in per_tile))
    base = float(sum(s["covered"] for s in per_tile))
    curve = _curve(base, gains, run)
    ends = [min(e, len(order)) for e in kw["ends"]]
    phase_of = np.searchsorted(np.asarray(ends), np.arange(len(order)), side="right") + 1
    covered = float(curve[-1])
    bounds = np.array([min(max(float(b), float(curve[e])), total)
                       for b, e in zip(run.bounds, ends, strict=True)])
    bound = float(bounds[-1])
    proven = bound - covered <= PROVEN_TOLERANCE * max(covered, 1.0)
    gap = 0.0 if proven or bound <= 0 else max(0.0, (bound - covered) / bound)
    chosen, ids, attrs = _chosen_sites(sites_g, offsets, table, order, kw["site_id"])
    cumulative = curve[1:]
    out_sites = gpd.GeoDataFrame(
        pd.concat([pd.DataFrame({
            "site_id": ids.to_numpy(), "rank": np.arange(1, len(order) + 1),
            "phase": phase_of.astype(np.int64), "marginal_weight": np.diff(curve),
            "cumulative_weight": cumulative,
            "cumulative_share": cumulative / total if total > 0 else np.zeros(len(order)),
        }), chosen[attrs].reset_index(drop=True)], axis=1),
        geometry=chosen.geometry.to_numpy(), crs=crs)
    shapes = shapely.buffer(out_sites.geometry.to_numpy(), options.radius_m, quad_segs=16)
    footprints = gpd.GeoDataFrame(out_sites[["site_id", "rank", "phase"]].copy(),
                                  geometry=shapes, crs=crs)
    side = cluster.summary_cell_m
    demand = _demand_cells(list(cells.values()), float(kw.get("x0", 0.0)),
                           float(kw.get("y0", 0.0)), side, crs)
    return Plan(
        sites=out_sites, demand=demand, footprints=footprints, total_weight=total,
        covered_weight=covered, curve=curve, phases=_phases(curve, ends, bounds, total),
        certificate=Certificate(bound, gap, _method(run), proven),
        radius_m=float(options.radius_m), crs=crs_label(crs), existing=kw["existing"],
        existing_weight=base, owners=_owners(per_tile),
        parameters={**options.as_dict(), "coverage_model": "disc",
                    "engine": _engine(per_tile, run, kw, side),
                    "optimiser": {"method": "distributed exact greedy"}},
        inputs=dict(kw["fingerprints"]), timings=dict(kw["timings"]), title=kw["title"],
    )


def _method(run: GreedyRun) -> str:
    """How the whole plan's bound was found: the Lagrangian when it is tighter."""
    tighter = run.bounds[-1] < run.online[-1] * (1 - 1e-12)
    return "lagrangian" if tighter else "online-submodular"


def _memory(per_host: dict) -> dict[str, Any]:
    """What the workers' tile stores held and spilled (one store a worker, hosts in order)."""
    stores: dict[str, dict] = {}
    for h in sorted(per_host):
        stores.setdefault(str(per_host[h]["store"]), per_host[h])
    held = list(stores.values())
    return {
        "budget_bytes_per_worker": [int(s["budget"]) for s in held],
        "peak_bytes_per_worker": [int(s["peak"]) for s in held],
        "largest_tile_bytes_per_worker": [int(s["largest"]) for s in held],
        "spilled_bytes": int(sum(s["spilled_bytes"] for s in held)),
        "spilled_bytes_per_worker": [int(s["spilled_bytes"]) for s in held],
        "spills": int(sum(s["spills"] for s in held)),
        "reads": int(sum(s["loads"] for s in held)),
    }


def _owners(per_tile: list[dict]) -> dict[str, float]:
    owners: dict[str, float] = {}
    for s in per_tile:
        for name, w in s["owners"].items():
            owners[name] = owners.get(name, 0.0) + w
    return owners


def _engine(per_tile: list[dict], run: GreedyRun, kw: dict, side: float) -> dict[str, Any]:
    return {
        "kind": "dask", "hosts": kw["hosts"], "tiles": len(per_tile),
        "tile_m": float(kw["tile_m"]), "pairs": int(sum(s["pairs"] for s in per_tile)),
        "demand_points": int(sum(s["demand"] for s in per_tile)),
        "halo_points": int(sum(s["halo"] for s in per_tile)),
        "sites": int(sum(s["sites"] for s in per_tile)),
        "rounds": run.rounds, "proposals": run.proposals,
        "online_bound": float(run.online[-1]) if run.online.size else None,
        "tile_memory": _memory(kw["memory"]),
        "demand_summary": f"demand summarised on {side:g} m cells (weight, covered share, "
                          "points): the map and demand layers show cells, not points",
    }
