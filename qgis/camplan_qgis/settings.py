"""The provider's one setting: where the camplan program is (Processing options)."""

from processing.core.ProcessingConfig import ProcessingConfig

EXECUTABLE_SETTING = "CAMPLAN_EXECUTABLE"


def configured_executable():
    """The camplan path set under Processing > Providers > camplan ('' when not set)."""
    return str(ProcessingConfig.getSetting(EXECUTABLE_SETTING) or "").strip()
