"""A binary min-heap of ``(key, item)`` in two arrays, ordered like heapq's tuples (compiled).

Both lazy greedies (over sites and over camera sets) keep their stale gains in it:
ties on the key go to the lower item, so results are deterministic.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["heap_push", "heapify", "sift_down"]


@njit(cache=True, inline="always")
def _before(keys: np.ndarray, items: np.ndarray, a: int, b: int) -> bool:
    # numpy's stubs type an array element as Any (numba compiles this to a plain bool)
    return keys[a] < keys[b] or (keys[a] == keys[b] and items[a] < items[b])  # type: ignore[no-any-return]


@njit(cache=True)
def sift_down(keys: np.ndarray, items: np.ndarray, size: int, i: int) -> None:
    """Move entry ``i`` down until the heap of the first ``size`` entries is ordered."""
    while True:
        least, left, right = i, 2 * i + 1, 2 * i + 2
        if left < size and _before(keys, items, left, least):
            least = left
        if right < size and _before(keys, items, right, least):
            least = right
        if least == i:
            return
        keys[i], keys[least] = keys[least], keys[i]
        items[i], items[least] = items[least], items[i]
        i = least


@njit(cache=True)
def heap_push(keys: np.ndarray, items: np.ndarray, size: int, key: float, item: int) -> int:
    """Add ``(key, item)`` to the heap of the first ``size`` entries; the new size."""
    i = size
    keys[i], items[i] = key, item
    while i > 0 and _before(keys, items, i, (i - 1) // 2):
        parent = (i - 1) // 2
        keys[i], keys[parent] = keys[parent], keys[i]
        items[i], items[parent] = items[parent], items[i]
        i = parent
    return size + 1


@njit(cache=True)
def heapify(keys: np.ndarray, items: np.ndarray) -> None:
    """Order all of ``keys``/``items`` as a heap, in place."""
    for i in range(len(keys) // 2 - 1, -1, -1):
        sift_down(keys, items, len(keys), i)
