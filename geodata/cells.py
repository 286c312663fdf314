"""Typed columns from the text cells of a CSV, without losing a character: ids keep their text.

pandas reads ``00042`` as the number 42, ``+852`` as 852, ``1e5`` as 100000.0
and ``12345678901234567890`` as a rounded float. Here a column becomes numbers
only when writing those numbers back (as camplan's outputs do: ``str`` of an
integer, the shortest ``repr`` of a float) gives the text of every cell again:
whole numbers without leading zeros or ``+`` (int64), or decimals in their
shortest form (float64). Any other column stays text, exactly as in the file.
So an id ``00042`` stays ``"00042"`` and an id ``42`` stays the integer 42, as
it does when read from GeoJSON or a GeoPackage.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["is_faithful_float", "is_faithful_int", "typed_columns"]

_INT = re.compile(r"-?(?:0|[1-9][0-9]{0,17})")
_FLOAT = re.compile(r"-?[0-9]+\.[0-9]+")
_SHORT_FLOAT = re.compile(r"-?(?:0|[1-9][0-9]*)\.(?:[0-9]*[1-9]|0)")
_SHORT_LENGTH = 16
"""Characters of a decimal that hold at most 15 significant digits (with its point)."""
_TINY = re.compile(r"-?0\.0000")
"""Decimals below 0.0001, which ``repr`` writes with an exponent."""


def is_faithful_int(text: str) -> bool:
    """Whether ``text`` is a whole number that ``str(int(text))`` writes back unchanged.

    ``"42"``, ``"-7"``, ``"0"`` are; ``"00042"``, ``"+5"``, ``"-0"``, ``" 7"``
    and numbers of more than 18 digits are not.
    """
    return _INT.fullmatch(text) is not None and text != "-0"


def is_faithful_float(text: str) -> bool:
    """Whether ``text`` is a decimal that ``repr(float(text))`` writes back unchanged.

    ``"2.5"``, ``"-0.25"``, ``"114.1501576"`` are; ``"2.50"``, ``"1e5"``, ``".5"``
    and decimals with more digits than a float holds are not.
    """
    return _FLOAT.fullmatch(text) is not None and repr(float(text)) == text


def typed_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Turn each text column of ``frame`` into numbers when every cell writes back the same.

    Parameters
    ----------
    frame
        Read with every cell as text (``dtype=str``); empty cells are missing.

    Returns
    -------
    pandas.DataFrame
        ``frame``, changed in place: a column whose present cells are all
        :func:`is_faithful_int` becomes int64 (``Int64`` when a cell is
        empty); all :func:`is_faithful_float`, float64; any other column keeps
        its text.
    """
    for column in frame.columns:
        values = frame[column]
        cells = values.dropna()
        if cells.empty or not all(isinstance(v, str) for v in cells.head(1).tolist()):
            continue
        text = pa.Array.from_pandas(cells.astype(str))
        present = values.notna().to_numpy()
        if _all_match(text, _INT) and not pc.any(pc.equal(text, "-0")).as_py():
            numbers = pc.cast(text, pa.int64()).to_numpy(zero_copy_only=False)
            if present.all():
                frame[column] = numbers
                continue
            frame[column] = pd.array([None] * len(values), dtype="Int64")
            frame.loc[present, column] = numbers
        elif (floats := _floats(text)) is not None:
            column_values = np.full(len(values), np.nan)
            column_values[present] = floats
            frame[column] = column_values
    return frame


def _all_match(text: pa.Array, pattern: re.Pattern[str]) -> bool:
    """Whether every cell matches ``pattern`` whole (on the whole column at once)."""
    return bool(pc.all(pc.match_substring_regex(text, f"^(?:{pattern.pattern})$")).as_py())


def _floats(text: pa.Array) -> np.ndarray | None:
    """The cells as float64 when every one :func:`is_faithful_float`, else ``None``.

    A decimal of at most 15 significant digits without trailing zeros, from
    0.0001 up, is its own ``repr`` (a float64 tells apart every decimal of 15
    digits); only the other cells are checked with ``repr`` one by one.
    """
    if not _all_match(text, _FLOAT):
        return None
    numbers = pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False)
    short = pc.match_substring_regex(text, f"^(?:{_SHORT_FLOAT.pattern})$")
    sure = pc.and_(pc.and_(short, pc.less_equal(pc.utf8_length(text), _SHORT_LENGTH)),
                   pc.invert(pc.match_substring_regex(text, f"^{_TINY.pattern}")))
    rest = np.flatnonzero(~sure.to_numpy(zero_copy_only=False))
    cells = text.take(pa.array(rest)).to_pylist()
    if all(repr(v) == t for v, t in zip(numbers[rest].tolist(), cells, strict=True)):
        return np.asarray(numbers, dtype=np.float64)
    return None
