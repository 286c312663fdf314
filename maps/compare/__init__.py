"""Comparisons of plans side by side, and sweeps of one parameter."""
