"""Candidate mounting sites: inventories, street intersections and grids."""
