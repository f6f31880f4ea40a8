"""The night history: a versioned SQLite database of :class:`~sensing.history.nights.NightRecord`.

One table, ``nights``, one row per night folder (its resolved path is the key, so importing a
folder again updates its row instead of adding one; an unchanged report changes nothing). The
schema's version is SQLite's ``user_version``; :data:`MIGRATIONS` takes an older database to
the current one, each step in a transaction. Every write is a transaction, so a crash leaves
the history as it was before the night or with the whole night, never half of it.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import sqlite3
import sys
from collections.abc import Iterable
from pathlib import Path

from sensing.errors import SensingError
from sensing.files import make_folder
from sensing.history.nights import NightRecord, read_night

MIGRATIONS = (
    """
    CREATE TABLE nights (
        folder TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        night_of TEXT NOT NULL,
        start_time TEXT,
        duration_min REAL NOT NULL,
        coughs INTEGER,
        coughs_per_hour_asleep REAL,
        snore_minutes REAL,
        snore_episodes INTEGER,
        time_in_bed_min REAL,
        total_sleep_min REAL,
        sleep_efficiency REAL,
        model TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        recorded_at TEXT NOT NULL
    );
    CREATE INDEX nights_by_date ON nights (night_of);
    """,
    """
    ALTER TABLE nights ADD COLUMN bedtime TEXT;
    ALTER TABLE nights ADD COLUMN wake_time TEXT;
    UPDATE nights SET fingerprint = '';
    """,
)
"""SQL that takes schema version i to version i + 1 (version 0: an empty file). Version 2 adds
bedtime and wake time; its nights are read again at their next import (fingerprint emptied)."""

SCHEMA_VERSION = len(MIGRATIONS)
COLUMNS = [field.name for field in dataclasses.fields(NightRecord)]


def default_history_path() -> Path:
    """Where the history lives unless ``--history`` says otherwise:
    ``$XDG_DATA_HOME/sensing/history.sqlite`` (``~/.local/share`` by default)."""
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home) / "sensing" / "history.sqlite"


class History:
    """An open night history (a context manager: closes the database on exit).

    Raises:
        SensingError: the file is not a SQLite database, or one from a newer toolkit.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        make_folder(self.path.parent)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None)
            self._migrate()
        except sqlite3.DatabaseError as error:
            raise SensingError(f"{self.path}: not a night history ({error})") from None

    def __enter__(self) -> History:
        return self

    def __exit__(self, *_: object) -> None:
        self._db.close()

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise SensingError(
                f"{self.path}: a history of schema {version}, newer than this toolkit's "
                f"{SCHEMA_VERSION}; upgrade sensing"
            )
        for step in range(version, SCHEMA_VERSION):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for statement in MIGRATIONS[step].split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {step + 1}")
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def record(self, nights: Iterable[NightRecord]) -> tuple[int, int]:
        """Add or update ``nights`` in one transaction; returns (added, updated): a night whose
        folder is known and whose report is unchanged counts as neither."""
        added = updated = 0
        recorded_at = datetime.datetime.now().isoformat(timespec="seconds")
        self._db.execute("BEGIN IMMEDIATE")
        try:
            for night in nights:
                known = self._db.execute(
                    "SELECT fingerprint FROM nights WHERE folder = ?", (night.folder,)
                ).fetchone()
                if known is not None and known[0] == night.fingerprint:
                    continue
                values = {**dataclasses.asdict(night), "night_of": night.night_of.isoformat()}
                self._db.execute(
                    f"INSERT OR REPLACE INTO nights ({', '.join(COLUMNS)}, recorded_at) "
                    f"VALUES ({', '.join('?' * len(COLUMNS))}, ?)",
                    [values[name] for name in COLUMNS] + [recorded_at],
                )
                added, updated = (added + 1, updated) if known is None else (added, updated + 1)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return added, updated

    def nights(self, last: int | None = None) -> list[NightRecord]:
        """The recorded nights, oldest first (only the ``last`` most recent ones when given)."""
        rows = self._db.execute(
            f"SELECT {', '.join(COLUMNS)} FROM nights ORDER BY night_of DESC, start_time DESC, folder"
            + (" LIMIT ?" if last is not None else ""),
            (last,) if last is not None else (),
        ).fetchall()
        records = []
        for row in reversed(rows):
            values = dict(zip(COLUMNS, row))
            values["night_of"] = datetime.date.fromisoformat(values["night_of"])
            records.append(NightRecord(**values))
        return records


def record_or_warn(history_path: Path, folder: Path) -> None:
    """Record the finished night in ``folder`` in the history at ``history_path``; a failure is
    one warning line on stderr (a night's files never depend on its history)."""
    try:
        with History(history_path) as history:
            history.record([read_night(folder)])
    except (SensingError, OSError, sqlite3.Error) as error:
        print(f"warning: the night in {folder} was not recorded in the history: {error}", file=sys.stderr)
