"""Firmware export: C sources for TensorFlow Lite Micro generated from trained models."""
