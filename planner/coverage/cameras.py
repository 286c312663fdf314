"""Camera specifications and their DORI reach (IEC/EN 62676-4), and the shipped catalogue.

A camera of ``px`` horizontal pixels behind a lens of horizontal field of view
``hfov`` spreads its pixels over a scene ``2 * d * tan(hfov / 2)`` metres wide at
distance ``d`` (pinhole camera, flat scene across the optical axis). The pixel
density there is ``px / (2 * d * tan(hfov / 2))`` pixels per metre, so a density
of ``ppm`` is reached up to

    d = px / (2 * tan(hfov / 2) * ppm)

EN 62676-4 names four densities (DORI): detect 25, observe 62.5, recognise 125
and identify 250 px/m. The field of view follows from the lens:
``hfov = 2 * atan(sensor_width / (2 * focal_length))``. Example: 1080p (1920 px),
a 1/2.8" sensor 5.37 mm wide, a 4 mm lens: hfov 67.8 degrees, reach 57 / 23 /
11.4 / 5.7 m. (Some calculators use the arc ``px / (ppm * hfov_radians)``
instead of the chord; it gives 27 % more at 90 degrees. The chord is the
pinhole geometry and the more cautious of the two.)

Blind zone: a camera mounted ``height_m`` above the ground, tilted ``tilt_deg``
below the horizontal, sees the ground from ``height / tan(tilt + vfov / 2)``
metres out (0 when ``tilt + vfov / 2 >= 90``); closer points are not seen. The
vertical field of view is ``2 * atan(tan(hfov / 2) / aspect)`` (aspect 16:9 by
default). The far edge of the image is not a limit: targets are people
standing, not the ground.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from geodata.errors import OptionError

__all__ = [
    "DEFAULT_LEVEL_WEIGHTS",
    "DORI_PPM",
    "LEVELS",
    "CameraSpec",
    "camera_catalogue",
    "camera_from_mapping",
    "catalogue_camera",
    "hfov_from_lens",
]

#: DORI levels, best first, and their pixel densities (px/m) after EN 62676-4.
LEVELS: tuple[str, ...] = ("identify", "recognise", "observe", "detect")
DORI_PPM: dict[str, float] = {"identify": 250.0, "recognise": 125.0, "observe": 62.5,
                              "detect": 25.0}
#: Value of a point seen at each level, times its weight, when no single ``--level`` is set.
DEFAULT_LEVEL_WEIGHTS: dict[str, float] = {"identify": 1.0, "recognise": 0.8, "observe": 0.5,
                                           "detect": 0.25}
MAX_PER_SET = 4


def hfov_from_lens(focal_mm: float, sensor_mm: float) -> float:
    """Horizontal field of view (degrees) of a ``focal_mm`` lens on a ``sensor_mm`` wide sensor."""
    for name, value in (("--focal-mm", focal_mm), ("--sensor-mm", sensor_mm)):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise OptionError(name, f"must be a positive number of millimetres, got {value!r}")
    return math.degrees(2.0 * math.atan(sensor_mm / (2.0 * focal_mm)))


@dataclass(frozen=True)
class CameraSpec:
    """One camera type and how many of them a set carries.

    Attributes
    ----------
    name
        A label (the catalogue name, or ``"custom"``).
    resolution_px
        Horizontal pixels.
    hfov_deg
        Horizontal field of view, degrees, in (0, 180).
    per_set
        Cameras on one mount (1-4), each with its own pan.
    height_m, tilt_deg
        Optional mount height (metres) and tilt below the horizontal (degrees):
        together they give the blind zone under the pole.
    aspect
        Image width over height (for the vertical field of view).
    focal_mm, sensor_mm
        The lens the field of view came from, when it did (for the outputs).
    """

    name: str
    resolution_px: int
    hfov_deg: float
    per_set: int = 1
    height_m: float | None = None
    tilt_deg: float | None = None
    aspect: float = 16.0 / 9.0
    focal_mm: float | None = None
    sensor_mm: float | None = None

    def __post_init__(self) -> None:
        """Check every field; an impossible camera is an :class:`OptionError`."""
        px = self.resolution_px
        if isinstance(px, bool) or not isinstance(px, int) or px <= 0:
            raise OptionError("--resolution", f"must be a whole number of pixels > 0, got {px!r}")
        if not (math.isfinite(self.hfov_deg) and 0 < self.hfov_deg < 180):
            raise OptionError("--hfov", f"must lie in (0, 180) degrees, got {self.hfov_deg!r}")
        k = self.per_set
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_PER_SET:
            raise OptionError("--cameras-per-set", f"must be 1 to {MAX_PER_SET}, got {k!r}")
        if (self.height_m is None) != (self.tilt_deg is None):
            raise OptionError("--mount-height", "give the mount height and the tilt together")
        if self.height_m is not None and not self.height_m > 0:
            raise OptionError("--mount-height", f"must be above 0 metres, got {self.height_m!r}")
        if self.tilt_deg is not None and not 0 <= self.tilt_deg <= 90:
            raise OptionError("--tilt", f"must lie in [0, 90] degrees, got {self.tilt_deg!r}")
        if not (math.isfinite(self.aspect) and self.aspect > 0):
            raise OptionError("aspect", f"must be above 0, got {self.aspect!r}")

    @classmethod
    def from_lens(cls, name: str, resolution_px: int, focal_mm: float, sensor_mm: float,
                  **kwargs: Any) -> CameraSpec:
        """A camera whose field of view follows from its lens and sensor width."""
        return cls(name, resolution_px, hfov_from_lens(focal_mm, sensor_mm),
                   focal_mm=float(focal_mm), sensor_mm=float(sensor_mm), **kwargs)

    def reach_m(self, level: str) -> float:
        """Farthest distance (metres) at which the camera reaches the density of ``level``."""
        if level not in DORI_PPM:
            raise OptionError("--level", f"unknown level {level!r}: use one of {', '.join(LEVELS)}")
        half = math.radians(self.hfov_deg) / 2.0
        return self.resolution_px / (2.0 * math.tan(half) * DORI_PPM[level])

    @property
    def reaches_m(self) -> dict[str, float]:
        """Reach of every DORI level, best level first."""
        return {level: self.reach_m(level) for level in LEVELS}

    @property
    def vfov_deg(self) -> float:
        """Vertical field of view, degrees (from the horizontal one and the aspect)."""
        half = math.radians(self.hfov_deg) / 2.0
        return math.degrees(2.0 * math.atan(math.tan(half) / self.aspect))

    @property
    def blind_m(self) -> float:
        """Radius of the blind zone under the mount (0 without a height and tilt)."""
        if self.height_m is None or self.tilt_deg is None:
            return 0.0
        lower_edge = self.tilt_deg + self.vfov_deg / 2.0
        if lower_edge >= 90.0:
            return 0.0
        return self.height_m / math.tan(math.radians(lower_edge))

    def as_dict(self) -> dict[str, Any]:
        """The camera as JSON values, for the plan's parameters and installation.csv."""
        return {
            "camera_type": self.name,
            "resolution_px": self.resolution_px,
            "hfov_deg": round(self.hfov_deg, 6),
            "cameras_per_set": self.per_set,
            "focal_mm": self.focal_mm,
            "sensor_mm": self.sensor_mm,
            "mount_height_m": self.height_m,
            "tilt_deg": self.tilt_deg,
            "blind_m": round(self.blind_m, 6),
            "reach_m": {k: round(v, 6) for k, v in self.reaches_m.items()},
        }


