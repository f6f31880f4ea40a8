"""Exceptions the toolkit raises for bad input.

Every error a user can cause (a corrupt file, a missing column, a model that
is not ours) is a :class:`SensingError` whose message names the file, the value
and what was expected. The command line prints these messages without a
traceback.
"""


class SensingError(Exception):
    """Base class for every error caused by input the user gave us."""


class AudioError(SensingError):
    """An audio file cannot be used: missing, unreadable, empty or silent."""


class DataError(SensingError):
    """A data set (manifest, folder of clips, labels) is unusable as given."""


class ModelError(SensingError):
    """A model file is missing, truncated or lacks the toolkit's metadata."""


class RadarError(SensingError):
    """A radar recording or its labels are malformed: wrong dtype or shape, missing keys, NaNs."""
