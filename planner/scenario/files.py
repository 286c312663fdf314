"""Scenarios: every option of a planning run, from a TOML file and/or the command line.

A scenario file holds the same keys as the ``camplan plan`` options, with
underscores (``site_id``, ``min_spacing``). Layer paths are relative to the
scenario file, or to ``data_dir`` when given. Reading checks every layer and
reports every problem of every layer in one error.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from geodata.errors import OptionError, ScenarioError
from planner.api import PlanOptions
from planner.options import TABLES, Option, label, lookup, parse, suggest
from planner.scenario.cameras import uses_cameras
from planner.scenario.rules import check_rules

__all__ = ["Scenario", "load_scenario"]

logger = logging.getLogger(__name__)


def _empty(option: Option) -> Any:
    if option.default is None and option.kind in ("paths", "counts", "ids", "bands", "layers",
                                                  "texts", "tables"):
        return ()
    return option.default


@dataclass(frozen=True)
class Scenario:
    """A planning run, fully specified: the options given, from a file and the command line.

    Every option of :data:`planner.options.OPTIONS` reads as an attribute
    (``scenario.radius``), its default when not given; ``scenario.get("surface.cell")``
    reads a table key. Layer paths are resolved against :attr:`base`.

    Attributes
    ----------
    values
        The options given, by key (``"surface.cell"`` for table keys), parsed.
    labels
        How the user wrote each given option (``--radius``, ``radius``,
        ``[surface] cell``), for messages.
    source
        The scenario file, or ``"command line"``.
    base
        The folder layer paths are relative to.
    """

    values: Mapping[str, Any] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    source: str = field(default="command line", compare=False)
    base: Path = field(default=Path("."), compare=False)

    def __getattr__(self, key: str) -> Any:
        """Option ``key`` (its default when not given), as ``scenario.radius``."""
        if key.startswith("_"):
            raise AttributeError(key)
        try:
            return self.get(key)
        except KeyError:
            raise AttributeError(key) from None

    def get(self, key: str) -> Any:
        """The value of option ``key``: as given, else its default."""
        if key in self.values:
            return self.values[key]
        return _empty(lookup(key))

    def given(self, key: str) -> bool:
        """Whether option ``key`` was given (in the file or on the command line)."""
        return key in self.values

    def label(self, key: str) -> str:
        """Option ``key`` as the user wrote it (its flag by default)."""
        return self.labels.get(key) or label(lookup(key), cli=self.source == "command line")

    def table(self, name: str) -> dict[str, Any]:
        """The keys given in table ``[name]`` (without the table prefix)."""
        prefix = f"{name}."
        return {k.removeprefix(prefix): v for k, v in self.values.items() if k.startswith(prefix)}

    @property
    def surface(self) -> dict[str, Any]:
        """The keys given in ``[surface]``."""
        return self.table("surface")

    @property
    def candidates(self) -> dict[str, Any]:
        """The keys given in ``[candidates]``."""
        return self.table("candidates")

    def with_values(self, **values: Any) -> Scenario:
        """A copy with options set (keys with ``__`` for tables: ``surface__rule``)."""
        updated = {**self.values, **{k.replace("__", "."): v for k, v in values.items()}}
        return replace(self, values=updated)

    def options(self) -> PlanOptions:
        """The optimiser's options (the values were checked when the scenario was read)."""
        if self.radius is None and not uses_cameras(self):
            raise OptionError(self.label("radius"),
                              "is required: the reach of one camera set in metres")
        if self.sets is None and self.budget is None:
            raise OptionError(self.label("sets"), "is required (or a budget with a cost column)")
        exact = "auto" if self.exact is None else "always" if self.exact else "never"
        return PlanOptions(
            radius_m=float(self.radius) if self.radius is not None else 0.0,
            sets=self.sets,
            phases=tuple(self.phases),
            bands=tuple(self.decay),
            min_spacing_m=float(self.min_spacing),
            budget=self.budget,
            forced=tuple(self.forced),
            forbidden=tuple(self.forbidden),
            local_search=self.local_search,
            exact=exact,
            time_limit=float(self.time_limit),
            exact_nodes=int(self.exact_nodes),
            windows=None if self.windows is None else int(self.windows),
            window_size=int(self.window_size),
        )


def _resolve(path: str | Path, base: Path) -> Path:
    p = Path(path).expanduser()
    return p if p.is_absolute() else base / p


