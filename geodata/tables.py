"""Read and check attribute tables (CSV without geometry): counts or population per district.

A table joins to a polygon layer by a key column. :func:`read_table` reads it
and checks it once, collecting every problem (missing columns, empty or
duplicate keys, non-numeric or negative values) into one
:class:`~geodata.errors.LayerError`.
"""

from __future__ import annotations

import csv
import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from geodata.errors import LayerError
from geodata.validate import format_rows

__all__ = ["join_key", "read_table"]

logger = logging.getLogger(__name__)


def join_key(values: pd.Series) -> pd.Series:
    """Normalise names for joining: case, spacing and ``&``/``and`` do not matter.

    ``"Central And Western"``, ``"central and western"`` and
    ``"Central & Western"`` all become ``"central and western"``.
    """
    text = values.astype(str).str.casefold().str.replace("&", " and ", regex=False)
    return text.map(lambda s: re.sub(r"\s+", " ", s).strip())


def read_table(
    path: str | os.PathLike[str],
    *,
    key: str,
    columns: Sequence[str],
    role: str = "table",
) -> pd.DataFrame:
    """Read a CSV table keyed by ``key`` with non-negative numeric ``columns``.

    Parameters
    ----------
    path
        A ``.csv`` (comma) or ``.tsv`` (tab) file with a header row.
    key
        The column joining the table to a layer (a district name, a code).
    columns
        Columns that must hold numbers >= 0 (population, crime counts, ...).
    role
        What the table is for, used in messages.

    Returns
    -------
    pandas.DataFrame
        The table, the ``columns`` as float64.

    Raises
    ------
    LayerError
        Listing every problem found.
    """
    path = Path(path)
    source = f"{role} table {path}"
    if not path.is_file():
        raise LayerError(source, "file not found; check the path")
    frame = _read_frame(path, source, key)
    problems: list[str] = []
    present = ", ".join(map(str, frame.columns))
    if len(frame) == 0:
        problems.append("has a header but no rows")
    for column in (key, *columns):
        if column not in frame.columns:
            problems.append(f"has no column {column!r}; columns present: {present}")
    if key in frame.columns:
        problems += _check_keys(frame[key], key)
    for column in columns:
        if column in frame.columns:
            values, found = _check_numbers(frame[column], column)
            problems += found
            if not found:
                frame[column] = values
    if problems:
        raise LayerError(source, problems)
    logger.info("%s: read %d rows", source, len(frame))
    return frame


def _read_frame(path: Path, source: str, key: str) -> pd.DataFrame:
    """The CSV (``.tsv``: tab-separated) as read, its ``key`` column as text."""
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    try:
        return pd.read_csv(path, sep=sep, encoding="utf-8-sig", dtype={key: str})
    except pd.errors.EmptyDataError as err:
        raise LayerError(source, "is empty: no header and no rows") from err
    except UnicodeDecodeError as err:
        raise LayerError(source, "is not UTF-8 text; save it as UTF-8") from err
    except (pd.errors.ParserError, csv.Error) as err:
        raise LayerError(source, f"is not a well-formed table ({err})") from err


def _check_keys(keys: pd.Series, name: str) -> list[str]:
    problems = []
    null = keys.isna().to_numpy()
    if null.any():
        problems.append(f"key column {name!r} is empty at {format_rows(np.flatnonzero(null) + 1)}")
    dup = join_key(keys.fillna("")).duplicated(keep=False).to_numpy() & ~null
    if dup.any():
        names = sorted(set(keys[dup].astype(str)))
        problems.append(
            f"key column {name!r} has duplicates at {format_rows(np.flatnonzero(dup) + 1)} "
            f"({', '.join(repr(n) for n in names[:5])}); each key must appear once"
        )
    return problems


def _check_numbers(values: pd.Series, name: str) -> tuple[pd.Series, list[str]]:
    numbers = pd.to_numeric(values, errors="coerce").astype("float64")
    bad = numbers.isna().to_numpy()
    problems = []
    if bad.any():
        problems.append(
            f"column {name!r} is missing or not a number at "
            f"{format_rows(np.flatnonzero(bad) + 1)}; give a number (0 if none)"
        )
    negative = (numbers < 0).to_numpy()
    if negative.any():
        problems.append(
            f"column {name!r} is negative at {format_rows(np.flatnonzero(negative) + 1)}; "
            "counts must be 0 or more"
        )
    infinite = np.isinf(numbers.to_numpy())
    if infinite.any():
        problems.append(
            f"column {name!r} is infinite at {format_rows(np.flatnonzero(infinite) + 1)}"
        )
    return numbers, problems
