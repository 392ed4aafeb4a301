"""A LocalCluster for tests that kill workers: closed once the Nannies' restarts are done."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

# imported here, not lazily: it also registers distributed's config keys, which the tests set
from dask.distributed import Client, LocalCluster

from cbm_sim.studies.ensemble import settle


@contextlib.contextmanager
def local_cluster(n_workers: int, **kwargs: Any) -> Iterator[Any]:
    """``LocalCluster(n_workers, threads_per_worker=1, no dashboard)`` that closes cleanly.

    Closing while a Nanny restarts a killed worker fails inside distributed ("can only join a
    started process"; seen in CI), so the workers are awaited first, as ``execute`` does.
    """
    with LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": ":0"},  # 8787 is often taken: a warning each
        **kwargs,
    ) as cluster:
        try:
            yield cluster
        finally:
            with Client(cluster) as client:
                settle(client, len(cluster.workers))
