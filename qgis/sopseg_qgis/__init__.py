"""The sopseg QGIS plugin: a Processing provider whose algorithm calls the sopseg server.

Only `classFactory` touches QGIS, so `sopseg_client` and `pixel_frame` import without it.
"""


def classFactory(iface):  # noqa: N802 (QGIS's name)
    """QGIS's entry point: the plugin object."""
    from .plugin import SopsegPlugin

    return SopsegPlugin(iface)