_KEYS = {"resolution_px", "hfov_deg", "focal_mm", "sensor_mm", "per_set", "height_m",
         "tilt_deg", "aspect"}


def camera_from_mapping(name: str, entry: Mapping[str, Any], *, source: str = "camera",
                        **overrides: Any) -> CameraSpec:
    """A camera from a table of keys (catalogue entry or scenario ``[camera]``).

    Keys: ``resolution_px`` and either ``hfov_deg`` or ``focal_mm`` with
    ``sensor_mm``; optional ``per_set``, ``height_m``, ``tilt_deg``, ``aspect``.
    ``overrides`` (not ``None``) replace keys of ``entry``.
    """
    given = {k: v for k, v in overrides.items() if v is not None}
    data = dict(entry)
    if "hfov_deg" in given:  # a field of view given replaces the entry's lens
        data.pop("focal_mm", None)
        data.pop("sensor_mm", None)
    if "focal_mm" in given or "sensor_mm" in given:
        data.pop("hfov_deg", None)
    data.update(given)
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise OptionError(source, f"unknown camera key {unknown[0]!r}; keys are "
                                  f"{', '.join(sorted(_KEYS))}")
    if "resolution_px" not in data:
        raise OptionError(source, "needs resolution_px (horizontal pixels)")
    extra = {k: data[k] for k in ("per_set", "height_m", "tilt_deg", "aspect") if k in data}
    lens = "focal_mm" in data or "sensor_mm" in data
    if "hfov_deg" in data:
        if lens:
            raise OptionError(source, "give hfov_deg or focal_mm with sensor_mm, not both")
        return CameraSpec(name, data["resolution_px"], float(data["hfov_deg"]), **extra)
    if "focal_mm" not in data or "sensor_mm" not in data:
        raise OptionError(source, "needs hfov_deg, or focal_mm and sensor_mm")
    return CameraSpec.from_lens(name, data["resolution_px"], float(data["focal_mm"]),
                                float(data["sensor_mm"]), **extra)


@cache
def _catalogue_text() -> str:
    return resources.files("planner.coverage").joinpath("cameras.toml").read_text("utf-8")


def camera_catalogue() -> dict[str, dict[str, Any]]:
    """The shipped camera types by name (``planner/coverage/cameras.toml``)."""
    return tomllib.loads(_catalogue_text())


def catalogue_camera(name: str, *, per_set: int = 1,
                     extra: Mapping[str, Mapping[str, Any]] | None = None,
                     **overrides: Any) -> CameraSpec:
    """The camera type ``name`` from the catalogue (or from the user's ``extra`` types)."""
    types = {**camera_catalogue(), **(extra or {})}
    if name not in types:
        raise OptionError("--camera", f"unknown camera type {name!r}; known types: "
                                      f"{', '.join(sorted(types))}")
    return camera_from_mapping(name, types[name], source=f"camera type {name!r}",
                               per_set=per_set, **overrides)
