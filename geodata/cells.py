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

import pandas as pd

__all__ = ["is_faithful_float", "is_faithful_int", "typed_columns"]

_INT = re.compile(r"-?(?:0|[1-9][0-9]{0,17})")
_FLOAT = re.compile(r"-?[0-9]+\.[0-9]+")


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
        cells = values.dropna().tolist()
        if not cells or not all(isinstance(v, str) for v in cells):
            continue
        if all(is_faithful_int(v) for v in cells):
            frame[column] = pd.to_numeric(values).astype(
                "Int64" if len(cells) < len(values) else "int64")
        elif all(is_faithful_float(v) for v in cells):
            frame[column] = pd.to_numeric(values).astype("float64")
    return frame
