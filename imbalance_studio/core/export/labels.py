"""Class-name labels for the report charts, in any script, without slowing the usual case.

Pillow's bitmap font is ~15x faster to draw than a FreeType font (the charts are drawn on
every export, which is timed against cp), but it encodes text as Latin-1 and raises on
anything else (猫, кошка, emoji, undecodable bytes). So a label is drawn with the bitmap font
whenever it can encode it; otherwise each character goes to the first FreeType font found on
this machine that has a glyph for it (DejaVu, Noto, ... then Pillow's own Aileron), and a
character no font here covers is written as its escape (`\\u732b`, `\\U0001f431`) rather than
as a tofu box. Undecodable bytes are shown in the text form of core/names.py (`\\xff`).
The README's tables carry every real name.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from PIL import ImageFont, features

from ..names import display_name

SIZE = 11  # px: the bitmap font's height, so labels of both kinds fit one chart row
# Broad, freely licensed fonts that systems commonly have, best coverage first. Colour emoji
# fonts are left out: FreeType draws them only at their fixed bitmap size.
FONT_FILES = (
    "DejaVuSans.ttf",
    "NotoSans-Regular.ttf",
    "NotoSansArabic-Regular.ttf",
    "NotoSansHebrew-Regular.ttf",
    "NotoSansDevanagari-Regular.ttf",
    "NotoSansThai-Regular.ttf",
    "NotoSansCJK-Regular.ttc",
    "NotoSansCJKsc-Regular.otf",
    "DroidSansFallbackFull.ttf",
    "DroidSansFallback.ttf",
    "wqy-microhei.ttc",
    "wqy-zenhei.ttc",
    "FreeSans.ttf",
    "LiberationSans-Regular.ttf",
    "arial.ttf",
    "msyh.ttc",
    "Arial Unicode.ttf",
)
_MAX_FONT_FILES_SEEN = 50_000  # stop looking in huge font folders
_NOT_A_CHAR = "\U0010fffd"  # private use: no font draws it, so it shows the "missing" glyph
_RTL = frozenset(("R", "AL"))
# With libraqm, Pillow shapes Arabic and lays right-to-left text out in reading order.
_SHAPES_RTL = features.check("raqm")

Font = ImageFont.ImageFont | ImageFont.FreeTypeFont


@functools.lru_cache(maxsize=1)
def bitmap_font() -> ImageFont.ImageFont:
    return ImageFont.load_default_imagefont()


def _font_dirs() -> list[Path]:
    home = Path.home()
    if sys.platform == "win32":
        return [Path(os.environ.get("WINDIR", "C:/Windows")) / "Fonts"]
    if sys.platform == "darwin":
        return [Path("/Library/Fonts"), Path("/System/Library/Fonts"), home / "Library/Fonts"]
    data_home = os.environ.get("XDG_DATA_HOME") or str(home / ".local/share")
    data_dirs = (os.environ.get("XDG_DATA_DIRS") or "/usr/local/share:/usr/share").split(":")
    return [Path(d) / "fonts" for d in (data_home, *data_dirs) if d] + [home / ".fonts"]


@functools.lru_cache(maxsize=1)
def fallback_fonts() -> tuple[ImageFont.FreeTypeFont, ...]:
    """The FreeType fonts found here (FONT_FILES order), then Pillow's bundled one. Looked up
    once per process, and only when a label needs it."""
    wanted = {name.lower(): rank for rank, name in enumerate(FONT_FILES)}
    found: dict[int, str] = {}
    seen = 0
    for folder in _font_dirs():
        for dirpath, _dirs, files in os.walk(folder):
            seen += len(files)
            for name in files:
                rank = wanted.get(name.lower())
                if rank is not None:
                    found.setdefault(rank, os.path.join(dirpath, name))
            if seen > _MAX_FONT_FILES_SEEN:
                break
    fonts = []
    for _rank, path in sorted(found.items()):
        try:
            fonts.append(ImageFont.truetype(path, SIZE))
        except OSError:
            continue  # unreadable or not a font after all
    with contextlib.suppress(OSError, ImportError, TypeError):
        fonts.append(ImageFont.load_default(SIZE))  # Aileron (Latin), when FreeType is built in
    return tuple(f for f in fonts if isinstance(f, ImageFont.FreeTypeFont))


@functools.lru_cache(maxsize=64)
def _missing_glyph(font: ImageFont.FreeTypeFont) -> tuple[tuple[int, int], bytes]:
    mask = font.getmask(_NOT_A_CHAR)
    return mask.size, bytes(mask)


@functools.lru_cache(maxsize=8192)
def _covers(font: ImageFont.FreeTypeFont, ch: str) -> bool:
    if ch.isspace():
        return True
    if not _SHAPES_RTL and unicodedata.bidirectional(ch) in _RTL:
        return False  # without libraqm Pillow would draw it unjoined and in reverse order
    mask = font.getmask(ch)
    return (mask.size, bytes(mask)) != _missing_glyph(font)


def _escape_char(ch: str) -> str:
    o = ord(ch)
    return f"\\u{o:04x}" if o <= 0xFFFF else f"\\U{o:08x}"


@dataclass(frozen=True)
class Label:
    units: tuple[tuple[Font, str], ...]  # per character of the name: its font and its text
    width: int
    escaped: bool  # some character was shown as its escape (no font here draws it)

    @property
    def runs(self) -> list[tuple[Font, str]]:
        """Consecutive pieces of text in one font, to draw left to right."""
        return _merge(self.units)


def _latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def _merge(units) -> list[tuple[Font, str]]:
    out: list[tuple[Font, str]] = []
    for font, text in units:
        if out and out[-1][0] is font:
            out[-1] = (font, out[-1][1] + text)
        else:
            out.append((font, text))
    return out


def _make(units: list[tuple[Font, str]], escaped: bool) -> Label:
    width = sum(int(font.getlength(text)) for font, text in _merge(units))
    return Label(tuple(units), width, escaped)


@functools.lru_cache(maxsize=4096)
def label(name: str) -> Label:
    """How `name` is drawn: bitmap font if it can, else FreeType runs and escapes."""
    text = display_name(name)  # undecodable bytes as \xNN, a tab as \x09
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)  # e + U+0301 -> é, which Latin-1 has
    bitmap = bitmap_font()
    if _latin1(text):
        return _make([(bitmap, text)], False)
    fonts = fallback_fonts()
    units: list[tuple[Font, str]] = []
    escaped = False
    for ch in text:
        font: Font | None = next((f for f in fonts if _covers(f, ch)), None)
        if font is not None:
            units.append((font, ch))
        elif _latin1(ch):
            units.append((bitmap, ch))
        else:
            escaped = True
            units.append((bitmap, _escape_char(ch)))  # escapes are ASCII
    return _make(units, escaped)


def fit(name: str, width: int) -> Label:
    """`label(name)`, cut with "..." (never inside an escape) to at most `width` pixels."""
    lab = label(name)
    if lab.width <= width:
        return lab
    dots = (bitmap_font(), "...")
    units = list(lab.units)
    # Estimate from single widths, then drop units until the drawn width fits.
    room, used, n = width - int(bitmap_font().getlength("...")), 0, 0
    for font, text in units:
        used += int(font.getlength(text))
        if used > room:
            break
        n += 1
    cut = _make([*units[:n], dots], lab.escaped)
    while cut.width > width and n > 0:
        n -= 1
        cut = _make([*units[:n], dots], lab.escaped)
    return cut
