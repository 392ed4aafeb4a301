"""Loading the cached numba kernels without importing what they do not use.

A ``cbm-sim run`` loads its ``@njit(cache=True)`` kernels (wells/bookings, nodesums,
failures; cluster/blocks, dispatch) from numba's on-disk cache. Loading the first one
unpickles an environment that names ``numba.np.arraymath`` (the array functions inlined in
the kernels), and importing that module asks whether a BLAS is there, by importing
``scipy.linalg.cython_blas``: the whole of ``scipy.linalg`` (≈ 0.1 s CPU of a 2 s run,
``python -X importtime -m cbm_sim run scenarios/plan.yaml``) for a kernel that calls no
BLAS. :func:`prepare` imports ``numba.np.arraymath`` while ``scipy.linalg`` is hidden and
then states what the probe would have found: scipy (a dependency of cbm-sim) ships
``cython_blas``. ``numba.np.linalg`` still imports scipy.linalg itself when a kernel using
``np.dot`` is compiled (``ensure_blas``), so nothing but the moment of that import changes.

The probe's flag ``numba.np.arraymath._HAVE_BLAS`` chooses only how ``np.convolve`` and
``np.correlate`` are lowered (``_get_inner_prod``); it is set to the value the probe returns
with scipy installed (True), so every kernel compiles as before.
"""

from __future__ import annotations

import importlib.util
import sys
import threading

__all__ = ["prepare"]

_HIDDEN = "scipy.linalg"
_lock = threading.Lock()
_done = False


def prepare() -> None:
    """Import numba's array lowering without ``scipy.linalg`` (module docstring); once per
    process, and only before anything imported either (otherwise there is nothing to win)."""
    global _done
    with _lock:
        if _done:
            return
        _done = True
        if "numba.np.arraymath" in sys.modules or _HIDDEN in sys.modules:
            return
        if importlib.util.find_spec("scipy") is None:  # pragma: no cover - scipy is required
            return
        sys.modules[_HIDDEN] = None  # type: ignore[assignment]  # import of it: ImportError
        try:
            import numba.np.arraymath as arraymath
        finally:
            del sys.modules[_HIDDEN]
        # what _check_blas() returns with scipy installed: its cython_blas exists
        arraymath._HAVE_BLAS = True
