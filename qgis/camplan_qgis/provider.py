"""The ``camplan`` Processing provider and its one setting, the camplan program's path."""

import shutil

from processing.core.ProcessingConfig import ProcessingConfig, Setting
from qgis.core import QgsProcessingProvider

from .algorithms import CompareAlgorithm, PlanAlgorithm, ValidateAlgorithm
from .settings import EXECUTABLE_SETTING


class CamplanProvider(QgsProcessingProvider):
    """Provider id ``camplan``: plan, compare, validate."""

    def id(self):
        return "camplan"

    def name(self):
        return "camplan"

    def longName(self):
        return "camplan (CCTV camera-set planning)"

    def load(self):
        ProcessingConfig.settingIcons[self.name()] = self.icon()
        ProcessingConfig.addSetting(
            Setting(
                self.name(),
                EXECUTABLE_SETTING,
                "camplan program (leave empty to use camplan on the PATH)",
                shutil.which("camplan") or "",
                valuetype=Setting.FILE,
            )
        )
        ProcessingConfig.readSettings()
        self.refreshAlgorithms()
        return True

    def unload(self):
        ProcessingConfig.removeSetting(EXECUTABLE_SETTING)

    def loadAlgorithms(self):
        for alg in (PlanAlgorithm(), CompareAlgorithm(), ValidateAlgorithm()):
            self.addAlgorithm(alg)
