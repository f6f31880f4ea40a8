"""Radar: recordings of 60 GHz FMCW range profiles, their simulator, processing and calibration."""
