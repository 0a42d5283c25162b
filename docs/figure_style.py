"""What the ``figures_*.py`` scripts share: the resolution and how a figure is written.

Each figure is saved as an optimised PNG with a small palette: about a third of the size of
matplotlib's own PNG, and it looks the same. Not a figure script itself (the docs tests run every
``figures_*.py``); the scripts import it as ``from figure_style import save``.
"""

from __future__ import annotations

import io
from pathlib import Path

from matplotlib.figure import Figure
from PIL import Image

DPI = 80


def save(fig: Figure, out: Path, name: str, colors: int = 64) -> None:
    """Write ``fig`` to ``out/name`` as a PNG with a palette of ``colors`` and print where it went."""
    path = out / name
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    buf.seek(0)
    image = Image.open(buf).convert("RGB").quantize(colors, method=Image.Quantize.FASTOCTREE,
                                                     dither=Image.Dither.NONE)
    image.save(path, format="PNG", optimize=True)
    print(f"wrote {path} ({path.stat().st_size // 1024} KB)")
