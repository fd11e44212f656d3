"""Work done in a forked child process beside the main one: the second core of a plan run.

A plan run of one study is one process: most of its work holds Python's GIL, so a thread
would not run beside it. Steps that need only what the run already holds (the site plan
needs the demand, not the access step; the workbook needs only its tables) run instead in a
child forked from the run: the child shares the parent's memory as it was at the fork
(nothing is pickled on the way in), and sends back its result, pickled, through a pipe.

:func:`forked` is a context manager: leaving it, the child is joined, or ended when the
parent leaves early (an error, ``Ctrl-C``), so no child outlives its run. An error raised
in the child is raised again in the parent by :meth:`Forked.result`.

Where ``fork`` is not a start method (Windows) or the caller is itself a daemonic process
(a Dask worker) the work runs in the caller when its result is asked for.

The child runs its BLAS and OpenMP on one thread (the parent uses the other core, and GNU
OpenMP's thread pool, once used by the parent, hangs a forked child that uses it with more
threads) and ends at ``SIGTERM`` (not the command's handler, which the parent keeps).

Examples
--------
>>> with forked(lambda: sum(range(10))) as job:
...     job.result()
45
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

from threadpoolctl import threadpool_limits

LOG = logging.getLogger(__name__)

T = TypeVar("T")

_GRACE_S = 5.0
"""Seconds a child is given to end at ``SIGTERM`` before it is killed."""


class ChildError(RuntimeError):
    """A forked child ended without sending its result (killed, out of memory)."""


class Forked(Generic[T]):
    """A callable running in a forked child; :meth:`result` waits for what it returns.

    Parameters
    ----------
    work
        Called without arguments in the child; what it returns must pickle.
    """

    def __init__(self, work: Callable[[], T]) -> None:
        self._work = work
        self._done = False
        self._value: T
        self._process: multiprocessing.process.BaseProcess | None = None
        self._pipe: multiprocessing.connection.Connection | None = None
        if "fork" in multiprocessing.get_all_start_methods() and _may_have_children():
            context = multiprocessing.get_context("fork")
            self._pipe, sender = context.Pipe(duplex=False)
            self._process = context.Process(
                target=_run_child, args=(work, sender), name="layout-child", daemon=True
            )
            self._process.start()
            sender.close()

    def result(self) -> T:
        """Return what the work returned (raise what it raised); later calls return it again."""
        if not self._done:
            self._value = self._outcome()
            self._done = True
        return self._value

    def _outcome(self) -> T:
        """Wait for the child and return its result."""
        if self._process is None or self._pipe is None:
            return self._work()
        try:
            done, value = self._pipe.recv()
        except EOFError:
            self._process.join()
            raise ChildError(
                f"the child process of this run ended with exit code {self._process.exitcode} "
                "before sending its result; run again, or with more free memory"
            ) from None
        self._process.join()
        if not done:
            raise value
        return value  # type: ignore[no-any-return]

    def end(self) -> None:
        """End the child if it still runs, and reap it."""
        if self._process is not None:
            if self._process.is_alive():
                self._process.terminate()
                self._process.join(_GRACE_S)
            if self._process.is_alive():
                self._process.kill()
            self._process.join()
        if self._pipe is not None:
            self._pipe.close()


@contextmanager
def forked(work: Callable[[], T]) -> Iterator[Forked[T]]:
    """Run ``work`` in a forked child for the time of the ``with`` block (see module text).

    Parameters
    ----------
    work
        Called without arguments in the child; what it returns must pickle.

    Yields
    ------
    Forked
        Its :meth:`Forked.result` waits for the child and returns ``work``'s result.
    """
    job = Forked(work)
    try:
        yield job
    finally:
        job.end()


def _may_have_children() -> bool:
    """Whether this process may start children (daemonic processes may not)."""
    return not multiprocessing.current_process().daemon


def _run_child(work: Callable[[], object], sender: multiprocessing.connection.Connection) -> None:
    """Run ``work`` in the child and send ``(True, result)`` or ``(False, error)``."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        with threadpool_limits(limits=1):
            outcome: tuple[bool, object] = (True, work())
    except Exception as error:  # noqa: BLE001 - raised again in the parent
        outcome = (False, error)
    sender.send(outcome)
    sender.close()
