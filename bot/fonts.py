"""The CJK font for generated documents and charts, installed with the project (WenQuanYi Micro
Hei, TrueType outlines, from the `paperang-p2-fonts-cjk` wheel): reportlab embeds a subset of it
in every PDF, and matplotlib renders chart labels with it, so no viewer needs a font pack."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import paperang_p2_fonts_cjk

CJK_FONT_PATH = Path(paperang_p2_fonts_cjk.__file__).parent / "fonts" / "wqy-microhei.ttc"
REPORTLAB_FONT = "WenQuanYiMicroHei"


@cache
def reportlab_font() -> str:
    """Register the font with reportlab once; returns the name to use with setFont."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont(REPORTLAB_FONT, str(CJK_FONT_PATH), subfontIndex=0))
    return REPORTLAB_FONT


@cache
def matplotlib_font() -> str:
    """Add the font to matplotlib's font manager once; returns its family name."""
    from matplotlib import font_manager

    font_manager.fontManager.addfont(str(CJK_FONT_PATH))
    return font_manager.FontProperties(fname=str(CJK_FONT_PATH)).get_name()
