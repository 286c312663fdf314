"""Write one output file in a forked child process while this process writes the others.

Writing a city's demand into ``plan.gpkg`` is GDAL work that holds the GIL, so a
thread would not overlap it with the map and the reports; a forked child (Linux
only: it shares the plan's memory copy-on-write, nothing is pickled) does. Where
fork is not safe or not available the file is written in this process, in turn.
The file is the same either way: the child runs the same writer.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import signal
import sys
from collections.abc import Callable

from geodata.errors import OutputError

__all__ = ["Pending", "start"]

logger = logging.getLogger(__name__)

_MESSAGE_LIMIT = 4000


class Pending:
    """A file being written: :meth:`wait` for it, or :meth:`abandon` it.

    :meth:`wait` raises when the writer failed.
    """

    def __init__(self, pid: int, reader: int, what: str) -> None:
        self._pid, self._reader, self._what = pid, reader, what

    def wait(self) -> None:
        """Wait for the child; raise :class:`OutputError` with its message when it failed."""
        if self._pid == 0:
            return
        pid, self._pid = self._pid, 0
        with os.fdopen(self._reader, "rb") as pipe:
            message = pipe.read().decode("utf-8", "replace")
        _, status, usage = os.wait4(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        logger.debug("%s: process %d, %.2f s CPU, status %d", self._what, pid,
                     usage.ru_utime + usage.ru_stime, code)
        if code != 0:
            raise OutputError(f"{self._what}: could not be written "
                              f"({message or f'the writer process ended with status {code}'})")


    def abandon(self) -> None:
        """Stop the child and reap it (the caller is failing for a reason of its own)."""
        if self._pid == 0:
            return
        pid, self._pid = self._pid, 0
        os.close(self._reader)
        with contextlib.suppress(ProcessLookupError):  # it may have ended already
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def _can_fork() -> bool:
    return sys.platform.startswith("linux") and hasattr(os, "fork")


def start(write: Callable[[], object], what: str) -> Pending:
    """Run ``write()`` in a forked child (Linux), else here and now; :meth:`Pending.wait` after.

    ``what`` names the file in an error message. The caller must call
    :meth:`Pending.wait` before it uses or removes the file, also on its own errors.
    """
    if not _can_fork():
        write()
        return Pending(0, -1, what)
    reader, writer = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: write, report a failure through the pipe, leave at once
        gc.disable()  # a collection would touch (and so copy) every page of the parent's heap
        os.close(reader)
        code = 1
        try:
            write()
            code = 0
        except BaseException as err:  # every failure goes to the parent
            os.write(writer, f"{type(err).__name__}: {err}".encode()[:_MESSAGE_LIMIT])
        finally:
            os._exit(code)  # no atexit handlers, no flushing the parent's buffers twice
    os.close(writer)
    logger.debug("writing %s in process %d", what, pid)
    return Pending(pid, reader, what)
