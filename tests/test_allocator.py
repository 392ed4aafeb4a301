"""The process's allocator policy: arrays of a few MB stop faulting in fresh pages.

Each case runs in a child process (the policy is process-wide and cannot be undone), which
makes, touches and frees 40 arrays of 0.25-4 MiB ten times over (the pattern of a run or a
calibration's histories) and reports its minor page faults.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from cbm_sim import allocator

CHILD = textwrap.dedent(
    """
    import resource, sys
    import numpy as np
    from cbm_sim import allocator
    taken = allocator.keep_arrays_on_heap() if sys.argv[1] == "policy" else None
    sizes = np.random.default_rng(1).integers(2**15, 2**19, 40)  # 0.25-4 MiB arrays
    held = [np.ones(n) for n in sizes]  # a model's arrays: made, touched ...
    del held  # ... and freed at once, as a run or a history ends
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(10):
        held = [np.ones(n) for n in sizes]
        del held
    print(taken, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    """
)

linux_glibc = pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.confstr("CS_GNU_LIBC_VERSION") is None,
    reason="the policy is glibc's",
)


def _faults(mode: str, **env: str) -> tuple[str, int]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, mode],
        env={**environ, **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return out[0], int(out[1])


@linux_glibc
def test_with_the_policy_freed_arrays_are_reused_without_page_faults() -> None:
    taken, with_policy = _faults("policy")
    _, without = _faults("none")
    assert taken == "True"
    # ~80 MiB a round (~20,000 pages): without the policy it is mapped afresh (or trimmed
    # and faulted in again) every round; with it the heap is reused
    assert without > 5 * 20_000, without
    assert with_policy < 20_000, with_policy


@linux_glibc
def test_a_threshold_the_user_set_is_kept() -> None:
    taken, faults = _faults("policy", MALLOC_MMAP_THRESHOLD_="131072")
    assert taken == "False"
    assert faults > 5 * 20_000  # the user's 128 KiB threshold stands: fresh mappings


def test_the_study_workers_get_the_same_policy() -> None:
    from cbm_sim.studies.execution import WORKER_ENVIRON

    assert set(WORKER_ENVIRON.values()) == {
        allocator.MMAP_THRESHOLD_BYTES,
        allocator.TRIM_THRESHOLD_BYTES,
    }
