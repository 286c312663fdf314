"""The directional camera model of a scenario (``camera``, ``resolution``, ``hfov`` ... keys).

Directional cameras are on when any of ``camera``, ``resolution``, ``hfov`` or
``focal_mm`` is given; without them the disc, sightline and network models run
exactly as before. ``camera`` names a catalogue type
(:mod:`planner.coverage.cameras`) or one of the scenario's ``camera_types``;
``resolution``, ``hfov`` (or ``focal_mm`` with ``sensor_mm``), ``mount_height``
and ``tilt`` override its values.
"""

from __future__ import annotations

from typing import Any

from geodata.errors import OptionError
from planner.coverage.cameras import DEFAULT_LEVEL_WEIGHTS, camera_from_mapping, catalogue_camera
from planner.coverage.directional import DirectionalOptions

__all__ = ["CAMERA_KEYS", "camera_options", "uses_cameras"]

#: Keys that turn directional cameras on.
CAMERA_KEYS = ("camera", "resolution", "hfov", "focal_mm")


def uses_cameras(scenario: Any) -> bool:
    """Whether the scenario plans directional cameras."""
    return any(scenario.given(k) for k in CAMERA_KEYS)


def camera_options(scenario: Any) -> DirectionalOptions | None:
    """The camera model of ``scenario``, or ``None`` when it plans discs."""
    if not uses_cameras(scenario):
        return None
    overrides = {
        "resolution_px": scenario.resolution, "hfov_deg": scenario.hfov,
        "focal_mm": scenario.focal_mm, "sensor_mm": scenario.sensor_mm,
        "height_m": scenario.mount_height, "tilt_deg": scenario.tilt,
    }
    per_set = int(scenario.cameras_per_set)
    types = scenario.camera_types or {}
    if scenario.camera is not None:
        camera = catalogue_camera(scenario.camera, per_set=per_set, extra=types, **overrides)
    else:
        given = {k: v for k, v in overrides.items() if v is not None}
        camera = camera_from_mapping("custom", given, source=scenario.label("resolution"),
                                     per_set=per_set)
    weights = {**DEFAULT_LEVEL_WEIGHTS, **(scenario.level_weights or {})}
    unknown = sorted(set(weights) - set(DEFAULT_LEVEL_WEIGHTS))
    if unknown:
        raise OptionError(scenario.label("level_weights"),
                          f"unknown level {unknown[0]!r}; levels are "
                          f"{', '.join(DEFAULT_LEVEL_WEIGHTS)}")
    return DirectionalOptions(
        camera,
        pan_step_deg=float(scenario.pan_step),
        level=scenario.level,
        level_weights=tuple((k, float(weights[k])) for k in DEFAULT_LEVEL_WEIGHTS),
        spread_deg=None if scenario.spread is None else float(scenario.spread),
    )
