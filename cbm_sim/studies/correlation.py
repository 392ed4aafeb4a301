"""Rank-correlated sampling of uncertain inputs: a Gaussian copula.

A scenario states Spearman rank correlations between pairs of its uncertain inputs
(``Scenario.correlations``); every other pair is independent. One draw of all ``k`` inputs is

.. math::

    z \\sim N(0, I_k), \\quad u = \\Phi(L z), \\quad x_j = F_j^{-1}(u_j),

with :math:`L` the Cholesky factor of the normal-score correlation matrix :math:`R` and
:math:`F_j` the input's marginal (scipy.stats,
:func:`cbm_sim.studies.sampling.frozen_distribution`).
The marginals are kept exactly; the rank correlation of :math:`x_i, x_j` is
:math:`\\rho_S = (6/\\pi) \\arcsin(R_{ij}/2)`, so a stated :math:`\\rho_S` is reached with
:math:`R_{ij} = 2 \\sin(\\pi \\rho_S / 6)` (Kruskal 1958; the Gaussian-copula identity).

A draw uses only its member's generator, so member ``i`` is the same whatever the ensemble
size and the number of workers (unlike Iman–Conover, which reorders a whole sample).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from cbm_sim.scenario.model import RankCorrelation
from cbm_sim.scenario.uncertainty import correlation_problem, normal_correlation


def spearman_of_normal(r: float) -> float:
    """Spearman rank correlation of a bivariate normal with Pearson correlation ``r``."""
    return 6.0 / math.pi * math.asin(r / 2.0)


def correlation_matrix(
    names: Sequence[str], correlations: Sequence[RankCorrelation]
) -> npt.NDArray[np.float64]:
    """The normal-score correlation matrix of ``names`` (identity where nothing is stated).

    Raises
    ------
    ValueError
        If a correlation names an input not in ``names``, or the stated correlations are
        not jointly possible (the matrix is not positive definite; the message lists them).
    """
    index = {n: i for i, n in enumerate(names)}
    r = np.eye(len(names))
    for corr in correlations:
        a, b = corr.inputs
        for name in (a, b):
            if name not in index:
                raise ValueError(
                    f"correlation {a!r} ~ {b!r}: {name!r} is not an uncertain input "
                    f"(known: {', '.join(names) or 'none'})"
                )
        r[index[a], index[b]] = r[index[b], index[a]] = normal_correlation(corr.rank)
    problem = correlation_problem(names, [(*c.inputs, c.rank) for c in correlations])
    if problem is not None:
        raise ValueError(problem)
    return r


def correlated_uniforms(
    chol: npt.NDArray[np.float64], rng: np.random.Generator
) -> npt.NDArray[np.float64]:
    """One draw of ``k`` uniforms on (0, 1) with the copula of ``chol @ chol.T``.

    Parameters
    ----------
    chol
        Lower Cholesky factor of the normal-score correlation matrix (``k × k``).
    rng
        The member's generator; exactly ``k`` standard normals are drawn from it.
    """
    from scipy.special import ndtr

    z = rng.standard_normal(chol.shape[0])
    u = ndtr(chol @ z)
    # Keep clear of 0 and 1, where unbounded inverse CDFs are infinite.
    return np.clip(u, 1e-12, 1.0 - 1e-12)


__all__ = [
    "correlated_uniforms",
    "correlation_matrix",
    "normal_correlation",
    "spearman_of_normal",
]
