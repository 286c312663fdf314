"""camplan.maps: maps, exports, reports and the command line."""
