"""Audio: reading and streaming sound, log-mel features, the classifier, events and the night report."""
