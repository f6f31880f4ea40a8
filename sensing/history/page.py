"""``index.html``: the history as a page to open in any browser, with no server and no internet.

The page shows ``trends.png``, a table of the weeks and a table of the nights; each night
links its own ``report.json`` and pictures (``night.png``, ``report.png``,
``hypnogram.png``), by paths relative to the page, so the folder can be opened as a file or
served from the Pi by any static server (with the night folders below the same root). Every
style is inline: nothing is fetched.
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from urllib.parse import quote

from sensing.errors import SensingError
from sensing.files import make_folder, write_atomically
from sensing.history.nights import NightRecord
from sensing.history.trends_plot import plot_trends
from sensing.history.weekly import Week
from sensing.wording import duration

NIGHT_PICTURES = ("night.png", "report.png", "hypnogram.png", "sleep/hypnogram.png", "audio/report.png")
"""Pictures a night folder may hold, linked from its row where they exist."""

_STYLE = """
body { font-family: sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3em 0.8em; text-align: right; }
th:first-child, td:first-child, td.links { text-align: left; }
img { max-width: 100%; }
"""


def _cell(value: float | None, form: str) -> str:
    return "&ndash;" if value is None else format(value, form)


def _link(page_dir: Path, target: Path, text: str) -> str:
    relative = os.path.relpath(target, page_dir)
    return f'<a href="{quote(Path(relative).as_posix())}">{html.escape(text)}</a>'


def _night_row(night: NightRecord, page_dir: Path) -> str:
    folder = Path(night.folder)
    links = [_link(page_dir, folder / "report.json", "report")]
    links += [_link(page_dir, folder / name, name) for name in NIGHT_PICTURES if (folder / name).is_file()]
    start = "&ndash;" if night.start_time is None else html.escape(night.start_time[11:16])
    snoring = "&ndash;" if night.snore_minutes is None else duration(night.snore_minutes * 60)
    asleep = "&ndash;" if night.total_sleep_min is None else duration(night.total_sleep_min * 60)
    return (
        f'<tr class="night"><td>{night.night_of.isoformat()}</td><td>{start}</td><td>{night.kind}</td>'
        f"<td>{_cell(night.coughs, 'd')}</td><td>{_cell(night.coughs_per_hour_asleep, '.1f')}</td>"
        f"<td>{snoring}</td><td>{asleep}</td><td>{_cell(night.sleep_efficiency, '.0%')}</td>"
        f'<td class="links">{" ".join(links)}</td></tr>'
    )


def _week_row(week: Week) -> str:
    return (
        f'<tr class="week"><td>{week.monday.isoformat()}</td><td>{week.nights}</td>'
        f"<td>{_cell(week.coughs, 'd')}</td><td>{_cell(week.coughs_per_night, '.1f')}</td>"
        f"<td>{_cell(week.snore_minutes_per_night, '.0f')}</td>"
        f"<td>{_cell(None if week.total_sleep_min_per_night is None else week.total_sleep_min_per_night / 60, '.1f')}</td>"
        f"<td>{_cell(week.sleep_efficiency, '.0%')}</td></tr>"
    )


def write_page(nights: list[NightRecord], weeks: list[Week], out_dir: str | Path) -> tuple[Path, Path | None]:
    """Write ``trends.png`` and ``index.html`` into ``out_dir``; returns their paths (the picture's
    None when matplotlib is missing: the page then says so).

    Raises:
        WriteError: a file cannot be written.
    """
    page_dir = make_folder(out_dir).resolve()
    try:
        trends: Path | None = plot_trends(nights, weeks, page_dir / "trends.png")
        picture = '<img src="trends.png" alt="coughs, snoring and sleep over the nights">'
    except SensingError as error:
        trends, picture = None, f"<p>{html.escape(str(error))}</p>"
    rows = "\n".join(_night_row(night, page_dir) for night in reversed(nights))
    week_rows = "\n".join(_week_row(week) for week in reversed(weeks))
    page = f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Nights: coughs, snoring and sleep</title><style>{_STYLE}</style></head>
<body>
<h1>{len(nights)} nights, {nights[0].night_of.isoformat()} to {nights[-1].night_of.isoformat()}</h1>
{picture}
<h2>Weeks</h2>
<table>
<tr><th>week of</th><th>nights</th><th>coughs</th><th>a night</th><th>snoring, min a night</th>
<th>asleep, h a night</th><th>efficiency</th></tr>
{week_rows}
</table>
<h2>Nights</h2>
<table>
<tr><th>night of</th><th>start</th><th>kind</th><th>coughs</th><th>per hour asleep</th><th>snoring</th>
<th>asleep</th><th>efficiency</th><th>files</th></tr>
{rows}
</table>
</body>
</html>
"""
    return write_atomically(page_dir / "index.html", page), trends
