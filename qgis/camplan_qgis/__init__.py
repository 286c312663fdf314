"""camplan for QGIS: a Processing provider that runs the camplan command line."""


def classFactory(iface):
    """The plugin object QGIS (and qgis_process) loads."""
    from .plugin import CamplanPlugin

    return CamplanPlugin(iface)
