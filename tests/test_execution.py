"""Running a study's items: batches of items per Dask task (issue 27)."""

from __future__ import annotations

import os

import pytest
from dask_clusters import local_cluster

from cbm_sim.studies.execution import execute


def _square_and_pid(x: int) -> tuple[int, int]:
    return x * x, os.getpid()


def test_a_batch_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="batch must be >= 1, got 0"):
        execute(abs, [1, 2], workers=1, batch=0)


@pytest.mark.slow
@pytest.mark.parametrize("batch", [1, 7])
def test_batches_give_every_item_in_order_and_tell_of_each(batch: int) -> None:
    """The results are the serial ones whatever the batch; ``on_result`` hears of every
    item once with its own index, ``progress`` ends at 1; a batch's items run in one
    process, in order."""
    items = list(range(17))
    told: dict[int, int] = {}
    progress: list[float] = []

    def on_result(k: int, value: tuple[int, int]) -> None:
        assert k not in told
        told[k] = value[0]

    with local_cluster(2) as cluster:
        got = execute(
            _square_and_pid,
            items,
            scheduler=cluster.scheduler_address,
            on_result=on_result,
            progress=progress.append,
            batch=batch,
        )
    assert [v for v, _ in got] == [x * x for x in items]
    assert told == {x: x * x for x in items}
    assert progress[-1] == 1.0 and progress == sorted(progress)
    for first in range(0, len(items), batch):
        pids = {pid for _, pid in got[first : first + batch]}
        assert len(pids) == 1, (first, pids)
