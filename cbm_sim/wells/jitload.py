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

Second, numba's ``Cache.load_overload`` refreshes the CPU target context before it loads a
cached kernel: it imports and installs every lowering and typing registry numba has (typed
dicts and lists, jitclass, random generators, polynomials …), ≈ 0.06 s CPU, for code that is
already compiled. A loaded kernel needs of it only the runtime (``rtsys.initialize``: the
NRT's allocation functions); :func:`prepare` makes the cached load do just that. A kernel
that is compiled after all (no cache, or a stale one) is compiled as ever: numba's compiler
refreshes the context itself (``numba.core.compiler.CompilerBase.__init__``). Applied only to
the numba versions it was checked on (0.6x, whose ``load_overload`` is the method replaced).
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from typing import Any

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
        _light_cache_loads()


def _light_cache_loads() -> None:
    """Cached kernels load with the runtime initialised, not the whole context refreshed."""
    import numba
    from numba.core import caching
    from numba.core.runtime import rtsys

    cache: Any = caching.Cache
    known = numba.__version__.startswith("0.6") and all(
        hasattr(cache, name)
        for name in ("load_overload", "_load_overload", "_guard_against_spurious_io_errors")
    )
    if not known:  # pragma: no cover - another numba: its own load_overload
        return

    def load_overload(self: Any, sig: Any, target_context: Any) -> Any:
        rtsys.initialize(target_context)  # what a compiled kernel needs of refresh()
        with self._guard_against_spurious_io_errors():
            return self._load_overload(sig, target_context)

    cache.load_overload = load_overload
