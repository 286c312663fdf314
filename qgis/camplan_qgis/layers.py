"""Project layers to files camplan can read, in whatever CRS they have.

A layer that already is a single-layer GeoJSON, Shapefile or FlatGeobuf file is
passed as it is; any other layer (a layer of a multi-layer GeoPackage, a CSV, a
database or memory layer, a layer with a filter or a selection) is written to a
temporary GeoPackage first, with its CRS.
"""

from qgis.core import QgsProcessingUtils

PASSED_AS_IS = ["geojson", "json", "shp", "fgb"]
"""File types camplan reads directly; everything else is written to a GeoPackage."""


def source_file(alg, parameters, name, context, feedback):
    """The file of feature-source parameter ``name`` ('' when the optional layer is not set)."""
    if parameters.get(name) in (None, ""):
        return ""
    if alg.parameterAsSource(parameters, name, context) is None:
        return ""
    return alg.parameterAsCompatibleSourceLayerPath(
        parameters, name, context, PASSED_AS_IS, "gpkg", feedback
    )


def layer_files(alg, parameters, name, context, feedback):
    """The files of multiple-layer parameter ``name``, each layer written as above."""
    layers = alg.parameterAsLayerList(parameters, name, context)
    return [
        layer_file(layer, f"{name.lower()}_{i}", context, feedback)
        for i, layer in enumerate(layers)
    ]


def layer_file(layer, base_name, context, feedback):
    """The file of one layer, written to a temporary GeoPackage unless passed as it is."""
    return QgsProcessingUtils.convertToCompatibleFormat(
        layer, False, base_name, PASSED_AS_IS, "gpkg", context, feedback
    )


def original_file(layer):
    """The file a layer was read from, when it is a file ('' otherwise)."""
    if layer.providerType() not in ("ogr", "delimitedtext"):
        return ""
    source = layer.source()
    if layer.providerType() == "delimitedtext":
        from qgis.PyQt.QtCore import QUrl

        return QUrl(source).toLocalFile()
    return source.split("|", 1)[0]
