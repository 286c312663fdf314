"""Open a camplan plan.gpkg in QGIS (PyQGIS, headless) and draw it to a PNG.

usage: python3 qgis/render.py OUT/plan.gpkg picture.png [WIDTH HEIGHT]

Run with the Python that has QGIS's bindings (Debian: python3-qgis), e.g. under
``xvfb-run`` or with ``QT_QPA_PLATFORM=offscreen``. The layers are opened the way
QGIS opens them from the browser, so each takes its default style from the
GeoPackage's ``layer_styles`` table; nothing is styled here. Prints, as JSON, each
layer's feature count, CRS and renderer (type, field, and the colour of each class),
which is what the tests check.
"""

import json
import sys

from qgis.core import (
    QgsApplication,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsProject,
    QgsRectangle,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor

DRAWN = ("demand", "districts", "footprints", "exclusions", "existing", "sites")
"""Layers drawn, bottom to top, when the GeoPackage has them."""
BACKGROUND = "#f2efe9"
"""The web map's background (maps.webmap.colours.BACKGROUND_COLOUR)."""


def describe(layer):
    """Feature count, CRS and renderer of one layer, as plain data."""
    renderer = layer.renderer()
    info = {
        "features": layer.featureCount(),
        "crs": layer.crs().authid(),
        "renderer": renderer.type(),
    }
    if renderer.type() == "categorizedSymbol":
        info["field"] = renderer.classAttribute()
        info["classes"] = [
            [str(c.value()), c.label(), c.symbol().color().name()] for c in renderer.categories()
        ]
    elif renderer.type() == "graduatedSymbol":
        info["field"] = renderer.classAttribute()
        info["classes"] = [
            [r.lowerValue(), r.upperValue(), r.symbol().color().name()] for r in renderer.ranges()
        ]
    return info


def open_layers(gpkg):
    """The plan's layers, bottom to top, each with its default style."""
    layers = []
    for name in DRAWN:
        layer = QgsVectorLayer(f"{gpkg}|layername={name}", name, "ogr")
        if layer.isValid():
            layers.append(layer)
    return layers


def render(layers, png, size):
    """Draw ``layers`` (bottom to top) to ``png``, fitted to the districts or sites."""
    settings = QgsMapSettings()
    settings.setLayers(list(reversed(layers)))  # QgsMapSettings lists top first
    settings.setDestinationCrs(layers[0].crs())
    settings.setBackgroundColor(QColor(BACKGROUND))
    settings.setOutputSize(QSize(*size))
    extent = QgsRectangle()
    for layer in layers:
        if layer.name() in ("districts", "footprints", "sites"):
            extent.combineExtentWith(layer.extent())
    extent.scale(1.1)
    settings.setExtent(extent)
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    job.renderedImage().save(png, "PNG")


def main(argv):
    """Open the GeoPackage ``argv[1]``, draw it to ``argv[2]``, print its layers as JSON."""
    gpkg, png = argv[1], argv[2]
    size = (int(argv[3]), int(argv[4])) if len(argv) > 4 else (1200, 800)
    app = QgsApplication([], False)
    app.initQgis()
    layers = open_layers(gpkg)
    for layer in layers:
        QgsProject.instance().addMapLayer(layer, False)
    render(layers, png, size)
    print(json.dumps({layer.name(): describe(layer) for layer in layers}, indent=1))
    QgsProject.instance().clear()
    app.exitQgis()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
