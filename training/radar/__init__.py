"""Training the radar sleep classifier: labelled nights, batches, the training run."""
