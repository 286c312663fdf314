"""Check a Hong Kong plan as a planner would: population per district from three sources, sets.

For each of the 18 districts: the 2011 census, the 2021 census (the 292 Tertiary
Planning Unit points summed by the district they lie in), the WorldPop 2020 grid
(cell centres summed by district), and from the plan folder the sets, sets per
1,000 residents (2021 census) and the share of demand covered. Also: how many sets
lie off the land mask, and the sets per mount type. Prints Markdown tables.

Usage::

    .venv/bin/python examples/hong_kong_check.py out/hk [--data-dir ../shared/data/hong-kong]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geodata import read_layer
from geodata.raster import raster_points, read_raster

MIN_SETS, BIG_DISTRICT = 40, 250_000


def _by_district(points: gpd.GeoDataFrame, column: str, districts: gpd.GeoDataFrame) -> pd.Series:
    joined = gpd.sjoin(points.to_crs(districts.crs)[[column, "geometry"]], districts,
                       predicate="within", how="inner")
    return joined.groupby("District")[column].sum()


def district_table(plan: Path, data: Path) -> pd.DataFrame:
    """Census 2011 / 2021, WorldPop and the plan's sets per district."""
    districts = read_layer(data / "hksar_18_district_boundary.json")[["District", "geometry"]]
    districts = districts.dissolve(by="District", as_index=False)
    census11 = pd.read_csv(data / "hk_census2011_population_by_district.csv")
    census11["key"] = census11["district"].str.lower().str.replace("&", "and")
    tpu = read_layer(data / "census2021_tpu_population_points.csv")
    worldpop = raster_points(read_raster(data / "worldpop2020_hk_100m.tif"))
    plan_rows = pd.read_csv(plan / "districts.csv")
    table = pd.DataFrame({"district": districts["District"]})
    key = table["district"].str.lower().str.replace("&", "and")
    table["census_2011"] = key.map(census11.set_index("key")["population_2011"]).to_numpy()
    table["census_2021"] = table["district"].map(_by_district(tpu, "pop_est", districts))
    table["worldpop_2020"] = table["district"].map(_by_district(worldpop, "weight", districts))
    table["worldpop_vs_2021"] = table["worldpop_2020"] / table["census_2021"] - 1
    sets = plan_rows.set_index(plan_rows["district"].str.lower())
    table["sets"] = table["district"].str.lower().map(sets["sets"]).fillna(0).astype(int)
    table["sets_per_1000"] = 1000 * table["sets"] / table["census_2021"]
    table["covered_share"] = table["district"].str.lower().map(sets["covered_share"])
    return table


def _markdown(table: pd.DataFrame) -> str:
    header = ("| district | census 2011 | census 2021 | WorldPop 2020 | WorldPop vs 2021 | sets "
              "| sets per 1,000 | demand covered |")
    lines = [header, "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in table.itertuples():
        flag = " ⚠" if r.census_2021 > BIG_DISTRICT and r.sets < MIN_SETS else ""
        lines.append(f"| {r.district} | {r.census_2011:,.0f} | {r.census_2021:,.0f} | "
                     f"{r.worldpop_2020:,.0f} | {r.worldpop_vs_2021:+.1%} | {r.sets:,}{flag} | "
                     f"{r.sets_per_1000:.2f} | {r.covered_share:.1%} |")
    t = table.sum(numeric_only=True)
    lines.append(f"| **all** | {t.census_2011:,.0f} | {t.census_2021:,.0f} | "
                 f"{t.worldpop_2020:,.0f} | {t.worldpop_2020 / t.census_2021 - 1:+.1%} | "
                 f"{int(t.sets):,} | {1000 * t.sets / t.census_2021:.2f} | |")
    return "\n".join(lines)


def main() -> None:
    """Print the district table, the sets off land and the sets per mount type."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("plan", type=Path, help="a plan folder written by camplan plan")
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data/hong-kong"))
    args = parser.parse_args()
    table = district_table(args.plan, args.data_dir)
    print(_markdown(table))
    sites = gpd.read_file(args.plan / "sites.geojson").to_crs("EPSG:2326")
    land = read_layer(args.data_dir / "geohk_census2001_dcca_land.json").to_crs("EPSG:2326")
    land = land.set_geometry(land.make_valid()).union_all().buffer(0.01)
    off = int((~sites.within(land)).sum())
    print(f"\nsets off the land mask: {off} of {len(sites)}")
    if "mount_type" in sites.columns:
        counts = sites.pivot_table(index="mount_type", columns="phase", values="rank",
                                   aggfunc="count", fill_value=0)
        print("\n| mount type | " + " | ".join(f"phase {p}" for p in counts.columns)
              + " | all |\n|---|" + "---:|" * (len(counts.columns) + 1))
        for mount, row in counts.iterrows():
            print(f"| {mount} | " + " | ".join(f"{v:,}" for v in row) + f" | {row.sum():,} |")
    big = table[(table["census_2021"] > BIG_DISTRICT) & (table["sets"] < MIN_SETS)]
    print(f"\ndistricts over {BIG_DISTRICT:,} residents with fewer than {MIN_SETS} sets: "
          f"{', '.join(big['district']) or 'none'}")


if __name__ == "__main__":
    main()
