"""The plan report: coverage curve, tables, Markdown and HTML pages."""
