"""The plugin object: registers the camplan Processing provider, desktop or qgis_process."""

from qgis.core import QgsApplication

from .provider import CamplanProvider


class CamplanPlugin:
    """Adds the provider when QGIS starts Processing; removes it when unloaded."""

    def __init__(self, iface):
        self.iface = iface
        self.provider = None

    def initProcessing(self):
        """Called by QGIS desktop (from initGui) and by qgis_process."""
        if self.provider is None:
            self.provider = CamplanProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self):
        self.initProcessing()

    def unload(self):
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
