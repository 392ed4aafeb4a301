"""Loading the numba kernels without scipy.linalg: same flags, same kernels, BLAS still there."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _python(code: str) -> str:
    """Run ``code`` in a fresh interpreter (the module acts once per process); its stdout."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return done.stdout.strip()


def test_prepare_hides_scipy_linalg_and_states_what_the_probe_finds():
    out = _python(
        """
        import sys
        from cbm_sim.wells import jitload
        jitload.prepare()
        import numba.np.arraymath as arraymath
        hidden = "scipy.linalg" not in sys.modules
        flag = arraymath._HAVE_BLAS
        probe = arraymath._check_blas()  # the probe itself, now importing scipy.linalg
        print(hidden, flag, probe, "scipy.linalg" in sys.modules)
        """
    )
    assert out == "True True True True"


def test_kernels_load_and_blas_still_compiles_after_prepare():
    # a kernel calling np.dot and np.convolve still compiles and computes as numpy: numba
    # imports scipy.linalg when it needs it (the run's own kernels: test_reproducibility)
    out = _python(
        """
        import numpy as np
        from numba import njit
        from cbm_sim.wells import jitload
        jitload.prepare()

        @njit
        def both(a, b):
            return np.dot(a, b), np.convolve(a, b)

        a = np.arange(3.0)
        d, c = both(a, a)
        print(d == np.dot(a, a), np.array_equal(c, np.convolve(a, a)))
        """
    )
    assert out == "True True"


def test_prepare_after_scipy_linalg_changes_nothing():
    out = _python(
        """
        import scipy.linalg
        from cbm_sim.wells import jitload
        jitload.prepare()
        import numba.np.arraymath as arraymath
        print(arraymath._HAVE_BLAS)
        """
    )
    assert out == "True"


def test_a_cached_kernel_loads_without_the_refresh_and_computes_the_same(tmp_path):
    # a kernel cached by one process (compiled: the full refresh) is loaded by the next with
    # only the runtime initialised; its result is the same, and numba's other registries
    # (typed dicts, jitclass) were never imported
    (tmp_path / "kern.py").write_text(
        textwrap.dedent(
            """
            import numpy as np
            from numba import njit

            @njit(cache=True)
            def kernel(x):
                out = np.empty_like(x)
                acc = 0.0
                for i in range(x.size):
                    acc += np.sqrt(x[i]) * 1.5
                    out[i] = acc
                return np.cumsum(out)
            """
        )
    )
    code = f"""
        import sys
        sys.path.insert(0, {str(tmp_path)!r})
        import numpy as np
        from cbm_sim.wells import jitload
        jitload.prepare()
        from kern import kernel
        print(kernel(np.arange(50.0)).tobytes().hex(), "numba.typed.typeddict" in sys.modules)
        """
    compiled = _python(code)
    loaded = _python(code)
    assert list((tmp_path / "__pycache__").glob("kern.kernel-*.nbi"))
    assert compiled.split()[1] == "True"  # compiling refreshed everything
    assert loaded.split()[1] == "False"  # the cached load did not
    assert loaded.split()[0] == compiled.split()[0]
