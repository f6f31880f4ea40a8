"""The night history: nights recorded once, weekly figures equal to the nights' own reports."""

from __future__ import annotations

import dataclasses
import datetime
import json
import re
import shutil
import sqlite3
import subprocess
from urllib.parse import unquote

import pytest
from conftest import assert_one_line_error, run_main

from sensing.errors import SensingError
from sensing.history.nights import read_night
from sensing.history.store import COLUMNS, MIGRATIONS, SCHEMA_VERSION, History
from sensing.history.weekly import weeks
from sensing.synthetic.night import make_night


def history_folders(database) -> list[str]:
    with History(database) as history:
        return [night.folder for night in history.nights()]


@pytest.fixture(scope="module")
def week_of_nights(tmp_path_factory):
    """Seven ``sensing detect`` nights, Monday 2026-11-23 to Sunday 2026-11-29, each from 23:10."""
    folder = tmp_path_factory.mktemp("week")
    nights = []
    for day in range(7):
        wav, _ = make_night(folder / f"night{day}.wav", duration_s=90, seed=day)
        out = folder / f"night{day}"
        result = run_main(
            ["detect", str(wav), "--out", str(out), "--start-time", f"2026-11-{23 + day}T23:10"]
        )
        assert result.returncode == 0, result.stderr
        nights.append(out)
    return nights


def test_seven_nights_make_one_week_whose_figures_are_the_reports(week_of_nights, tmp_path):
    database = tmp_path / "history.sqlite"
    result = run_main(["history", "import", *map(str, week_of_nights), "--history", str(database)])
    assert result.returncode == 0, result.stderr
    assert "7 added, 0 updated, 0 already there" in result.stdout
    reports = [json.loads((night / "report.json").read_text()) for night in week_of_nights]
    with History(database) as history:
        recorded = history.nights()
    (week,) = weeks(recorded)
    assert week.monday.isoformat() == "2026-11-23" and week.nights == 7
    assert week.coughs == sum(report["cough_count"] for report in reports)
    assert week.coughs_per_night == pytest.approx(week.coughs / 7)
    assert week.snore_minutes_per_night == pytest.approx(sum(r["snore_minutes"] for r in reports) / 7)
    assert week.total_sleep_min_per_night is None  # audio nights measure no sleep
    assert [night.night_of.day for night in recorded] == list(range(23, 30))

    shown = run_main(["history", "--history", str(database)])
    assert shown.returncode == 0 and "week of 2026-11-23: 7 nights" in shown.stdout
    assert f"coughs {week.coughs}," in shown.stdout


def test_importing_again_changes_nothing_and_a_changed_report_updates_its_night(week_of_nights, tmp_path):
    database = tmp_path / "history.sqlite"
    folders = list(map(str, week_of_nights))
    assert run_main(["history", "import", *folders, "--history", str(database)]).returncode == 0
    with History(database) as history:
        before = history.nights()
    again = run_main(["history", "import", *folders, "--history", str(database)])
    assert "0 added, 0 updated, 7 already there" in again.stdout
    with History(database) as history:
        assert history.nights() == before

    changed = tmp_path / "changed"
    shutil.copytree(week_of_nights[0], changed)
    assert run_main(["history", "import", str(changed), "--history", str(database)]).returncode == 0
    report = json.loads((changed / "report.json").read_text())
    (changed / "report.json").write_text(json.dumps({**report, "cough_count": report["cough_count"] + 5}))
    updated = run_main(["history", "import", str(changed), "--history", str(database)])
    assert "0 added, 1 updated, 0 already there" in updated.stdout
    with History(database) as history:
        (night,) = [n for n in history.nights() if n.folder == str(changed.resolve())]
    assert night.coughs == report["cough_count"] + 5 and len(history_folders(database)) == 8


