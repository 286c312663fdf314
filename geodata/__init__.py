"""camplan.geodata: read and validate input layers, handle coordinate systems."""
