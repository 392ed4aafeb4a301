"""Bit-for-bit reproducibility: the same scenario and seed give byte-identical result files.

The cause found for issue #18 (206 of 1,570 annual rows differing at ~1 ulp between two runs):
``scipy.interpolate.BarycentricInterpolator`` permutes its nodes with numpy's *global* random
state when computing its weights, so the window interpolation matrix of
:mod:`cbm_sim.wells.supply` differed between processes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from numpy.polynomial import chebyshev
from scipy.interpolate import BarycentricInterpolator

from cbm_sim.results.rundir import OUTPUT_FILES
from cbm_sim.wells.supply import NODES, _barycentric_matrix

PLAN = Path(__file__).parent.parent / "scenarios" / "plan.yaml"
_MAIN = "import sys; from cbm_sim.cli import main; sys.exit(main())"


def test_interpolation_matrix_ignores_the_global_random_state():
    x = chebyshev.chebpts1(NODES)
    y = np.arange(257) / 128.0 - 1.0
    np.random.seed(1)  # noqa: NPY002 - the global state is what scipy used
    first = _barycentric_matrix(x, y)
    np.random.seed(2)  # noqa: NPY002 - the global state is what scipy used
    second = _barycentric_matrix(x, y)
    assert first.tobytes() == second.tobytes()
    # the same interpolation as scipy's, to rounding
    np.testing.assert_allclose(first, BarycentricInterpolator(x, np.eye(NODES))(y), atol=1e-14)
    # rows are partitions of unity (a constant is interpolated exactly)
    np.testing.assert_allclose(first.sum(axis=1), 1.0, rtol=1e-14)


def test_interpolation_matrix_is_exact_on_a_node():
    x = chebyshev.chebpts1(5)
    got = _barycentric_matrix(x, x[[1, 3]])
    assert got.tolist() == [[0.0, 1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0, 0.0]]


@pytest.mark.slow
def test_two_runs_of_the_plan_are_byte_identical(tmp_path):
    """Two processes (different random hash seeds, memory layouts) write the same bytes."""
    outs = []
    for i, hashseed in enumerate(("1", "2")):
        out = tmp_path / f"run{i}"
        subprocess.run(
            [sys.executable, "-c", _MAIN, "run", str(PLAN), "-o", str(out)],
            check=True,
            capture_output=True,
            env={**os.environ, "PYTHONHASHSEED": hashseed},
        )
        outs.append(out)
    for name in sorted(OUTPUT_FILES):
        a, b = (o / name for o in outs)
        assert a.read_bytes() == b.read_bytes(), name
