"""GeoJSON geometry objects of many geometries at once: as Python objects or as text.

:func:`geometry_objects` builds the objects from one coordinate array per
geometry type. :func:`geometry_texts` gives, for each geometry, exactly the text that
``json.dumps(obj, separators=(",", ":"))`` gives for its GeoJSON object with
coordinates rounded by Python's ``round`` — without building the nested lists
of Python floats first (for a city's footprints, hundreds of thousands of
vertices, that and their serialisation were most of the time). The numbers are
put together in NumPy from tables of digit groups; the few that Python writes
otherwise (in exponent form, or too large for the tables) are written by
Python itself.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import shapely

__all__ = [
    "RAGGED_TYPES",
    "compact_json",
    "geometry_objects",
    "geometry_texts",
    "number_matrix",
    "number_texts",
]

RAGGED_TYPES: dict[shapely.GeometryType, str] = {
    shapely.GeometryType.POINT: "Point",
    shapely.GeometryType.LINESTRING: "LineString",
    shapely.GeometryType.POLYGON: "Polygon",
    shapely.GeometryType.MULTIPOINT: "MultiPoint",
    shapely.GeometryType.MULTILINESTRING: "MultiLineString",
    shapely.GeometryType.MULTIPOLYGON: "MultiPolygon",
}
"""Geometry types written from one coordinate array per type (GeoJSON names)."""

_PAD = 0
"""The byte that fills the rows of a character matrix; dropped when the text is joined."""
_SMALLEST = 1e-4
"""Python writes numbers below this in exponent form (``1e-05``)."""
_GROUP = 4
"""Digits per table entry."""
_LIMIT = 10**_GROUP
"""Numbers from here on are written by Python (integer parts come from one table entry)."""


def _table(texts: Sequence[str], width: int) -> tuple[np.ndarray, np.ndarray]:
    """Texts as one unsigned integer of ``width`` bytes each (zero-padded), and their lengths."""
    raw = b"".join(t.encode("ascii").ljust(width, b"\0") for t in texts)
    return np.frombuffer(raw, dtype=f"<u{width}"), np.array([len(t) for t in texts])


# "-12." for the integer part with the point; digit groups of the decimals: all four
# digits, without trailing zeros, or without trailing zeros but at least one digit
_HEAD, _HEAD_LEN = _table([f"{s}{i}." for s in ("", "-") for i in range(_LIMIT)], 8)
_FULL, _ = _table([f"{i:0{_GROUP}d}" for i in range(_LIMIT)], _GROUP)
_STRIPPED, _STRIPPED_LEN = _table([f"{i:0{_GROUP}d}".rstrip("0") for i in range(_LIMIT)], _GROUP)
_LAST, _LAST_LEN = _table([f"{i:0{_GROUP}d}".rstrip("0") or "0" for i in range(_LIMIT)], _GROUP)


def number_matrix(values: np.ndarray, decimals: int) -> tuple[np.ndarray, np.ndarray]:
    """The JSON text of each number, one row of a zero-padded byte matrix each, and its length.

    Each value must already be rounded to ``decimals`` decimals (as by Python's
    ``round``); its text is then ``repr(value)``. A value ``v`` with
    ``1e-4 <= abs(v) < 1e4`` equals the double nearest to ``k / 10**decimals``
    for an integer ``k`` (checked here); no shorter decimal reads back to it, so
    its ``repr`` is the digits of ``k`` with the point put back and trailing zeros
    dropped (keeping one). Every other value (zero, tiny, large, not finite, not
    so rounded) is written by ``repr`` itself.

    Parameters
    ----------
    values
        Numbers rounded to ``decimals`` decimals, one dimension.
    decimals
        From 1 to 9.

    Returns
    -------
    tuple of numpy.ndarray
        The ``uint8`` matrix, one row per value (its zero bytes are padding
        between and after the characters), and the length of each text.
    """
    if not 1 <= decimals <= 9:  # so that k is below 2**53, exact in a double
        raise ValueError(f"decimals must be from 1 to 9, got {decimals}")
    values = np.asarray(values, dtype=float)
    scale = 10.0**decimals
    magnitude = np.abs(values)
    with np.errstate(invalid="ignore", over="ignore"):
        k = np.rint(magnitude * scale)
        fast = (magnitude >= _SMALLEST) & (magnitude < _LIMIT) & (k / scale == magnitude)
    whole, fraction = np.divmod(np.where(fast, k, 0).astype(np.int64), np.int64(10**decimals))
    groups = -(-decimals // _GROUP)
    fraction *= 10 ** (groups * _GROUP - decimals)  # whole groups of digits: zeros at the end
    row = np.dtype([("head", "<u8"), ("tail", f"<u{_GROUP}", (groups,))])
    rows = np.empty(len(values), dtype=row)
    head = whole + _LIMIT * (values < 0)
    rows["head"] = _HEAD[head]
    lengths = _HEAD_LEN[head]
    later = np.zeros(len(values), dtype=bool)  # a later group of decimals is not all zeros
    for g in range(groups - 1, -1, -1):
        group = fraction // 10 ** (_GROUP * (groups - 1 - g)) % _LIMIT
        table, table_len = (_LAST, _LAST_LEN) if g == 0 else (_STRIPPED, _STRIPPED_LEN)
        rows["tail"][:, g] = np.where(later, _FULL[group], table[group])
        lengths += np.where(later, _GROUP, table_len[group])
        later |= group != 0
    matrix = rows.view(np.uint8).reshape(len(values), row.itemsize)
    slow = np.flatnonzero(~fast).tolist()
    if slow:
        texts = [repr(float(values[i])).encode("ascii") for i in slow]
        wider = max(len(t) for t in texts) - row.itemsize
        if wider > 0:
            matrix = np.hstack([matrix, np.zeros((len(values), wider), dtype=np.uint8)])
        for i, text in zip(slow, texts, strict=True):
            matrix[i] = _PAD
            matrix[i, : len(text)] = np.frombuffer(text, dtype=np.uint8)
            lengths[i] = len(text)
    return matrix, lengths


def number_texts(values: np.ndarray, decimals: int) -> list[str]:
    """``repr`` of each number rounded to ``decimals`` decimals (see :func:`number_matrix`)."""
    matrix, _ = number_matrix(values, decimals)
    return [row.tobytes().replace(b"\0", b"").decode("ascii") for row in matrix]


def _coordinate_texts(
    coords: np.ndarray, offsets: Sequence[np.ndarray], decimals: int
) -> list[str] | None:
    """The JSON text of each geometry's coordinate array, from ``shapely.to_ragged_array``.

    ``None`` when a part is empty (a case the offsets alone do not describe).
    """
    if any(np.any(np.diff(o) == 0) for o in offsets):
        return None
    n, levels = len(coords), len(offsets)
    # how many parts (innermost first) each vertex starts and ends
    starts, ends = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    bounds = np.arange(n + 1)  # where each part of the current level starts
    for offset in offsets:
        bounds = bounds[offset]
        starts[bounds[:-1]] += 1
        ends[bounds[1:] - 1] += 1
    numbers, number_len = number_matrix(coords.reshape(-1), decimals)
    width = numbers.shape[1]
    # one row per vertex: ["," or "[" * starts] "[" x "," y "]" ["]" * ends]
    row = np.dtype(
        [
            ("open", "u1", (levels + 1,)),
            ("x", "u1", (width + 1,)),
            ("y", "u1", (width + 1,)),
            ("close", "u1", (levels + 1,)),
        ]
    )
    rows = np.zeros(n, dtype=row)
    rows["open"][:, 0] = np.where(starts < levels, ord(","), _PAD)
    for level in range(levels):
        rows["open"][:, level + 1] = np.where(starts > level, ord("["), _PAD)
    rows["x"][:, 0] = ord("[")
    rows["x"][:, 1:] = numbers[0::2]
    rows["y"][:, 0] = ord(",")
    rows["y"][:, 1:] = numbers[1::2]
    rows["close"][:, 0] = ord("]")
    for level in range(levels):
        rows["close"][:, level + 1] = np.where(ends > level, ord("]"), _PAD)
    lengths = (starts < levels) + starts + number_len[0::2] + number_len[1::2] + 3 + ends
    text = rows.view(np.uint8)
    whole = text[text != _PAD].tobytes().decode("ascii")
    cuts = np.concatenate([[0], np.cumsum(lengths)])[bounds].tolist()
    return [whole[a:b] for a, b in itertools.pairwise(cuts)]


def _nest(items: list[Any], offsets: Sequence[np.ndarray]) -> list[Any]:
    """Split a flat list by offset arrays, innermost first (as ``to_ragged_array`` gives)."""
    for offset in offsets:
        bounds = offset.tolist()
        items = [items[a:b] for a, b in itertools.pairwise(bounds)]
    return items


def geometry_objects(
    geoms: np.ndarray,
    *,
    round_values: Callable[[np.ndarray], np.ndarray] | None,
    other: Callable[[shapely.Geometry], Any],
    tuples: bool = False,
) -> list[dict[str, Any] | None]:
    """The GeoJSON object of each geometry (``None`` for a missing one).

    Two-dimensional points, lines and polygons (single or multi) are built here,
    ``{"type": ..., "coordinates": [...]}`` with lists, from their coordinates
    rounded by ``round_values`` (or as they are); any other geometry
    (collections, coordinates with z) is given by ``other(geom)``.

    Parameters
    ----------
    geoms
        Shapely geometries or ``None``.
    round_values
        Rounds an array of numbers, or ``None`` to keep them.
    other
        The GeoJSON object (or ``None``) of a geometry not built here.
    tuples
        Give each position as a tuple, not a list: JSON writes them alike, and
        the garbage collector stops tracking tuples of numbers (hundreds of
        thousands of lists would set off a full collection).

    Returns
    -------
    list
        One object (or ``None``) per geometry.
    """
    out: list[dict[str, Any] | None] = [None] * len(geoms)
    if not len(geoms):
        return out
    type_ids = shapely.get_type_id(geoms)
    plain = ~shapely.is_empty(geoms) & ~shapely.has_z(geoms)
    for kind, name in RAGGED_TYPES.items():
        rows = np.flatnonzero((type_ids == kind) & plain)
        if not len(rows):
            continue
        _, coords, offsets = shapely.to_ragged_array(geoms[rows], include_z=False)
        if round_values is not None:
            coords = round_values(coords)
        positions = list(zip(*coords.T.tolist(), strict=True)) if tuples else coords.tolist()
        nested = _nest(positions, offsets)
        for row, coordinates in zip(rows.tolist(), nested, strict=True):
            out[row] = {"type": name, "coordinates": coordinates}
    vectorised = np.isin(type_ids, [int(kind) for kind in RAGGED_TYPES]) & plain
    for row in np.flatnonzero((type_ids >= 0) & ~vectorised).tolist():
        out[row] = other(geoms[row])
    return out


_COMPACT = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def compact_json(value: Any) -> str:
    """``json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))``."""
    return _COMPACT.encode(value)


def geometry_texts(
    geoms: np.ndarray,
    *,
    decimals: int,
    round_values: Callable[[np.ndarray], np.ndarray],
    other: Callable[[shapely.Geometry], Any],
) -> list[str]:
    """Compact JSON text of each geometry's GeoJSON object (``null`` for a missing one).

    Two-dimensional points, lines and polygons (single or multi) are written here,
    from their coordinates rounded by ``round_values``; any other geometry
    (collections, coordinates with z, empty parts) is written as
    ``json.dumps(other(geom))``.

    Parameters
    ----------
    geoms
        Shapely geometries or ``None``.
    decimals
        Decimals that ``round_values`` keeps.
    round_values
        Rounds an array of numbers exactly as Python's ``round(value, decimals)``.
    other
        The GeoJSON object (or ``None``) of a geometry not written here.

    Returns
    -------
    list of str
        One text per geometry.
    """
    out = ["null"] * len(geoms)
    if not len(geoms):
        return out
    type_ids = shapely.get_type_id(geoms)
    plain = ~shapely.is_empty(geoms) & ~shapely.has_z(geoms)
    done = np.zeros(len(geoms), dtype=bool)
    for kind, name in RAGGED_TYPES.items():
        rows = np.flatnonzero((type_ids == kind) & plain)
        if not len(rows):
            continue
        _, coords, offsets = shapely.to_ragged_array(geoms[rows], include_z=False)
        texts = _coordinate_texts(round_values(coords), offsets, decimals)
        if texts is None:
            continue
        head = f'{{"type":"{name}","coordinates":'
        for row, text in zip(rows.tolist(), texts, strict=True):
            out[row] = head + text + "}"
        done[rows] = True
    for row in np.flatnonzero((type_ids >= 0) & ~done).tolist():
        out[row] = compact_json(other(geoms[row]))
    return out
