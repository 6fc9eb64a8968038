"""The `sopseg` Processing provider and its settings."""

from __future__ import annotations

from qgis.core import QgsProcessingProvider

from .segment_algorithm import SegmentDetectionsAlgorithm
from .segment_file_algorithm import SegmentDetectionFileAlgorithm
from .settings import DENO_SETTING, DIR_SETTING


class SopsegProvider(QgsProcessingProvider):
    """Holds `sopseg:segment_detections`; adds the deno and sopseg-folder settings."""

    def id(self) -> str:
        return "sopseg"

    def name(self) -> str:
        return "sopseg"

    def longName(self) -> str:  # noqa: N802 (QGIS's name)
        return "sopseg: instance masks from oriented detections"

    def load(self) -> bool:
        try:  # the Processing plugin's settings dialog; absent in some embeddings
            from processing.core.ProcessingConfig import ProcessingConfig, Setting
        except ImportError:
            return super().load()
        group = self.name()
        ProcessingConfig.settingIcons[group] = self.icon()
        ProcessingConfig.addSetting(
            Setting(
                group,
                DENO_SETTING,
                "deno executable (empty: search PATH)",
                "",
                valuetype=Setting.FILE,
            )
        )
        ProcessingConfig.addSetting(
            Setting(
                group, DIR_SETTING, "sopseg folder (holds deno.json)", "", valuetype=Setting.FOLDER
            )
        )
        ProcessingConfig.readSettings()
        self.refreshAlgorithms()
        return True

    def unload(self) -> None:
        try:
            from processing.core.ProcessingConfig import ProcessingConfig
        except ImportError:
            return
        ProcessingConfig.removeSetting(DENO_SETTING)
        ProcessingConfig.removeSetting(DIR_SETTING)

    def loadAlgorithms(self) -> None:  # noqa: N802 (QGIS's name)
        self.addAlgorithm(SegmentDetectionsAlgorithm())
        self.addAlgorithm(SegmentDetectionFileAlgorithm())
