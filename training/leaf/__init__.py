"""A LEAF-style learnable audio frontend (Zeghidour et al., ICLR 2021), one module per stage.

Raw 16 kHz audio -> optional learnable pre-emphasis (:mod:`.preemphasis`) ->
complex Gabor filterbank and squared modulus (:mod:`.gabor`) -> learnable
Gaussian lowpass pooling (:mod:`.pooling`) -> sPCEN compression (:mod:`.pcen`).
:mod:`.frontend` assembles them, initialised from the mel filterbank, into a
frontend whose output has the shape and rough scale of the log-mel frontend;
:mod:`.fast` turns a trained frontend into a short-time power spectrum times a
learned filterbank matrix, cheap enough for the device.
"""
