"""Text on the map: escaped and formatted for people (popups, tooltips, legend)."""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd


def _text(value: Any) -> str:
    """Return ``value`` as HTML-escaped text; missing values become an empty string."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return html.escape(str(value), quote=True)


def _number(value: Any) -> str:
    """Format a weight for people: thousands separators, about four significant digits."""
    if value is None or pd.isna(value):
        return ""
    x = float(value)
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 1:
        return f"{x:,.2f}"
    return f"{x:.4g}"


def _percent(value: Any) -> str:
    """Format a share (0..1) as a percentage with one decimal."""
    if value is None or pd.isna(value):
        return ""
    return f"{100 * float(value):.1f} %"


def _integer(value: Any) -> str:
    """Format a count with thousands separators."""
    if value is None or pd.isna(value):
        return ""
    return f"{int(value):,}"


def _formatted(
    frame: pd.DataFrame, columns: Sequence[str], formats: Mapping[str, Callable[[Any], str]]
) -> list[dict[str, str]]:
    """Each row's values of ``columns`` (those present), each through its format, by column."""
    present = [c for c in columns if c in frame.columns]
    texts = [[formats[c](v) for v in frame[c].tolist()] for c in present]
    if not present:
        return [{} for _ in range(len(frame))]
    return [dict(zip(present, row, strict=True)) for row in zip(*texts, strict=True)]
