"""A whole night from radar and audio together: audio events count only while the sleeper is in bed."""
