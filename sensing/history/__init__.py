"""Nights over weeks: a history of finished nights in SQLite, and weekly summaries of it.

:mod:`~sensing.history.nights` reads a night folder (``sensing detect``, ``sleep`` or
``night``) into one :class:`~sensing.history.nights.NightRecord`;
:mod:`~sensing.history.store` keeps records in a versioned SQLite database (Python's own
``sqlite3``: every write a transaction, a night recorded once however often it is imported);
:mod:`~sensing.history.weekly` sums them per week.
"""
