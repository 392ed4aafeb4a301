"""``cbm-sim sensitivity``: Sobol indices of the 2025 and 2030 totals over a scenario's
uncertainty (SALib and Dask imported only when it runs)."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from cbm_sim.cli.app import _debug_option, _reported, main, output_option
from cbm_sim.results.integrity import META, read_meta, verify, write_meta

SOBOL_FILE = "sobol.csv"
"""Name of the indices file in the output directory (read by ``cbm-sim report --ensemble``)."""


@main.command("sensitivity")
@click.argument("scenario_file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--sobol",
    "n",
    type=click.IntRange(min=2),
    required=True,
    help="Saltelli base sample N (a power of 2); N × (inputs + 2) runs",
)
@output_option("Directory for sobol.csv (an ensemble folder: the report adds the page).", True)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="local worker processes (1 = no Dask)",
)
@click.option("--scheduler", default=None, help="address of a Dask scheduler, tcp://host:port")
@click.option("--seed", type=int, default=None, help="seed of the design (default: the scenario's)")
@click.option(
    "--step-days",
    type=click.IntRange(min=1, max=31),
    default=None,
    help="dispatch step [days] instead of the scenario's",
)
@click.option("--overwrite", is_flag=True, help=f"replace an existing {SOBOL_FILE} in OUT")
@_debug_option
def sensitivity_command(
    scenario_file: str,
    n: int,
    output: Path,
    workers: int | None,
    scheduler: str | None,
    seed: int | None,
    step_days: int | None,
    overwrite: bool,
    debug: bool,
) -> None:
    """Sobol indices (first-order S1, total ST, bootstrap 95 % intervals) of the cluster's
    2025 and 2030 output value over SCENARIO_FILE's uncertainty section.

    Writes OUT/sobol.csv (OUT may be an ensemble directory: `cbm-sim report --ensemble OUT`
    then adds the Sobol page) and prints the inputs by total index.
    """
    if n & (n - 1):
        raise click.BadParameter(f"must be a power of 2, got {n}", param_hint="--sobol")
    target = output / SOBOL_FILE
    if target.exists() and not overwrite:
        raise click.BadParameter(
            f"{target} exists; pass --overwrite to replace it", param_hint="'-o/--output'"
        )
    with _reported(debug):
        from rich.progress import Progress as Bar

        from cbm_sim.scenario import load_scenario
        from cbm_sim.scenario.provenance import provenance
        from cbm_sim.studies.sensitivity import saltelli_runs, sobol_indices

        if (output / META).is_file():  # an ensemble folder: refuse a damaged one up front
            verify(output)
        scenario = load_scenario(scenario_file)
        if step_days is not None:
            horizon = scenario.horizon.model_copy(update={"step_days": step_days})
            scenario = scenario.model_copy(update={"horizon": horizon})
        years = [y for y in (2025, 2030) if y <= scenario.horizon.end.year]
        runs = saltelli_runs(n, len(scenario.uncertainty))
        with Bar(console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task(f"Sobol design, {runs} runs", total=1.0)
            frame = sobol_indices(
                scenario,
                n,
                years=years,
                workers=workers,
                scheduler=scheduler,
                seed=seed,
                progress=lambda f: bar.update(task, completed=f),
            )
        output.mkdir(parents=True, exist_ok=True)
        frame.to_csv(target, index=False, encoding="utf-8")
        study = provenance(scenario, kind="sobol", n=n, runs=runs, inputs=len(scenario.uncertainty))
        if seed is not None:
            study["seed"] = seed  # the design's seed (--seed), not the file's
        _record(output, study)
        console = Console()
        for year, part in frame.groupby("year", sort=True):
            table = Table(title=f"Sobol indices of output.total {year} (N = {n}, {runs} runs)")
            for col in ("input", "S1", "S1 95 %", "ST", "ST 95 %"):
                table.add_column(col, justify="left" if col == "input" else "right")
            for r in part.itertuples(index=False):
                table.add_row(
                    r.input,
                    f"{r.S1:.2f}",
                    f"{r.S1_low:.2f}–{r.S1_high:.2f}",
                    f"{r.ST:.2f}",
                    f"{r.ST_low:.2f}–{r.ST_high:.2f}",
                )
            console.print(table)
        click.echo(f"wrote {target}")


_SEALS = frozenset({"files", "sha256", "meta_sha256", "cbm_sim_version", "scenario_sha256"})


def _record(output: Path, study: dict[str, object]) -> None:
    """Record the Sobol study's provenance in ``output``'s ``meta.json`` (as ``sobol``),
    resealing an ensemble folder with ``sobol.csv`` among its files, or starting a
    ``meta.json`` of its own in a new folder."""
    if (output / META).is_file():
        meta = read_meta(output)
        files = [str(f) for f in meta.get("files", []) if f != META]
        kept = {k: v for k, v in meta.items() if k not in _SEALS}
        write_meta(output, {**kept, "sobol": study}, sorted({*files, SOBOL_FILE}))
    else:
        write_meta(output, {**study, "sobol": study}, [SOBOL_FILE])
