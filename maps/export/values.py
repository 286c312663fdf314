"""Plain JSON values and CSV cell texts of data-frame cells, and the deterministic JSON writer.

Shared by every export: the same value always gives the same text.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from maps.export.geojson import compact_json

__all__ = [
    "FORMULA_STARTS",
    "cell_texts",
    "dumps_json",
    "format_cell",
    "from_spreadsheet_cell",
    "is_missing",
    "json_column",
    "json_value",
    "ratio",
    "spreadsheet_cell",
    "write_json",
]

logger = logging.getLogger(__name__)


def json_value(value: Any) -> Any:
    """Turn one cell value into plain JSON: numpy scalars to Python, NaN to ``None``.

    Parameters
    ----------
    value
        Any value read from a data frame or a plan attribute.

    Returns
    -------
    Any
        ``None``, ``bool``, ``int``, a finite ``float``, ``str``, ``list`` or
        ``dict``; anything else becomes its ``str``.
    """
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [json_value(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return None if pd.isna(value) else value.isoformat()
    if is_missing(value):
        return None
    return str(value)


def is_missing(value: Any) -> bool:
    """True for ``pd.NA``, ``pd.NaT`` and similar scalar missing values."""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def json_column(values: pd.Series) -> list[Any]:
    """:func:`json_value` of every value of a column, a whole column at a time when plain.

    Booleans and integers are already plain once listed; floats are too, but for
    NaN and infinity (``None``). Any other column goes value by value.
    """
    dtype = values.dtype
    if not isinstance(dtype, np.dtype) or dtype.kind not in "biuf":
        return [json_value(v) for v in values.tolist()]
    array = values.to_numpy()
    out = array.tolist()
    if dtype.kind == "f" and not np.isfinite(array).all():
        for i in np.flatnonzero(~np.isfinite(array)).tolist():
            out[i] = None
    return out


def format_cell(value: Any) -> str:
    """One CSV cell: shortest round-trip ``repr`` for floats, empty for missing values."""
    value = json_value(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list | dict):
        return dumps_json(value).rstrip("\n")
    return str(value)


def cell_texts(values: pd.Series) -> list[str]:
    """:func:`format_cell` of every value of a column, a whole column at a time when plain."""
    dtype = values.dtype
    if not isinstance(dtype, np.dtype) or dtype.kind not in "biuf":
        return [format_cell(v) for v in values.tolist()]
    listed = json_column(values)
    if dtype.kind == "b":
        return ["true" if v else "false" for v in listed]
    if dtype.kind == "f":
        return ["" if v is None else repr(v) for v in listed]
    return [str(v) for v in listed]


def dumps_json(obj: Any, *, indent: int | None = None) -> str:
    """Serialise ``obj`` deterministically; NaN or infinity raise ``ValueError``."""
    if indent is None:
        return compact_json(obj) + "\n"
    text = json.dumps(
        obj, ensure_ascii=False, allow_nan=False, separators=(",", ": "), indent=indent
    )
    return text + "\n"


def write_json(obj: Any, path: Path, *, indent: int | None = None) -> Path:
    """Write :func:`dumps_json` of ``obj`` as UTF-8."""
    path.write_bytes(dumps_json(obj, indent=indent).encode("utf-8"))
    logger.debug("wrote %s", path)
    return path


def ratio(numerator: float, denominator: float, *, default: float = 0.0) -> float:
    """``numerator / denominator``, ``default`` when the denominator is not positive."""
    return numerator / denominator if denominator > 0 else default


# --------------------------------------------------------------------------- spreadsheets

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet run a cell as a formula (OWASP "CSV injection")."""

_NUMBER = re.compile(r"-(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


def _runs_as_formula(text: str) -> bool:
    """Whether a spreadsheet would run ``text`` (a negative number is just a number)."""
    return text.startswith(FORMULA_STARTS) and _NUMBER.fullmatch(text) is None


def spreadsheet_cell(text: str) -> str:
    """``text`` made safe to open in a spreadsheet: a ``'`` before a would-be formula.

    A cell starting with ``= + - @``, tab or carriage return is prefixed with a
    single quote, which spreadsheets take as "this is text"; a negative number
    (``-12.5``, ``-1e-05``) is left as it is. Text that already starts with
    quotes before such a character gets one more, so :func:`from_spreadsheet_cell`
    gives back every text exactly.

    Parameters
    ----------
    text
        One CSV cell as written by :func:`format_cell`.

    Returns
    -------
    str
    """
    return "'" + text if _runs_as_formula(text.lstrip("'")) else text


def from_spreadsheet_cell(text: str) -> str:
    """The text :func:`spreadsheet_cell` was given for ``text`` (reading our own CSV back).

    Parameters
    ----------
    text
        One cell of a CSV written by camplan.

    Returns
    -------
    str
    """
    if text.startswith("'") and _runs_as_formula(text.lstrip("'")):
        return text[1:]
    return text
