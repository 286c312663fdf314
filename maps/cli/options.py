"""Command-line options made from the option registry (:data:`planner.options.OPTIONS`).

Every option with a flag becomes one click option of ``camplan plan``; none
has a click default, so a value given on the command line can be told from
one left to the scenario file or the registry's default.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from planner.options import OPTIONS, Option

__all__ = ["PLAN_OPTIONS", "plan_options", "registry_options", "to_scenario_keys"]

F = TypeVar("F", bound=Callable[..., Any])

#: The registry options that ``camplan plan`` takes on its command line.
PLAN_OPTIONS: tuple[Option, ...] = tuple(o for o in OPTIONS if o.cli is not None)


def _int_list(flag: str) -> Callable[[click.Context, click.Parameter, str | None], tuple]:
    def parse(_ctx: click.Context, _param: click.Parameter, value: str | None) -> tuple:
        if value is None or value == "":
            return ()
        try:
            return tuple(int(v.strip().replace("_", "")) for v in value.split(","))
        except ValueError:
            raise click.BadParameter(
                f"expected whole numbers separated by commas (e.g. 2000,2000), got {value!r}",
                param_hint=flag,
            ) from None

    return parse


def _bands(_ctx: click.Context, _param: click.Parameter, value: str | None) -> tuple:
    """``25:1,50:0.6,100:0.3`` -> ((25, 1.0), (50, 0.6), (100, 0.3))."""
    if not value:
        return ()
    try:
        pairs = [item.split(":") for item in value.split(",")]
        return tuple((float(d), float(q)) for d, q in pairs)
    except ValueError:
        raise click.BadParameter(
            f"expected DIST:QUALITY pairs such as 25:1,50:0.6,100:0.3, got {value!r}",
            param_hint="--decay",
        ) from None


def _ids(_ctx: click.Context, _param: click.Parameter, value: str | None) -> tuple:
    return tuple(v.strip() for v in value.split(",") if v.strip()) if value else ()


def _help(option: Option) -> str:
    unit = {"m": " Metres.", "s": " Seconds."}.get(option.unit, "")
    default = option.default
    shown = "" if default is None or isinstance(default, bool) else f" [default: {default}]"
    return option.help + unit + shown


def _click_option(option: Option) -> Callable[[F], F]:
    flag = option.cli or ""
    common: dict[str, Any] = {"help": _help(option), "default": None}
    kind = option.kind
    if kind == "flag":
        return click.option(flag, option.key, **common)
    if kind == "number":
        return click.option(flag, option.key, type=float, **common)
    if kind == "count":
        return click.option(flag, option.key, type=int, **common)
    if kind == "path":
        return click.option(flag, option.key, type=click.Path(path_type=Path), **common)
    if kind in ("paths", "layers"):
        return click.option(flag, option.key, type=click.Path(path_type=Path), multiple=True,
                            help=_help(option))
    if kind == "choice":
        return click.option(flag, option.key, type=click.Choice(option.choices), **common)
    callbacks = {"counts": _int_list(flag), "bands": _bands, "ids": _ids}
    if kind in callbacks:
        return click.option(flag, option.key, callback=callbacks[kind], **common)
    return click.option(flag, option.key, type=str, **common)


def plan_options(command: F) -> F:
    """Decorate ``command`` with one click option per registry option that has a flag."""
    for option in reversed(PLAN_OPTIONS):
        command = _click_option(option)(command)
    return command


def registry_options(*keys: str) -> Callable[[F], F]:
    """Decorate a command with the click options of the registry options ``keys``."""

    def decorate(command: F) -> F:
        for option in reversed([o for o in PLAN_OPTIONS if o.key in keys]):
            command = _click_option(option)(command)
        return command

    return decorate


def to_scenario_keys(given: dict[str, Any]) -> dict[str, Any]:
    """The command-line values that were given, by scenario key (empty values dropped)."""
    keys = {o.key for o in PLAN_OPTIONS}
    return {k: v for k, v in given.items() if k in keys and v is not None and v != ()}
