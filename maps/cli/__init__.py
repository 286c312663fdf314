"""The ``camplan`` command line: a thin layer over the public Python API."""