def test_a_sleep_and_a_combined_night_bring_their_sleep_figures(tmp_path):
    out = tmp_path / "demo"
    assert run_main(["demo", "--minutes", "60", "--out", str(out)]).returncode == 0
    night = read_night(out / "report")
    sleep = read_night(out / "report" / "sleep")
    report = json.loads((out / "report" / "report.json").read_text())
    assert night.kind == "night" and sleep.kind == "sleep"
    assert night.coughs == report["combined"]["coughs"]
    assert night.total_sleep_min == sleep.total_sleep_min == report["sleep"]["total_sleep_min"]
    assert sleep.coughs is None

    timed = tmp_path / "timed"
    result = run_main(["night", "--audio", str(out / "night.wav"), "--radar", str(out / "radar.npz"),
                       "--out", str(timed), "--start-time", "2026-11-23T23:00"])  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = json.loads((timed / "report.json").read_text())["sleep"]
    record = read_night(timed)
    bedtime = datetime.datetime(2026, 11, 23, 23) + datetime.timedelta(minutes=summary["bedtime_min"])
    assert record.bedtime == bedtime.isoformat(timespec="minutes")
    assert record.night_of == datetime.date(2026, 11, 23) and record.wake_time is not None


def test_what_is_not_a_night_or_a_history_is_one_line(tmp_path, week_of_nights):
    result = run_main(["history", "import", str(tmp_path), "--history", str(tmp_path / "h.sqlite")])
    assert "report.json: not found" in assert_one_line_error(result, 2)
    not_a_database = tmp_path / "notes.sqlite"
    not_a_database.write_text("my notes\n" * 100)
    result = run_main(["history", "import", str(week_of_nights[0]), "--history", str(not_a_database)])
    assert "not a night history" in assert_one_line_error(result, 2)


def test_a_first_version_history_is_migrated_and_its_nights_read_again(week_of_nights, tmp_path):
    path = tmp_path / "history.sqlite"
    connection = sqlite3.connect(path)
    connection.executescript(MIGRATIONS[0] + "PRAGMA user_version = 1;")
    night = read_night(week_of_nights[0])
    columns = [name for name in COLUMNS if name not in ("bedtime", "wake_time")]
    values = {**dataclasses.asdict(night), "night_of": night.night_of.isoformat()}
    connection.execute(
        f"INSERT INTO nights ({', '.join(columns)}, recorded_at) VALUES ({', '.join('?' * len(columns))}, 'x')",
        [values[name] for name in columns],
    )
    connection.commit()
    connection.close()
    with History(path) as history:
        assert history.nights()[0].coughs == night.coughs
        assert history.record([night]) == (0, 1)  # read again after the migration
        assert history.record([night]) == (0, 0)


def test_an_empty_database_is_migrated_and_a_newer_one_refused(tmp_path):
    path = tmp_path / "history.sqlite"
    sqlite3.connect(path).close()
    with History(path) as history:
        assert history.nights() == []
    connection = sqlite3.connect(path)
    assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    connection.close()
    with pytest.raises(SensingError, match="newer than this toolkit's"):
        History(path)


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.skipif(CHROMIUM is None, reason="no headless browser (Debian: apt install chromium)")
def test_the_page_opens_in_a_browser_with_every_night_and_links_that_resolve(week_of_nights, tmp_path):
    database, page_dir = tmp_path / "history.sqlite", tmp_path / "page"
    assert (
        run_main(["history", "import", *map(str, week_of_nights), "--history", str(database)]).returncode == 0
    )
    result = run_main(["history", "--history", str(database), "--out", str(page_dir)])
    assert result.returncode == 0, result.stderr
    assert (page_dir / "trends.png").read_bytes().startswith(b"\x89PNG")
    browser = subprocess.run(
        [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files",
         "--dump-dom", (page_dir / "index.html").as_uri()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert browser.returncode == 0, browser.stderr[-2000:]
    dom = browser.stdout
    assert dom.count('<tr class="night">') == 7 and dom.count('<tr class="week">') == 1
    assert "7 nights, 2026-11-23 to 2026-11-29" in dom
    links = re.findall(r'(?:href|src)="([^"]+)"', dom)
    assert len(links) >= 7 * 2  # each night's report.json and report.png, and the trends picture
    missing = [link for link in links if not (page_dir / unquote(link)).resolve().is_file()]
    assert missing == []
