"""The analyst notebooks run end to end, report the package's numbers, and are stored clean.

Each notebook is executed with nbclient on a kernel of this interpreter, with its
"parameters" cell replaced by fast settings (monthly steps, a 4-member serial ensemble). A
probe cell appended to the notebook prints the notebook's own result frames as JSON, which
are checked against the plan's targets and against a direct call of the package.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
kernelspec = pytest.importorskip("jupyter_client.kernelspec")

from cbm_sim.economics import targets  # noqa: E402
from cbm_sim.plan.figures import load_plan  # noqa: E402
from cbm_sim.results import simulate  # noqa: E402
from cbm_sim.scenario.files import load_scenario  # noqa: E402

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SCENARIOS = NOTEBOOKS.parent / "scenarios"
FAST_STEP_DAYS = 30  # 30-day steps of the results (the dispatch is daily): smaller frames
PROBE_MARK = "NOTEBOOK-PROBE:"
ALL = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))


@pytest.fixture(scope="module")
def kernel_name(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A kernelspec that runs this interpreter (the venv's), whatever is installed globally."""
    name = "python3"
    spec = kernelspec.find_kernel_specs().get(name)
    argv0 = kernelspec.get_kernel_spec(name).argv[0] if spec else ""
    # jupyter_client substitutes sys.executable for a bare "python"; anything else may be a
    # different interpreter without cbm_sim, so shadow it with a spec pointing here.
    if argv0 in {"python", "python3", sys.executable}:
        yield name
        return
    root = tmp_path_factory.mktemp("jupyter")
    spec_dir = root / "kernels" / name
    spec_dir.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec_dir / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "cbm-sim test", "language": "python"})
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_PATH", str(root))
        yield name


def run_notebook(name: str, kernel: str, parameters: str, expression: str) -> tuple[object, dict]:
    """Execute ``name`` with ``parameters`` appended to its parameters cell; return the
    executed notebook and the value of ``expression`` evaluated after its last cell (JSON)."""
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    cell = parameters_cell(nb)
    cell.source = cell.source + "\n# test overrides\n" + parameters
    nb.cells.append(nbformat.v4.new_code_cell(probe(expression)))
    client = nbclient.NotebookClient(
        nb, kernel_name=kernel, timeout=600, resources={"metadata": {"path": str(NOTEBOOKS)}}
    )
    client.execute()
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.output_type == "stream")
    payload = text.split(PROBE_MARK, 1)[1]
    return nb, json.loads(payload)


def parameters_cell(nb: object) -> object:
    """The notebook's first code cell, which must be tagged "parameters"."""
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert "parameters" in first.metadata.get("tags", []), "first code cell is not 'parameters'"
    return first


def images(nb: object) -> int:
    return sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))


def probe(expression: str) -> str:
    return f"import json\nprint({PROBE_MARK!r} + json.dumps({expression}, default=str))"


# --------------------------------------------------------------------------- stored clean
@pytest.mark.parametrize("name", ALL)
def test_notebook_is_stored_without_outputs(name: str) -> None:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    dirty = [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and (c.outputs or c.execution_count is not None)
    ]
    assert dirty == [], f"{name}: cells {dirty} have outputs or an execution count"
    parameters_cell(nb)


def test_the_three_notebooks_exist() -> None:
    expected = ["01_plan_vs_targets.ipynb", "02_compare_scenarios.ipynb", "03_uncertainty.ipynb"]
    assert expected == ALL


# --------------------------------------------------------------------------- executed
def test_plan_notebook_reports_the_package_numbers(kernel_name: str) -> None:
    nb, got = run_notebook(
        "01_plan_vs_targets.ipynb",
        kernel_name,
        f"STEP_DAYS = {FAST_STEP_DAYS}\nLANG = 'zh'",
        'target_table.to_dict(orient="list")',
    )
    shown = pd.DataFrame(got)
    shown = shown[shown["sub_cluster"] == "total"].set_index("year")
    # Same scenario, same seed, same step: the notebook shows exactly the package's answer.
    scenario = load_scenario(SCENARIOS / "plan.yaml")
    scenario = scenario.model_copy(
        update={"horizon": scenario.horizon.model_copy(update={"step_days": FAST_STEP_DAYS})}
    )
    direct = targets.check_targets(simulate.run(scenario))
    direct = direct[direct["sub_cluster"] == "total"].set_index("year")
    plan = load_plan()
    for year in (2025, 2030):
        simulated, target = shown.loc[year, "simulated"], shown.loc[year, "target"]
        assert target == pytest.approx(plan.value("output.total", year))  # 500, 1000 亿元
        assert shown.loc[year, "status"] == ("met" if simulated >= target else "short")
        assert simulated == pytest.approx(direct.loc[year, "simulated"], rel=1e-12)
    assert images(nb) == 7  # cover, value, production, balance, sankey, facilities, storage


def test_compare_notebook_runs_every_shipped_scenario(kernel_name: str) -> None:
    nb, got = run_notebook(
        "02_compare_scenarios.ipynb",
        kernel_name,
        f"STEP_DAYS = {FAST_STEP_DAYS}",
        '{"runs": list(runs), "totals": totals.reset_index().to_dict(orient="list")}',
    )
    names = {load_scenario(p).name for p in SCENARIOS.glob("*.yaml")}
    assert set(got["runs"]) == names
    totals = got["totals"]
    assert totals["year"] == [2025, 2030]
    assert totals["target"] == [500.0, 1000.0]  # plan ch3 §3
    # Decline only (nothing drilled after 2021) cannot out-produce the plan's programme of
    # ~2,000 wells a year, so its output value falls below the plan scenario's.
    for k in range(2):
        assert totals["frozen-2021: simulated"][k] < totals["plan: simulated"][k]
    assert images(nb) == len(names)


def test_uncertainty_notebook_small_ensemble(kernel_name: str) -> None:
    nb, got = run_notebook(
        "03_uncertainty.ipynb",
        kernel_name,
        f"N = 4\nWORKERS = 1\nSTEP_DAYS = {FAST_STEP_DAYS}\nSOBOL_N = 2\n"
        'INPUTS = ["type_curves.peak_rate_scale", "gas_prices"]',
        '{"n": ensemble.n, "members": sorted(set(ensemble.members["member"])),'
        ' "pct": percentiles.to_dict(orient="list"),'
        ' "prob": probabilities.to_dict(orient="list"),'
        ' "params": list(ensemble.parameters),'
        ' "sobol": sobol[["year", "input"]].to_dict(orient="list")}',
    )
    # the shipped uncertainty of the scenario, restricted to the inputs asked for
    assert got["params"] == ["type_curves.peak_rate_scale", "gas_prices"]
    assert sorted(set(got["sobol"]["year"])) == [2025, 2030]
    assert got["n"] == 4
    assert got["members"] == [0, 1, 2, 3]
    pct = got["pct"]
    for p10, p50, p90 in zip(pct["p10"], pct["p50"], pct["p90"], strict=True):
        assert p10 <= p50 * (1 + 1e-12) + 1e-9 and p50 <= p90 * (1 + 1e-12) + 1e-9
    # With 4 members a probability is a multiple of 1/4.
    for p in got["prob"]["probability"]:
        assert 0.0 <= p <= 1.0 and (4 * p) == pytest.approx(round(4 * p))
    # fans of production and value, probabilities, the 2030 tornado, the Sobol page
    assert images(nb) == 5
