"""The studio's run pool (cbm_sim/studio/runs.py): what the page learns of a run."""

import pytest


def test_a_run_whose_folder_could_not_be_written_is_reported_and_run_again(tmp_path):
    # the worker returned the verdict, then failed to write the folder: the page is told why
    # at once (not a 404 after the wait) and the verdict is forgotten, so it runs again
    from cbm_sim.studio.runs import RunFailedError, Runner, failure_note

    runner = Runner(tmp_path, warm=False)
    run_id = "0123456789abcdef"
    runner._verdicts[run_id] = [{"id": "total"}]
    failure_note(runner.folder(run_id)).write_text("OSError: disk full", encoding="utf-8")
    with pytest.raises(RunFailedError, match="disk full"):
        runner.view(run_id, wait_s=5.0)
    assert run_id not in runner._verdicts
    assert not failure_note(runner.folder(run_id)).exists()
