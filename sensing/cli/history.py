"""``sensing history``: the nights recorded so far, and ``sensing history import`` to record them."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sensing.cli.options import positive_int

HISTORY_HELP = "the history database (default: $XDG_DATA_HOME/sensing/history.sqlite)"


def _history_path(args: argparse.Namespace) -> Path:
    from sensing.history.store import default_history_path

    return args.history if args.history is not None else default_history_path()


def _command_import(args: argparse.Namespace) -> int:
    from sensing.history.nights import read_night
    from sensing.history.store import History

    nights = [read_night(folder) for folder in args.folders]
    path = _history_path(args)
    with History(path) as history:
        added, updated = history.record(nights)
    unchanged = len(nights) - added - updated
    print(f"{path}: {added} added, {updated} updated, {unchanged} already there")
    return 0


def _value(value: float | None, form: str) -> str:
    return "-" if value is None else format(value, form)


def _change(value: float | None, form: str) -> str:
    return "" if value is None else f" ({format(value, '+' + form)} on the week before)"


def _night_lines(nights: list[Any]) -> list[str]:
    from sensing.wording import duration

    header = (
        f"{'night of':<11} {'start':<6} {'kind':<7} {'coughs':>6} {'/h asleep':>9} {'snoring':>10} "
        f"{'asleep':>10} {'efficiency':>10}"
    )
    lines = [header]
    for night in nights:
        start = "-" if night.start_time is None else night.start_time[11:16]
        snoring = "-" if night.snore_minutes is None else duration(night.snore_minutes * 60)
        asleep = "-" if night.total_sleep_min is None else duration(night.total_sleep_min * 60)
        lines.append(
            f"{night.night_of.isoformat():<11} {start:<6} {night.kind:<7} {_value(night.coughs, 'd'):>6} "
            f"{_value(night.coughs_per_hour_asleep, '.1f'):>9} {snoring:>10} {asleep:>10} "
            f"{_value(night.sleep_efficiency, '.0%'):>10}"
        )
    return lines


def _week_lines(nights: list[Any]) -> list[str]:
    from sensing.history.weekly import change, weeks
    from sensing.wording import plural

    lines = []
    previous = None
    for week in weeks(nights):
        before = previous or week
        parts = [f"week of {week.monday.isoformat()}: {plural(week.nights, 'night')}"]
        if week.coughs is not None:
            parts.append(
                f"coughs {week.coughs}, {_value(week.coughs_per_night, '.1f')} a night"
                + _change(change(week.coughs_per_night, before.coughs_per_night) if previous else None, ".1f")
            )
        if week.snore_minutes_per_night is not None:
            parts.append(
                f"snoring {week.snore_minutes_per_night:.0f} min a night"
                + _change(
                    change(week.snore_minutes_per_night, before.snore_minutes_per_night)
                    if previous
                    else None,
                    ".0f",
                )
            )
        if week.total_sleep_min_per_night is not None:
            parts.append(
                f"asleep {week.total_sleep_min_per_night:.0f} min a night, efficiency "
                f"{_value(week.sleep_efficiency, '.0%')}"
                + _change(
                    change(week.total_sleep_min_per_night, before.total_sleep_min_per_night)
                    if previous
                    else None,
                    ".0f",
                )
            )
        lines.append("; ".join(parts))
        previous = week
    return lines


def _command_history(args: argparse.Namespace) -> int:
    from sensing.history.store import History

    path = _history_path(args)
    if not path.is_file():
        print(f"{path}: no nights recorded yet (sensing history import NIGHT_FOLDER...)")
        return 0
    with History(path) as history:
        nights = history.nights(last=args.last)
    if not nights:
        print(f"{path}: no nights recorded yet (sensing history import NIGHT_FOLDER...)")
        return 0
    print("\n".join(_night_lines(nights) + [""] + _week_lines(nights)))
    if args.out is not None:
        from sensing.history.page import write_page
        from sensing.history.weekly import weeks

        page, trends = write_page(nights, weeks(nights), args.out)
        print(f"page: {page}" + (f", {trends}" if trends is not None else ""))
    return 0


def add_history_command(commands: Any) -> None:
    """Add ``history`` (and ``history import``) to the ``sensing`` subcommands."""
    history = commands.add_parser(
        "history",
        help="the nights recorded so far, and weekly summaries",
        description="Print the last nights of the night history (coughs, snoring, sleep) and a "
        "summary per week (totals, means a night and the change on the week before); with --out, "
        "a trends picture and a page linking every night's report and pictures. "
        "`sensing history import` records night folders.",
    )
    history.add_argument("--history", type=Path, default=None, help=HISTORY_HELP)
    history.add_argument("--last", type=positive_int, default=14, help="how many nights (default 14)")
    history.add_argument(
        "--out",
        type=Path,
        default=None,
        help="also write trends.png and index.html (open it in a browser; no server needed) here",
    )
    history.set_defaults(handler=_command_history)
    actions = history.add_subparsers(dest="history_command", metavar="ACTION", title="actions")
    record = actions.add_parser(
        "import",
        help="record finished night folders in the history",
        description="Record the nights in folders that sensing detect, sleep or night wrote. A "
        "folder already recorded with the same report is left as it is; one whose report changed "
        "is updated. All the folders are recorded together or not at all.",
    )
    record.add_argument("folders", nargs="+", type=Path, metavar="FOLDER", help="a night folder")
    record.add_argument("--history", type=Path, default=None, help=HISTORY_HELP)
    record.set_defaults(handler=_command_import)
