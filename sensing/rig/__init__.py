"""A bedside rig: set up once (calibrated), then a night every night by itself, under systemd."""
