"""The plugin object QGIS loads: it registers the sopseg Processing provider."""

from __future__ import annotations

from typing import Any, Optional

from qgis.core import QgsApplication

from .provider import SopsegProvider


class SopsegPlugin:
    """Registers the `sopseg` provider; headless (`qgis_process`) QGIS calls only initProcessing."""

    def __init__(self, iface: Any) -> None:
        self.iface = iface
        self.provider: Optional[SopsegProvider] = None

    def initProcessing(self) -> None:  # noqa: N802 (QGIS's name)
        if self.provider is None:
            self.provider = SopsegProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self) -> None:  # noqa: N802 (QGIS's name)
        self.initProcessing()

    def unload(self) -> None:
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
