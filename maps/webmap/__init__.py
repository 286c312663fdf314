"""The interactive map of a plan: one self-contained, offline folium HTML file."""
