"""Run every camplan benchmark in turn (``make bench``) and say which missed its target.

Each benchmark is its own command that prints its table; this runs them one after
another with this Python, passes their output through, and exits non-zero when any
missed its target or failed.

Usage::

    .venv/bin/python benchmarks/run_all.py [--skip hk_scale,...]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = ("sf", "sjc", "spopt_compare", "hk_scale")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skip", default="", help="comma-separated benchmarks to leave out")
    args = parser.parse_args(argv)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    unknown = skip - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(sorted(unknown))}; "
                     f"choose from {', '.join(BENCHMARKS)}")
    results: list[tuple[str, int, float]] = []
    for name in BENCHMARKS:
        if name in skip:
            continue
        print(f"\n=== {name} ({HERE / (name + '.py')}) ===\n", flush=True)
        t0 = time.perf_counter()
        code = subprocess.run([sys.executable, str(HERE / f"{name}.py")], check=False).returncode
        results.append((name, code, time.perf_counter() - t0))
    print("\n=== summary ===\n")
    for name, code, seconds in results:
        state = {0: "target met", 1: "TARGET MISSED", 3: "skipped (no data)"}.get(
            code, f"FAILED ({code})")
        print(f"{name:<14} {state:<14} {seconds:8.0f} s")
    return 0 if all(code in (0, 3) for _, code, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
