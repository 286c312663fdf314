"""The ``camplan`` command line: a thin layer over the public Python API.

Every error a user can cause ends with exit status 2 and one message naming
the file or option, the problem and the fix — never a traceback, never a
half-written output folder (outputs are staged and moved into place).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from geodata.errors import CamplanError, OptionError
from maps.cli.options import plan_options, registry_options, to_scenario_keys

__all__ = ["cli", "main"]

logger = logging.getLogger("camplan")

EXIT_USER_ERROR = 2


def _setup_logging(verbose: int) -> None:
    level = logging.WARNING if verbose <= 0 else logging.INFO if verbose == 1 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("camplan: %(levelname)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.captureWarnings(True)


@contextmanager
def _progress(enabled: bool) -> Any:
    """A tqdm progress callback ``(stage, done, total)`` for long runs (stderr, TTY only)."""
    from tqdm import tqdm

    bars: dict[str, tqdm] = {}

    def update(stage: str, done: int, total: int) -> None:
        if not enabled:
            return
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(total=total, desc=stage, unit="", leave=False, disable=None)
        bar.n = done
        bar.refresh()

    try:
        yield update
    finally:
        for bar in bars.values():
            bar.close()


F = TypeVar("F", bound=Callable[..., Any])


def _output_options(default: str) -> Callable[[F], F]:
    """``--out`` (default ``default``) and ``--overwrite``, as every writing command has them."""

    def decorate(command: F) -> F:
        command = click.option(
            "--overwrite", is_flag=True, help="Replace the output folder if it exists."
        )(command)
        return click.option(
            "--out",
            type=click.Path(path_type=Path),
            default=Path(default),
            show_default=True,
            help="Output folder.",
        )(command)

    return decorate


_data_dir_option = click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    help="Folder that the layer paths of scenario files are relative to.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="camplan", prog_name="camplan")
@click.option("-v", "--verbose", count=True, help="Log what happens (-vv for debug detail).")
def cli(verbose: int) -> None:
    """Plan where to put CCTV camera sets in a city."""
    _setup_logging(verbose)


def _write(plan: Any, out: Path, overwrite: bool, map_writer: Any) -> Path:
    from maps.export.folder import write_plan

    return write_plan(plan, out, overwrite=overwrite, map_writer=map_writer)


def _report(plan: Any, folder: Path, seconds: float) -> None:
    cert = plan.certificate
    proof = (
        "proven optimal"
        if cert.proven_optimal
        else f"at least {plan.covered_weight / cert.upper_bound:.2%} of the best possible "
        f"({cert.method} bound)"
        if cert.upper_bound > 0
        else ""
    )
    click.echo(
        f"Planned {plan.n_sets:,} camera sets: {plan.coverage_share:.1%} of the demand "
        f"weight covered, {proof}."
    )
    asked = plan.parameters.get("sets")
    if isinstance(asked, int) and plan.n_sets < asked and plan.parameters.get("budget") is None:
        click.echo(
            f"  ({asked:,} asked: no further site adds any coverage, so "
            f"{asked - plan.n_sets:,} are not placed.)"
        )
    if plan.parameters.get("crs_reason"):
        click.echo(f"  distances in ground metres: {plan.parameters['crs_reason']}")
    for ph in plan.phases if len(plan.phases) > 1 else ():
        click.echo(f"  phase {ph.phase}: {ph.n_sets:,} sets, cumulative {ph.coverage_share:.1%}")
    click.echo(
        f"Wrote {folder} (map.html, sites.geojson, summary.json, report.md) in {seconds:.1f} s."
    )


@cli.command()
@_output_options("out/demo")
@click.option(
    "--city",
    type=click.Choice(["mesa", "helsinki"]),
    default="mesa",
    show_default=True,
    help="mesa: streets and crime (disc coverage); helsinki: OpenStreetMap extract "
    "with line-of-sight coverage cut by buildings.",
)
@registry_options("tiles", "tiles_attribution")
@click.option(
    "--camera",
    help="Plan sets of three directional cameras of this catalogue type (e.g. 1080p-4mm) "
    "instead of discs; their pans chosen by the optimiser.",
)
def demo(out: Path, overwrite: bool, city: str, tiles: str | None,
         tiles_attribution: str | None, camera: str | None) -> None:
    """Plan a bundled sample city end to end (Mesa, Arizona, or Helsinki)."""
    from maps.cli.mapping import demo_map_writer, tiles_option
    from planner.api import About, PlanLayers, plan_sites

    t0 = time.perf_counter()
    checked = tiles_option(tiles, tiles_attribution)
    if city == "helsinki":
        from planner.samples.helsinki import helsinki_inputs

        sample = helsinki_inputs()
        coverage = sample.coverage
    else:
        from planner.samples.mesa import mesa_inputs

        sample, coverage = mesa_inputs(), None
    if camera is not None:
        coverage = _camera_model(camera, getattr(coverage, "buildings", None))
    plan = plan_sites(
        sample.demand,
        sample.sites,
        sample.options,
        site_id="site_id",
        layers=PlanLayers(coverage=coverage),
        about=About(title=sample.title, inputs=sample.inputs, parameters=sample.parameters),
    )
    folder = _write(plan, out, overwrite, demo_map_writer(checked, sample))
    _report(plan, folder, time.perf_counter() - t0)


def _camera_model(camera: str, buildings: Any) -> Any:
    """Three cameras of a catalogue type per set (line of sight when there are buildings)."""
    from planner.coverage.camera_model import DirectionalModel
    from planner.coverage.cameras import catalogue_camera
    from planner.coverage.directional import DirectionalOptions

    options = DirectionalOptions(catalogue_camera(camera, per_set=3))
    return DirectionalModel(options, buildings=buildings)


@cli.command()
@click.argument("scenario", required=False, type=click.Path(path_type=Path))
@plan_options
@_data_dir_option
@_output_options("out/plan")
def plan(scenario: Path | None, data_dir: Path | None, out: Path, overwrite: bool,
         **opts: Any) -> None:
    """Plan camera sets from layers given as options, or from a SCENARIO.toml file.

    Options given on the command line override the keys of the scenario file;
    every option is also a scenario key (underscores instead of dashes).
    """
    from maps.cli.mapping import scenario_map_writer
    from planner.scenario import load_scenario, run_scenario

    t0 = time.perf_counter()
    loaded = load_scenario(scenario, to_scenario_keys(opts), data_dir=data_dir)
    map_writer = scenario_map_writer(loaded)  # a bad --tiles stops the run before planning
    with _progress(True) as progress:
        result = run_scenario(loaded, progress=progress)
    folder = _write(result, out, overwrite, map_writer)
    _report(result, folder, time.perf_counter() - t0)
    _keep(result)


@cli.command()
@click.argument("plans", nargs=-1, type=click.Path(path_type=Path))
@_data_dir_option
@_output_options("out/compare")
def compare(plans: Sequence[Path], data_dir: Path | None, out: Path, overwrite: bool) -> None:
    """Compare two or more plans (plan folders or SCENARIO.toml files) on one page.

    Writes compare.html (self-contained), compare.md, the overlaid coverage
    curves, the marginal return per 1,000 sets, the sites in common and the
    per-district differences; scenario files are planned into OUT/plans/.
    """
    from maps.compare.run import compare_paths
    from maps.webmap.map import save_map

    t0 = time.perf_counter()
    with _progress(True) as progress:
        folder = compare_paths(
            list(plans),
            out,
            overwrite=overwrite,
            data_dir=data_dir,
            map_writer=save_map,
            progress=progress,
        )
    _report_comparison(folder, time.perf_counter() - t0)


@cli.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--sets", help="Numbers of sets, e.g. 2000,4000,7000 (one nested run).")
@click.option("--radius", help="Reaches in metres, e.g. 50,75,100 (one run each).")
@click.option("--rule", help="Weighting rules of the [surface] table: product,sum.")
@_data_dir_option
@_output_options("out/sweep")
def sweep(
    scenario: Path, data_dir: Path | None, out: Path, overwrite: bool, **swept: str | None
) -> None:
    """Plan SCENARIO.toml for several values of ONE parameter and compare the plans.

    A sweep over --sets is one optimisation: greedy plans are nested, so the
    plan of each size is the first phases of the largest.
    """
    from maps.compare.run import ComparisonOutput
    from maps.compare.sweep import parse_values, sweep_scenario
    from maps.webmap.map import save_map

    given = {k: v for k, v in swept.items() if v is not None}
    if len(given) != 1:
        raise OptionError(
            "sweep",
            "sweep exactly one parameter: --sets, --radius or --rule"
            + (f" (got {', '.join('--' + k for k in given)})" if given else ""),
        )
    ((parameter, text),) = given.items()
    values = parse_values(parameter, text)
    t0 = time.perf_counter()
    with _progress(True) as progress:
        folder = sweep_scenario(
            scenario,
            parameter,
            values,
            out,
            data_dir=data_dir,
            output=ComparisonOutput(overwrite=overwrite, map_writer=save_map),
            progress=progress,
        )
    _report_comparison(folder, time.perf_counter() - t0)


def _report_comparison(folder: Path, seconds: float) -> None:
    import json

    data = json.loads((folder / "comparison.json").read_text(encoding="utf-8"))
    for p in data["plans"]:
        click.echo(f"  {p['label']}: {p['n_sets']:,} sets, {p['coverage_share']:.1%} covered")
    for d in data["pairs"]:
        click.echo(
            f"  {d['a']} -> {d['b']}: {d['extra_sets']:+,} sets, "
            f"{d['extra_share'] * 100:+.2f} pp ({d['common']:,} sites in common)"
        )
    click.echo(f"Wrote {folder} (compare.html, compare.md) in {seconds:.1f} s.")


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--crs", help="CRS of CSV coordinates, e.g. EPSG:2326.")
@_data_dir_option
def validate(files: Sequence[Path], crs: str | None, data_dir: Path | None) -> None:
    """Check layers (or scenario files) and print every problem found."""
    from planner.scenario import check_layer, check_scenario, load_scenario

    problems: list[str] = []
    for path in files:
        if path.suffix.lower() == ".toml":
            try:
                found: list[str] = []
                scenario = load_scenario(path, data_dir=data_dir, problems=found)
                problems += found + check_scenario(scenario)
            except CamplanError as err:
                problems.append(str(err))
        else:
            problems += check_layer(path, crs=crs)
    problems = list(dict.fromkeys(problems))  # a rule may be found twice (file and run)
    for line in problems:
        click.echo(f"camplan: error: {line}", err=True)
    if problems:
        raise click.exceptions.Exit(EXIT_USER_ERROR)
    click.echo(f"{len(files)} file(s) checked: no problems found.")


@dataclass
class _Process:
    """Whether :func:`main` ends the process itself, and what is kept alive until then."""

    ending: bool = False
    kept: list[Any] = field(default_factory=list)


_process = _Process()


def _keep(result: Any) -> None:
    """Keep ``result`` alive until the process ends, when :func:`main` ends it at once."""
    if _process.ending:
        _process.kept.append(result)


def _end_process(code: int) -> NoReturn:
    """End the process now: every file is written and closed, the streams are flushed.

    Freeing a city's plan object by object (a million points) takes about a second
    that nobody waits for on purpose; the operating system takes the memory back at once.
    """
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with suppress(OSError, ValueError):  # a closed pipe (camplan ... | head) is not news
            stream.flush()
    os._exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script: exit 2 with one message on user errors.

    Called without ``argv`` (as the ``camplan`` console script), it ends the process
    itself when the command is done (:func:`_end_process`).
    """
    _process.ending = argv is None
    code = _run(argv)
    if _process.ending:
        _end_process(code)
    return code


def _run(argv: Sequence[str] | None) -> int:
    try:
        code = cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="camplan",
            standalone_mode=False,
        )
    except click.exceptions.Exit as done:
        return int(done.exit_code)
    except click.ClickException as err:
        err.show()
        return EXIT_USER_ERROR
    except click.exceptions.Abort:
        click.echo("camplan: interrupted", err=True)
        return 130
    except CamplanError as err:
        click.echo(f"camplan: error: {err}", err=True)
        return EXIT_USER_ERROR
    return code if isinstance(code, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
