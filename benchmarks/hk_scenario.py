"""The Hong Kong scenario, before and after issue 13, planned end to end one after the other.

"Before" is ``examples/hong-kong.toml`` as of commit c5a8247 (the 2011 census spread
over each district's land on 50 m cells, MTR exits as attractors, a 100 m candidate
grid over all land); "after" is today's ``examples/hong-kong.toml`` (one demand point
per populated WorldPop cell, MTR exits, government registers plus a lamppost grid along
populated land, Transport Department and MTR cameras as existing). Both run as whole commands
with today's code and without the exact stage (the old file turned it off; the new one
runs it by default, which this comparison of the data leaves out)::

    camplan plan SCENARIO.toml --data-dir ../shared/data/hong-kong --no-exact --out DIR --overwrite

and the script prints wall and CPU seconds (CPU is less sensitive to a busy
machine), the stage timings from ``summary.json`` and the coverage of each.

Target: the new scenario in at most half the old one's wall time (and CPU time).

Usage::

    .venv/bin/python benchmarks/hk_scenario.py
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from _common import EXIT_MISSED, Table, fmt_seconds, require_data, run_camplan, work_dir

ROOT = Path(__file__).resolve().parents[1]
OLD_COMMIT = "c5a8247"
TARGET_RATIO = 0.5
STAGES = ("read", "build", "coverage", "greedy", "local_search", "bound", "write")


def _old_scenario(folder: Path) -> Path:
    text = subprocess.run(["git", "-C", str(ROOT), "show", f"{OLD_COMMIT}:examples/hong-kong.toml"],
                          capture_output=True, text=True, check=True).stdout
    path = folder / "hong-kong-c5a8247.toml"
    path.write_text(text, encoding="utf-8")
    return path


def main() -> int:
    data = require_data("hong-kong")
    folder = work_dir("hk_scenario")
    runs = {}
    for name, scenario in (("old (c5a8247)", _old_scenario(folder)),
                           ("new", ROOT / "examples" / "hong-kong.toml")):
        print(f"planning {name}: {scenario}", flush=True)
        # both without the exact stage (the old file turned it off): this compares the data
        runs[name] = run_camplan([str(scenario), "--data-dir", str(data), "--no-exact"],
                                 folder / name.split()[0])
    table = Table(["scenario", "wall", "cpu", *STAGES, "points", "sites", "covered"])
    for name, run in runs.items():
        s = run.summary
        surface = s["parameters"].get("surface", {})
        candidates = s["parameters"].get("candidates", {})
        table.add(name, fmt_seconds(run.wall_s), fmt_seconds(run.cpu_s),
                  *(fmt_seconds(s["timings"].get(k)) for k in STAGES),
                  surface.get("n_points", ""), candidates.get("n_sites", ""),
                  f"{s['coverage_share']:.1%}")
    table.print()
    old, new = runs["old (c5a8247)"], runs["new"]
    wall = new.wall_s / old.wall_s
    print(f"new / old wall time: {wall:.2f} (target <= {TARGET_RATIO})")
    if old.cpu_s and new.cpu_s:
        print(f"new / old CPU time:  {new.cpu_s / old.cpu_s:.2f}")
    return 0 if wall <= TARGET_RATIO else EXIT_MISSED


if __name__ == "__main__":
    sys.exit(main())
