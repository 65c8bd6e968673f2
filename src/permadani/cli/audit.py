"""``permadani audit``, ``permadani account`` and ``permadani synth``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

if TYPE_CHECKING:  # pragma: no cover
    from ..analyses.context import AuditParams

from .common import EngineOption, JsonOption, QuietOption, RichProgress, err_console, out_console, print_json

StatusOption = Annotated[str | None, typer.Option(
    "--status", help="Status measure: followers, reputation, attention, pagerank, seniority (default per platform).")]
WindowOption = Annotated[float, typer.Option("--window-days", help="A reply counts as answered within this many days.")]
UpperOption = Annotated[float, typer.Option("--upper", help="Share of accounts in the upper tier.")]
MiddleOption = Annotated[float, typer.Option("--middle", help="Share of accounts in the middle tier.")]


def _params(status: str | None, window_days: float, upper: float, middle: float, **extra: Any) -> AuditParams:
    from ..analyses.context import AuditParams  # analyses import Ibis: load them only when a command needs them

    return AuditParams(status=status, window_days=window_days, upper=upper, middle=middle, **extra)


def _engine(name: str, memory_limit: str | None, temp_dir: Path | None, threads: int | None,
            spark_master: str | None) -> Any:
    """An open engine with the user's settings (the caller closes it), or the bare name when nothing was set."""
    from ..engine import connect

    if name == "duckdb" and (memory_limit or temp_dir or threads):
        return connect("duckdb", memory_limit=memory_limit, temp_directory=temp_dir, threads=threads)
    if name == "pyspark" and spark_master:
        return connect("pyspark", master=spark_master)
    return name


