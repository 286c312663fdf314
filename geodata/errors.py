"""Exceptions a user can cause, shared by every camplan package.

Every error carries a message that names the file or option, says what was
found and what to do. The command line turns any :class:`CamplanError` into
exit status 2 and that one message, never a traceback.

All errors subclass a built-in (``ValueError``) so that callers who do not
know camplan can still catch them.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "CRSError",
    "CamplanError",
    "CoverageTooLargeError",
    "LayerError",
    "OptionError",
    "OutputError",
    "ScenarioError",
]


class CamplanError(ValueError):
    """Base class of every error a user can cause."""


class LayerError(CamplanError):
    """An input layer is missing, unreadable or invalid.

    Parameters
    ----------
    source
        The file (or layer name) the problems were found in.
    problems
        Every problem found, each a short sentence that says what to do.
    """

    def __init__(self, source: str, problems: Iterable[str] | str) -> None:
        if isinstance(problems, str):
            problems = [problems]
        self.source = str(source)
        self.problems: tuple[str, ...] = tuple(problems)
        if len(self.problems) == 1:
            message = f"{self.source}: {self.problems[0]}"
        else:
            lines = "\n".join(f"  - {p}" for p in self.problems)
            message = f"{self.source}: {len(self.problems)} problems:\n{lines}"
        super().__init__(message)


class CRSError(LayerError):
    """A layer has no coordinate reference system, or one that cannot be used."""


class OptionError(CamplanError):
    """An option has an impossible value (a radius <= 0, phases above the sets, ...)."""

    def __init__(self, option: str, problem: str) -> None:
        self.option = option
        super().__init__(f"{option}: {problem}")


class ScenarioError(CamplanError):
    """A scenario file is malformed or holds unknown or wrong keys."""


class CoverageTooLargeError(CamplanError):
    """The coverage relation would not fit in the memory allowed for it."""


class OutputError(CamplanError):
    """The output folder cannot be written (it exists, or is not writable)."""
