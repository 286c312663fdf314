"""camplan for QGIS: a Processing provider that runs the camplan command line."""


def classFactory(iface):  # noqa: N802 - the name QGIS calls
    """The plugin object QGIS (and qgis_process) loads."""
    from .plugin import CamplanPlugin

    return CamplanPlugin(iface)
