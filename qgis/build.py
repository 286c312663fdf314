"""Build the installable plugin zip: ``python3 qgis/build.py build/camplan_qgis.zip``.

The zip holds one folder, ``camplan_qgis/``, as QGIS's "Install from ZIP" expects;
entries are sorted and dated 1980-01-01 so that the same sources give the same bytes.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

PLUGIN = Path(__file__).resolve().parent / "camplan_qgis"
SUFFIXES = {".py", ".txt", ".svg", ".png"}


def build(target: Path) -> Path:
    """Write the zip of the plugin folder to ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    files = sorted(
        p
        for p in PLUGIN.rglob("*")
        if p.is_file() and p.suffix in SUFFIXES and "__pycache__" not in p.parts
    )
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in files:
            info = zipfile.ZipInfo(
                f"{PLUGIN.name}/{path.relative_to(PLUGIN).as_posix()}",
                date_time=(1980, 1, 1, 0, 0, 0),
            )
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
    return target


if __name__ == "__main__":
    print(build(Path(sys.argv[1] if len(sys.argv) > 1 else "build/camplan_qgis.zip")))
