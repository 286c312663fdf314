"""camplan.maps: what a person looks at or another tool imports, and the command line.

Subpackages: ``webmap`` (the offline folium map), ``export`` (GeoJSON, GeoPackage,
CSV, summary and the atomic output folder), ``report`` (the plan report),
``compare`` (comparisons and sweeps), ``cli`` (the ``camplan`` command).
"""
