"""Sleep from radar: the classifier's input, the model, scoring, smoothing, the summary and the hypnogram."""
