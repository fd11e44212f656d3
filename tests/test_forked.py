"""The forked child of a plan run (layout.runs._forked): results, errors, no child left."""

from __future__ import annotations

import multiprocessing
import os
import time

import pytest

from layout.runs._forked import ChildError, forked


def test_the_work_runs_in_a_child_and_its_result_comes_back() -> None:
    # A closure over the parent's memory: nothing is pickled on the way in.
    numbers = list(range(1_000))
    with forked(lambda: (os.getpid(), sum(numbers))) as job:
        pid, total = job.result()
        assert job.result() == (pid, total)  # asked again: the same, not waited for again
    assert pid != os.getpid()
    assert total == 999 * 1_000 // 2


def test_an_error_in_the_child_is_raised_in_the_parent() -> None:
    def fail() -> None:
        raise ValueError("bad county 210302")

    with forked(fail) as job, pytest.raises(ValueError, match="bad county 210302"):
        job.result()


def test_a_child_that_dies_is_reported_with_its_exit_code() -> None:
    with forked(lambda: os._exit(3)) as job, pytest.raises(ChildError, match="exit code 3"):
        job.result()


def test_leaving_early_ends_the_child() -> None:
    with pytest.raises(KeyError), forked(lambda: time.sleep(600)):
        assert len(multiprocessing.active_children()) == 1
        raise KeyError("the parent fails first")
    assert multiprocessing.active_children() == []  # ended, not waited for 600 s
