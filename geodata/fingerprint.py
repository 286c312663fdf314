"""Fingerprints of input files, so a plan records exactly which data it was made from.

A fingerprint is ``"sha256:"`` followed by 64 hex digits. It depends only on
the bytes of the data, never on file names, times or the order a folder is
listed in, so the same data gives the same fingerprint on every machine.

- a single file: the SHA-256 of its bytes (the same digest as ``sha256sum``);
- a Shapefile: its ``.shp .shx .dbf .prj .cpg`` files that exist, in that order;
- a folder (a FileGDB ``.gdb``, ...): every file in it, by sorted relative path.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from geodata.errors import LayerError

__all__ = ["SHAPEFILE_PARTS", "fingerprint"]

#: The Shapefile parts that hold data, in the order they are hashed.
SHAPEFILE_PARTS: tuple[str, ...] = (".shp", ".shx", ".dbf", ".prj", ".cpg")

_CHUNK = 1 << 20


def fingerprint(path: str | os.PathLike[str]) -> str:
    """The SHA-256 fingerprint of a data source.

    Parameters
    ----------
    path
        A file, a Shapefile's ``.shp`` or a folder-based source.

    Returns
    -------
    str
        ``"sha256:<64 hex digits>"``.

    Raises
    ------
    LayerError
        When the path does not exist or cannot be read.
    """
    path = Path(path)
    if not path.exists():
        raise LayerError(str(path), "file not found, so it cannot be fingerprinted; check the path")
    try:
        if path.is_dir():
            digest = _hash_parts(_folder_parts(path))
        elif path.suffix.lower() == ".shp":
            digest = _hash_parts(_shapefile_parts(path))
        else:
            digest = _hash_file(path, hashlib.sha256())
    except OSError as err:
        raise LayerError(
            str(path), f"cannot be read to fingerprint it ({err.strerror}); check permissions"
        ) from err
    return f"sha256:{digest.hexdigest()}"


def _shapefile_parts(path: Path) -> list[tuple[str, Path]]:
    parts = []
    for suffix in SHAPEFILE_PARTS:
        for candidate in (path.with_suffix(suffix), path.with_suffix(suffix.upper())):
            if candidate.is_file():
                parts.append((suffix, candidate))
                break
    return parts


def _folder_parts(folder: Path) -> list[tuple[str, Path]]:
    files = [p for p in folder.rglob("*") if p.is_file()]
    return sorted((p.relative_to(folder).as_posix(), p) for p in files)


def _hash_parts(parts: list[tuple[str, Path]]) -> hashlib._Hash:
    """Hash named parts unambiguously: each name and size precede the part's bytes."""
    digest = hashlib.sha256()
    for name, path in parts:
        encoded = name.encode("utf-8")
        digest.update(len(encoded).to_bytes(8, "big") + encoded)
        digest.update(path.stat().st_size.to_bytes(8, "big"))
        _hash_file(path, digest)
    return digest


def _hash_file(path: Path, digest: hashlib._Hash) -> hashlib._Hash:
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest
