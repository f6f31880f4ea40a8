"""matplotlib for the toolkit's PNGs, imported only when a picture is drawn."""

from __future__ import annotations

from typing import Any

from sensing.errors import SensingError


def pyplot(picture: str) -> Any:
    """``matplotlib.pyplot`` on the Agg backend (files, no display).

    Raises:
        SensingError: matplotlib is missing; the message names ``picture``
            (what was to be drawn) and the extra to install.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SensingError(f"{picture}: needs matplotlib: pip install 'sensing[plot]'") from None
    return plt
