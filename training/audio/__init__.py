"""Training audio classifiers: clips, augmentation, the training run, evaluation, pruning and quantization."""
