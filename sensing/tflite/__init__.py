"""TensorFlow Lite files without TensorFlow: the interpreter, the toolkit's metadata, graph reading, the sparse check."""
