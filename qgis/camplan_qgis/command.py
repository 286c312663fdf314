"""The camplan command lines the Processing algorithms run, and what they print back.

Plain Python (no QGIS import), so that it is tested without QGIS: the algorithms
turn their parameters into a :class:`PlanRequest` and hand the argument list
built here to :func:`run`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass

ERROR_PREFIX = "camplan: error: "
"""How the command line starts each one-line error message (exit status 2)."""


class CommandError(Exception):
    """The command failed; ``str(error)`` is the command's own one-line message.

    ``errors`` holds every error message it printed (``camplan validate`` prints one
    per problem found).
    """

    def __init__(self, message: str, errors: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.errors = tuple(errors) or (message,)


@dataclass(frozen=True)
class PlanRequest:
    """The values of ``camplan:plan``, layers already written to files."""

    demand: str
    sites: str
    radius_m: float
    sets: int
    out: str
    weight: str = ""
    site_id: str = ""
    phases: str = ""
    existing: tuple[str, ...] = ()
    owner_column: str = ""
    districts: str = ""
    district_name: str = ""
    population: str = ""
    exclusions: str = ""


def plan_arguments(req: PlanRequest) -> list[str]:
    """The arguments of ``camplan plan`` for ``req``.

    Empty values are left out, and the owner field with them when there are no
    existing cameras.
    """
    args = [
        "plan",
        "--demand",
        req.demand,
        "--sites",
        req.sites,
        "--radius",
        repr(float(req.radius_m)),
        "--sets",
        str(int(req.sets)),
    ]
    optional = (
        ("--weight", req.weight),
        ("--site-id", req.site_id),
        ("--phases", req.phases),
        ("--owner-column", req.owner_column if req.existing else ""),
        ("--districts", req.districts),
        ("--district-name", req.district_name),
        ("--population", req.population),
        ("--exclusions", req.exclusions),
    )
    for flag, value in optional:
        if value:
            args += [flag, value]
    for path in req.existing:
        args += ["--existing", path]
    return [*args, "--out", req.out, "--overwrite"]


def compare_arguments(plans: Sequence[str], out: str) -> list[str]:
    """The arguments of ``camplan compare`` for plan folders or scenario files."""
    return ["compare", *plans, "--out", out, "--overwrite"]


def validate_arguments(files: Sequence[str], crs: str = "") -> list[str]:
    """The arguments of ``camplan validate`` for layer or scenario files."""
    return ["validate", *files, *(["--crs", crs] if crs else [])]


def find_executable(configured: str) -> str:
    """The camplan program: the configured path, else ``camplan`` on the PATH."""
    if configured:
        return configured
    found = shutil.which("camplan")
    if found is None:
        raise CommandError(
            "camplan: the camplan command was not found on the PATH; install camplan "
            "(pip install camplan) and set its path under Settings > Options > Processing "
            "> Providers > camplan"
        )
    return found


def error_lines(stderr: str) -> list[str]:
    """The command's error messages, without the ``camplan: error:`` prefix."""
    return [
        line[len(ERROR_PREFIX) :] for line in stderr.splitlines() if line.startswith(ERROR_PREFIX)
    ]


def failure_message(returncode: int, stderr: str) -> str:
    """One line saying why the command failed: its own message, else its last words."""
    errors = error_lines(stderr)
    if errors:
        return errors[0]
    last = [line for line in stderr.splitlines() if line.strip()]
    tail = last[-1] if last else "no message"
    return f"camplan stopped with exit status {returncode}: {tail}"


def run(executable: str, args: Sequence[str], *, echo: Callable[[str], None]) -> str:
    """Run camplan; ``echo`` each line it prints; return its standard output.

    Raises :class:`CommandError` with the command's one-line message when it fails.
    """
    env = dict(os.environ, PYTHONUNBUFFERED="1", NO_COLOR="1")
    try:
        proc = subprocess.run(
            [executable, *args],
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            env=env,
            check=False,
        )
    except OSError as exc:
        raise CommandError(
            f"{executable}: cannot be run ({exc.strerror}); set the camplan path under "
            "Settings > Options > Processing > Providers > camplan"
        ) from None
    for line in proc.stdout.splitlines():
        echo(line)
    for line in proc.stderr.splitlines():
        if not line.startswith(ERROR_PREFIX) and "\r" not in line:
            echo(line)
    if proc.returncode != 0:
        raise CommandError(failure_message(proc.returncode, proc.stderr), error_lines(proc.stderr))
    return proc.stdout
