"""``cbm-sim compare``: scenarios or run directories side by side."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    import pandas as pd

    pass

from cbm_sim.cli.app import (
    _TARGET_YEARS,
    _debug_option,
    _no_verify_option,
    _reported,
    _signed,
    _value,
    check_output,
    main,
    output_option,
    overwrite_option,
)
from cbm_sim.cli.run_cmd import _is_total, _simulate

_COMPARED = ("year", "sub_cluster", "item", "target", "simulated", "gap_pct", "status")


def _targets_of(source: Path, console: Console, *, verify: bool = True) -> tuple[str, pd.DataFrame]:
    """Name and target check of a results directory (its targets.csv, verified against
    meta.json unless ``verify`` is false) or a scenario file.

    Raises
    ------
    DamagedRunError
        If the directory fails verification or its targets.csv cannot be read as a target
        check (with ``verify`` false), naming the file.
    """
    import pandas as pd

    if source.is_dir():
        from cbm_sim.results import integrity

        csv = source / "targets.csv"
        if verify:
            meta = integrity.verify(source, require=("targets.csv",))
        else:
            if not csv.is_file():
                raise integrity.DamagedRunError(f"{csv}: missing; not a run directory")
            meta = integrity.read_meta(source) if (source / integrity.META).is_file() else {}
        name = meta.get("scenario")
        try:
            frame = pd.read_csv(csv, keep_default_na=False, na_values=[""])
        except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
            raise integrity.DamagedRunError(f"{csv}: unreadable ({exc})") from None
        lacking = [c for c in _COMPARED if c not in frame.columns]
        numeric = ("year", "target", "simulated", "gap_pct")
        wrong = [
            c
            for c in numeric
            if c in frame.columns
            and not frame.empty
            and not pd.api.types.is_numeric_dtype(frame[c])
        ]
        if lacking or wrong:
            what = f"lacks columns {lacking}" if lacking else f"non-numeric columns {wrong}"
            raise integrity.DamagedRunError(f"{csv}: {what}")
        return str(name if isinstance(name, str) and name else source.name), frame
    from cbm_sim.economics.targets import check_targets
    from cbm_sim.scenario.files import load_scenario

    scenario = load_scenario(source)
    return scenario.name, check_targets(_simulate(scenario, console))


def side_by_side(named: list[tuple[str, pd.DataFrame]]) -> pd.DataFrame:
    """One row per (year, sub_cluster, item, target, unit): per name its simulated value,
    gap_pct and status, and for every name after the first its ``delta`` against the first.

    Rows are ordered as a planner reads them: per year the cluster total, the sub-cluster
    totals, their items, then the physical targets. ``unit`` is the unit the plan states the
    target in (亿元 for output value; 亿m3, 万t … for physical targets).
    """

    keys = ["year", "sub_cluster", "item", "target", "unit"]
    wide: pd.DataFrame | None = None
    for name, frame in named:
        frame = frame.assign(unit=frame["unit"] if "unit" in frame.columns else "亿元")
        frame = frame.assign(item=frame["item"].astype(object).where(frame["item"].notna(), ""))
        part = frame.loc[:, [*keys, "simulated", "gap_pct", "status"]]
        part = part.rename(columns={c: f"{name}: {c}" for c in ("simulated", "gap_pct", "status")})
        wide = part if wide is None else wide.merge(part, on=keys, how="outer")
    if wide is None:
        raise ValueError("side_by_side needs at least one (name, targets) pair")
    first = named[0][0]
    for name, _ in named[1:]:
        at = list(wide.columns).index(f"{name}: simulated") + 1
        wide.insert(at, f"{name}: delta", wide[f"{name}: simulated"] - wide[f"{first}: simulated"])
    order = wide["sub_cluster"].map(
        lambda sc: 0 if sc == "total" else 2 if sc == "physical" else 1
    ) * 2 + (~_is_total(wide)).astype(int)
    wide = wide.assign(_order=order)
    wide = wide.sort_values(["year", "_order", "sub_cluster", "item"], kind="stable")
    return wide.drop(columns="_order").reset_index(drop=True)


@main.command("compare")
@click.argument("sources", metavar="A B ...", nargs=-1, required=True,
                type=click.Path(exists=True, path_type=Path))  # fmt: skip
@output_option("Write the full side-by-side table to this CSV file.", False, directory=False)
@overwrite_option
@_no_verify_option
@_debug_option
def compare_command(
    sources: tuple[Path, ...], output: Path | None, overwrite: bool, no_verify: bool, debug: bool
) -> None:
    """Compare scenarios (files, which are run) or run directories against the targets.

    Prints the cluster and sub-cluster totals for 2025 and 2030 side by side, with each
    scenario's difference (Δ, 亿元) from the first; -o writes every row, totals first, with the
    unit of each row and the deltas.
    """

    console = Console(stderr=True)
    with _reported(debug):
        if output is not None:
            check_output(output, overwrite)  # before any scenario is run
        named: list[tuple[str, pd.DataFrame]] = []
        for source in sources:
            name, frame = _targets_of(source, console, verify=not no_verify)
            taken = {n for n, _ in named}
            unique = name if name not in taken else f"{name} ({len(named) + 1})"
            named.append((unique, frame))
        wide = side_by_side(named)
        head = wide[
            _is_total(wide) & wide["year"].isin(_TARGET_YEARS) & (wide["sub_cluster"] != "physical")
        ]
        first = named[0][0]
        table = Table(title=f"output value vs the plan (亿元; Δ against {first})")
        columns = ["year", "sub_cluster", "target", f"{first}"]
        columns += [c for n, _ in named[1:] for c in (n, f"Δ {n}")]
        for col in columns:
            table.add_column(col, justify="left" if col == "sub_cluster" else "right")
        for _, r in head.iterrows():
            cells = [str(r["year"]), str(r["sub_cluster"]), _value(r["target"])]
            cells.append(_value(r[f"{first}: simulated"]))
            for n, _ in named[1:]:
                cells += [_value(r[f"{n}: simulated"]), _signed(r[f"{n}: delta"])]
            table.add_row(*cells)
        Console().print(table)
        if output is not None:
            from cbm_sim.results import writer

            with writer.staged_file(output, overwrite=overwrite) as staged:
                wide.to_csv(staged, index=False, encoding="utf-8")
            click.echo(f"wrote {len(wide)} rows to {output}")