def _resolve_paths(values: dict[str, Any], base: Path) -> None:
    """Every layer path of ``values`` (top level, lists, tables' fields) resolved against ``base``.

    ``existing = [{ layer = ..., owner = ... }]`` becomes the paths of ``existing`` and,
    when any owner is named, ``existing_owners`` ("" for a layer without one).
    """
    for key, value in list(values.items()):
        option = lookup(key)
        if option.kind == "path" and not (key == "surface.population" and value == "districts"):
            values[key] = _resolve(value, base)
        elif option.kind == "paths":
            values[key] = tuple(_resolve(p, base) for p in value)
        elif option.kind == "layers":
            entries = [e if isinstance(e, Mapping) else {"layer": e} for e in value]
            values[key] = tuple(_resolve(e["layer"], base) for e in entries)
            if any("owner" in e for e in entries):
                values["existing_owners"] = tuple(str(e.get("owner", "")) for e in entries)
        elif option.fields:
            paths = {f.key for f in option.fields if f.kind == "path"}
            entries = value if option.kind == "tables" else (value,)
            resolved = tuple({k: _resolve(v, base) if k in paths else v for k, v in e.items()}
                             for e in entries)
            values[key] = resolved if option.kind == "tables" else resolved[0]


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ScenarioError(f"{path}: no such scenario file")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ScenarioError(f"{path}: not a valid TOML file: {err}") from err


def _parse_file(raw: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """Every key of a scenario file through the registry: values, labels, problems."""
    values: dict[str, Any] = {}
    labels: dict[str, str] = {}
    problems: list[str] = []
    items: list[tuple[str, str | None, Any]] = []
    for key, value in raw.items():
        if key in TABLES:
            if not isinstance(value, Mapping):
                problems.append(f"[{key}] must be a table of keys")
                continue
            items += [(f"{key}.{k}", key, v) for k, v in value.items()]
        else:
            items.append((key, None, value))
    for key, table, value in items:
        name = key.rsplit(".", 1)[-1]
        try:
            option = lookup(key)
        except KeyError:
            where = f" in [{table}]" if table else ""
            problems.append(f"unknown key {name!r}{where}{suggest(name, table)}")
            continue
        parsed, problem = parse(option, value)
        where = f"key {name!r} in [{table}]" if table else f"key {name!r}"
        if problem is not None:
            problems.append(f"{where} {problem}")
            continue
        values[key], labels[key] = parsed, label(option, cli=False)
    return values, labels, problems


def _overrides(overrides: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """Command-line values (already typed by click), checked against the registry."""
    values, labels, problems = {}, {}, []
    for key, value in overrides.items():
        if value is None or value == ():
            continue
        option = lookup(key)
        name = label(option, cli=True)
        problem = option.check(value)
        if problem is not None:
            problems.append(f"{name}: {problem}")
            continue
        values[key], labels[key] = value, name
    return values, labels, problems


def load_scenario(
    path: Path | None,
    overrides: Mapping[str, Any] | None = None,
    *,
    data_dir: Path | None = None,
    problems: list[str] | None = None,
) -> Scenario:
    """Read a scenario file (if any) and apply ``overrides`` (command-line options).

    Every key and value is checked against :data:`planner.options.OPTIONS`:
    unknown keys (with a suggestion), wrong types and values out of range,
    then the rules between options (:func:`planner.scenario.rules.check_rules`).

    Parameters
    ----------
    overrides
        Option values by key, from the command line; they replace the file's.
    data_dir
        The folder layer paths are relative to (default: the file's folder).
    problems
        When given, every problem is appended here (and the option skipped)
        instead of raised, so that ``camplan validate`` reports them together
        with every layer problem.

    Raises
    ------
    ScenarioError
        For a missing or malformed file, unknown keys or wrong values.
    """
    values, labels, found = {}, {}, []
    source, base = "command line", data_dir or Path.cwd()
    if path is not None:
        source, base = str(path), data_dir or path.parent
        values, labels, found = _parse_file(_read_toml(path))
    cli_values, cli_labels, cli_found = _overrides(overrides or {})
    values.update(cli_values)
    labels.update(cli_labels)
    _resolve_paths(values, base)
    scenario = Scenario(values=values, labels=labels, source=source, base=base)
    found = [f"{path}: {p}" for p in found] + cli_found + check_rules(scenario)
    if found and problems is None:
        if path is not None and all(p.startswith(f"{path}: ") for p in found):
            raise ScenarioError(f"{path}: " + "; ".join(p.removeprefix(f"{path}: ")
                                                        for p in found))
        raise ScenarioError("; ".join(found))
    if problems is not None:
        problems.extend(found)
    return scenario