def audit(
    dataset: Annotated[Path, typer.Argument(help="Dataset folder (from 'permadani ingest' or 'synth').")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Results folder to write.")] = None,
    engine: EngineOption = "duckdb",
    status: StatusOption = None,
    window_days: WindowOption = 7,
    upper: UpperOption = 0.01,
    middle: MiddleOption = 0.09,
    n_boot: Annotated[int, typer.Option("--n-boot", help="Bootstrap replicates for the 95 % intervals.")] = 200,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the bootstrap.")] = 0,
    memory_limit: Annotated[str | None, typer.Option(
        "--memory-limit", help="DuckDB: memory cap, e.g. 8GB; joins, aggregates and sorts spill to disk beyond it "
                               "(default: half the RAM, at most 4GB).")] = None,
    temp_dir: Annotated[Path | None, typer.Option(
        "--temp-dir", help="DuckDB: folder for spilled data (default: .tmp in the working directory).")] = None,
    threads: Annotated[int | None, typer.Option(
        "--threads", min=1, help="DuckDB: worker threads (default: one per core).")] = None,
    spark_master: Annotated[str | None, typer.Option(
        "--spark-master", envvar="PERMADANI_SPARK_MASTER",
        help="PySpark: master URL, e.g. spark://host:7077 or yarn (default local[2]; env PERMADANI_SPARK_MASTER).",
    )] = None,
    sections: Annotated[str | None, typer.Option(
        "--sections", help="Comma-separated sections to run (default: all): tiers, responsiveness, accounts, "
                           "inequality, rich_club, mobility, trend, conversation.")] = None,
    json_out: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Run every analysis: tiers, responsiveness (who answers whom, with 95 % CIs), account cards, structure.

    DuckDB (default) insertion order is not preserved and memory is capped by --memory-limit (spilling to
    --temp-dir); --engine pyspark runs the same expressions on Spark (--spark-master for a cluster).
    """
    params = _params(status, window_days, upper, middle, n_boot=n_boot, seed=seed)
    eng = _engine(engine, memory_limit, temp_dir, threads, spark_master)
    try:
        from ..analyses.audit import audit as audit_api

        chosen = tuple(x.strip() for x in sections.split(",") if x.strip()) if sections else None
        result = audit_api(dataset, output, engine=eng, params=params, progress=RichProgress(quiet),
                           sections=chosen)
    finally:
        if not isinstance(eng, str):
            eng.close()
    if json_out:
        print_json(result.document())
    if not quiet:
        from ..report.terminal import print_summary

        print_summary(result.summary, err_console)
        if output is not None:
            err_console.print(f"wrote [bold]{output}[/] ({len(result.tables)} tables + summary.json)")


def _pct(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "–"
    return f"{value * 100:+.1f} pp" if signed else f"{value * 100:.1f} %"


def _hours(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} h"


def account(
    dataset: Annotated[Path, typer.Argument(help="Dataset folder.")],
    name: Annotated[str, typer.Argument(help="Account id or display name.")],
    engine: EngineOption = "duckdb",
    status: StatusOption = None,
    window_days: WindowOption = 7,
    upper: UpperOption = 0.01,
    middle: MiddleOption = 0.09,
    json_out: JsonOption = False,
) -> None:
    """One account's card: tier, status, replies received, reply-back rate by replier tier, latency."""
    from ..analyses.cards import account as account_api

    card = account_api(dataset, name, engine=engine, params=_params(status, window_days, upper, middle))
    if json_out:
        print_json(card)
        return
    grid = Table(title=f"{card['display_name'] or card['author_id']} ({card['platform']})", show_header=False)
    grid.add_row("author id", str(card["author_id"]))
    grid.add_row("tier", f"{card['tier']} (status {card['status']:,.4g} by {card['measure']}, "
                         f"percentile {card['percentile'] * 100:.1f}, in tier {card['percentile_in_tier'] * 100:.1f})")
    grid.add_row("posts", f"{card['posts']:,} ({_pct(card['reply_share'])} are replies)")
    grid.add_row("replies received", f"{card['replies_received']:,} from {card['distinct_repliers']:,} accounts")
    grid.add_row("reply-back rate", _pct(card["reply_back_rate"]))
    for tier, rate in card["reply_back_by_tier"].items():
        grid.add_row(f"  to {tier}", f"{_pct(rate)} of {card['replies_by_tier'][tier]:,}")
    grid.add_row("latency", f"median {_hours(card['latency_hours']['median'])}, "
                            f"p90 {_hours(card['latency_hours']['p90'])}")
    out_console.print(grid)


def synth(
    output: Annotated[Path, typer.Option("--output", "-o", help="Dataset folder to write.")],
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same community).")] = 0,
    accounts: Annotated[int, typer.Option("--accounts", help="Number of accounts.")] = 1500,
    threads: Annotated[int, typer.Option("--threads", help="Number of threads (besides debut posts).")] = 1200,
    months: Annotated[int, typer.Option("--months", help="Months of activity.")] = 6,
    reply_back: Annotated[str | None, typer.Option(
        "--reply-back", help="True reply-back probabilities, e.g. upper:upper=0.6,lower:upper=0.2.")] = None,
    newcomer_penalty: Annotated[float, typer.Option(
        "--newcomer-penalty", help="Subtracted from the probability when the reply is a newcomer's post.")] = 0.1,
    gap_trend: Annotated[float, typer.Option(
        "--gap-trend", help="Per-month change of P[lower→upper] (negative: the gap grows).")] = 0.0,
    mobility: Annotated[float, typer.Option(
        "--mobility", help="Per-month probability that an account's standing is redrawn.")] = 0.0,
    json_out: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Generate a community with planted effects (the truth is recorded in the dataset manifest)."""
    from ..synthetic import SynthParams, parse_reply_back, synthesize

    params = SynthParams(seed=seed, accounts=accounts, threads=threads, months=months,
                         reply_back=parse_reply_back(reply_back or ""), newcomer_penalty=newcomer_penalty,
                         gap_trend=gap_trend, mobility=mobility)
    dataset = synthesize(output, params)
    info = dataset.info()
    if json_out:
        print_json({**info, "parameters": dataset.parameters})
    elif not quiet:
        err_console.print(f"wrote [bold]{output}[/]: {info['posts']:,} posts by {info['authors']:,} accounts "
                          f"in {info['threads']:,} threads (seed {seed})")
