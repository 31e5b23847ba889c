"""The CJK font embedded in every generated PDF.

reportlab's built-in CID fonts (STSong-Light, …) are not embedded: a reader without the font
shows boxes. So a TrueType font is embedded (subset) instead, found at `XUEJI_PDF_FONT`
(default: Debian's fonts-wqy-zenhei, `/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc`; a .ttc
names its face with `XUEJI_PDF_FONT_INDEX`). A missing font is an error naming the setting.
"""

from __future__ import annotations

import zlib
from functools import lru_cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont

from xueji.errors import XuejiError

FONT_NAME = "XuejiCJK"


class DocumentFontMissing(XuejiError):
    """The Chinese font for generated documents is not installed or not usable (a 503 with
    its reason: an operator's fix, not a bug)."""

    status_code = 503
    error = "DocumentFontMissing"


def register_font(path: Path, index: int = 0) -> str:
    """The reportlab name of the embedded CJK font, registered once per file and face."""
    return _register(str(path), index)


@lru_cache
def _register(path: str, index: int) -> str:
    if not Path(path).is_file():
        raise DocumentFontMissing(
            f"生成 PDF 所需的中文字体不存在：{path}。请安装 fonts-wqy-zenhei，"
            "或将 XUEJI_PDF_FONT 设为一个 TrueType 字体文件（.ttf/.ttc）"
        )
    # One name per file and face, so a changed setting never reuses another font's metrics.
    name = f"{FONT_NAME}-{zlib.crc32(path.encode()):08x}-{index}"
    try:
        pdfmetrics.registerFont(TTFont(name, path, subfontIndex=index))
    except TTFError as error:
        raise DocumentFontMissing(
            f"XUEJI_PDF_FONT 所指的字体无法嵌入 PDF：{path}（{error}）"
        ) from error
    return name
