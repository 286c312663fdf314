"""Coverage models: which candidate site sees which demand point, and how well.

``disc`` (straight-line reach, compiled), ``sightline`` (blocked by buildings),
``network`` (walking distance); :mod:`planner.coverage.models` is their common protocol.
"""
