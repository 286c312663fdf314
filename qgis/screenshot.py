"""Screenshot of QGIS desktop with a camplan plan open (for the README).

usage: CAMPLAN_PLAN=OUT/plan.gpkg CAMPLAN_PNG=shot.png \
       xvfb-run -s "-screen 0 1600x1000x24" qgis --nologo --noversioncheck --code qgis/screenshot.py

QGIS runs this file once its window is up: it opens the plan's layers as QGIS
opens them from the browser (each with its default style from plan.gpkg's
``layer_styles``), shows the Processing Toolbox filtered to camplan, zooms to the
plan, saves the window as a PNG and ends the process.
"""

import os

from qgis.core import QgsProject, QgsRectangle, QgsVectorLayer
from qgis.PyQt.QtCore import QTimer
from qgis.utils import iface

PLAN = os.environ["CAMPLAN_PLAN"]
PNG = os.environ["CAMPLAN_PNG"]
LAYERS = ("demand", "districts", "footprints", "sites")
"""Bottom to top."""


def open_plan():
    """Add the plan's layers to the project and zoom to districts and sites."""
    extent = QgsRectangle()
    for name in LAYERS:
        layer = QgsVectorLayer(f"{PLAN}|layername={name}", name, "ogr")
        if not layer.isValid():
            continue
        QgsProject.instance().addMapLayer(layer)
        if name in ("districts", "sites"):
            extent.combineExtentWith(layer.extent())
    extent.scale(1.15)
    iface.layerTreeView().expandAllNodes()
    iface.mapCanvas().setExtent(extent)
    iface.mapCanvas().refresh()


def show_toolbox():
    """Open the Processing Toolbox on the camplan provider."""
    from qgis.PyQt.QtWidgets import QDockWidget, QLineEdit

    for dock in iface.mainWindow().findChildren(QDockWidget):
        if dock.objectName() == "ProcessingToolbox":
            dock.show()
            search = dock.findChild(QLineEdit)
            if search is not None:
                search.setText("camplan")


def grab_and_quit():
    """Save the main window to PNG and close QGIS."""
    iface.mainWindow().grab().save(PNG, "PNG")
    # QGIS's own exit waits for dialogs (save project, news) nobody can answer here.
    os._exit(0)


iface.mainWindow().resize(1600, 1000)
iface.mainWindow().showMaximized()
open_plan()
show_toolbox()
QTimer.singleShot(8000, grab_and_quit)
