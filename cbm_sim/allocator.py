"""The process's C allocator policy: large arrays kept on the heap, not mapped afresh.

glibc's ``malloc`` serves a block above its mmap threshold (128 KiB at start, raised as
mapped blocks are freed, up to 32 MiB) with a fresh ``mmap``, whose pages fault in again on
first touch, and hands freed memory back to the system above its trim threshold. cbm-sim
allocates and frees numpy arrays of 0.1–30 MB by the thousand (a calibration evaluates
about 150 well histories; a study member builds one), so with the default policy a large
share of their cost is the kernel's: ``cbm-sim calibrate --fit`` spent 16 s of its 71 s in
system time and page faults (10x those of the same fit before its arrays' sizes changed;
measured 2026-12-07, ``benchmarks/README.md``, ``calibrate``). The policy below is the one
the Dask workers of a study get through their environment
(:data:`cbm_sim.studies.execution.WORKER_ENVIRON`): blocks up to 32 MiB (the largest mmap
threshold glibc accepts on 64-bit) from the heap, freed memory trimmed above 128 MiB.
"""

from __future__ import annotations

import os
import sys
from typing import Final

__all__ = ["MMAP_THRESHOLD_BYTES", "TRIM_THRESHOLD_BYTES", "keep_arrays_on_heap"]

MMAP_THRESHOLD_BYTES: Final[int] = 32 * 2**20
"""Blocks up to this size come from the heap [bytes] (glibc's ``M_MMAP_THRESHOLD``)."""
TRIM_THRESHOLD_BYTES: Final[int] = 128 * 2**20
"""Free memory at the heap's top is handed back above this [bytes] (``M_TRIM_THRESHOLD``)."""

_M_TRIM_THRESHOLD: Final[int] = -1
_M_MMAP_THRESHOLD: Final[int] = -3
"""glibc's ``mallopt`` parameter numbers (``malloc.h``)."""


def keep_arrays_on_heap() -> bool:
    """Set the policy above for this process, unless the user set either threshold in the
    environment (``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_``: theirs stands).

    Returns
    -------
    bool
        True if glibc took both settings; False elsewhere (another C library or system,
        or the user's own settings), where nothing is changed.
    """
    if not sys.platform.startswith("linux"):
        return False
    if "MALLOC_MMAP_THRESHOLD_" in os.environ or "MALLOC_TRIM_THRESHOLD_" in os.environ:
        return False
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # no C library symbols in this process
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    # musl and others have a mallopt that takes nothing (returns 0); glibc returns 1
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)
    )
