"""Title cards: a plain picture with a scene's title, studio and date, for scenes without a cover.

Plex shows a grey tile (or a broken image) for an item whose image URL fails; a title card
instead names the scene, readable at thumbnail size: large type, at most four lines of title,
light on a dark background whose hue comes from the studio (a studio's cards look alike).

Fonts: no font file ships with stashplex. Characters are drawn with the first font that has a
glyph for them, from a chain of fonts found on the system (DejaVu, Noto, Liberation… in the
usual folders) and Pillow's built-in font last. Whether a font has a glyph is told without any
font library: FreeType draws a missing glyph as the font's "notdef" box, so a character whose
mask equals that of a code point no font defines is missing. A character no font covers is
left out, with accents first reduced to their base letter, so the card never shows boxes.
"""

from __future__ import annotations

import colorsys
import functools
import hashlib
import io
import logging
import os
import sys
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

log = logging.getLogger(__name__)

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
POSTER_SIZE = (600, 900)
WIDE_SIZE = (1280, 720)
MAX_TITLE_LINES = 4
_MISSING = "\U0010fffd"  # a private-use code point: every font answers it with its notdef box
# Tried first, in this order; then any other font found, by name.
PREFERRED = (
    "DejaVuSans-Bold.ttf",
    "DejaVuSans.ttf",
    "NotoSans-Bold.ttf",
    "NotoSans-Regular.ttf",
    "LiberationSans-Bold.ttf",
    "Arial Bold.ttf",
    "arialbd.ttf",
    "NotoSansCJK-Bold.ttc",
    "NotoSansCJK-Regular.ttc",
    "NotoSansArabic-Bold.ttf",
    "NotoSansHebrew-Bold.ttf",
    "NotoSansDevanagari-Bold.ttf",
    "NotoSansThai-Bold.ttf",
)
MAX_FONTS = 40  # fonts looked into for a character before it is given up
_FONT_SUFFIXES = (".ttf", ".otf", ".ttc")


def font_folders() -> list[Path]:
    home = Path.home()
    folders = [
        Path("/usr/share/fonts"),
        Path("/usr/local/share/fonts"),
        home / ".local/share/fonts",
        home / ".fonts",
    ]
    if sys.platform == "darwin":
        folders += [Path("/System/Library/Fonts"), Path("/Library/Fonts"), home / "Library/Fonts"]
    if os.name == "nt":
        folders.append(Path(os.environ.get("WINDIR", r"C:\Windows")) / "Fonts")
    return folders


@functools.lru_cache(maxsize=1)
def system_fonts() -> tuple[Path, ...]:
    """Font files found on this machine, the preferred ones first."""
    found: dict[str, Path] = {}
    for folder in font_folders():
        for root, _dirs, names in os.walk(folder):
            for name in names:
                if name.lower().endswith(_FONT_SUFFIXES):
                    found.setdefault(name, Path(root) / name)
    ranked = [found.pop(name) for name in PREFERRED if name in found]
    # Bold faces before the rest, then by name: a stable order from machine to machine.
    rest = sorted(found.items(), key=lambda item: ("bold" not in item[0].lower(), item[0]))
    return tuple(ranked + [path for _name, path in rest])


def _signature(font: Font, char: str) -> tuple[tuple[int, int], bytes]:
    mask = font.getmask(char)
    return mask.size, bytes(mask)


class FontChain:
    """Fonts of one size, each loaded when a character first needs it."""

    def __init__(self, size: int, paths: Sequence[Path] | None = None) -> None:
        self.size = size
        self.paths = list(system_fonts() if paths is None else paths)[:MAX_FONTS]
        self._fonts: list[tuple[Font, tuple[tuple[int, int], bytes]]] = []
        self._next = 0
        self._cover: dict[str, int | None] = {}
        self._lock = threading.Lock()

    def _load(self, index: int) -> tuple[Font, tuple[tuple[int, int], bytes]] | None:
        while len(self._fonts) <= index:
            if self._next < len(self.paths):
                path = self.paths[self._next]
                self._next += 1
                try:
                    font: Font = ImageFont.truetype(str(path), self.size)
                except OSError:
                    continue
            elif self._next == len(self.paths):
                self._next += 1
                font = ImageFont.load_default(self.size)  # Pillow's own (ASCII) font
            else:
                return None
            self._fonts.append((font, _signature(font, _MISSING)))
        return self._fonts[index]

    def font_for(self, char: str) -> Font | None:
        """The first font with a glyph for `char`; None when none has one."""
        with self._lock:
            if char in self._cover:
                index = self._cover[char]
                return self._fonts[index][0] if index is not None else None
            index = 0
            while (loaded := self._load(index)) is not None:
                font, notdef = loaded
                if char.isspace() or _signature(font, char) != notdef:
                    self._cover[char] = index
                    return font
                index += 1
            self._cover[char] = None
            return None

    def runs(self, text: str) -> list[tuple[Font, str]]:
        """`text` cut into runs of one font each; characters no font has are left out (an
        accented letter falls back to its base letter first)."""
        out: list[tuple[Font, str]] = []
        for char in text:
            font = self.font_for(char)
            if font is None:
                base = unicodedata.normalize("NFKD", char)[:1]
                font = self.font_for(base) if base and base != char else None
                if font is None:
                    continue
                char = base
            if out and out[-1][0] is font:
                out[-1] = (font, out[-1][1] + char)
            else:
                out.append((font, char))
        return out

    def width(self, text: str) -> float:
        return sum(font.getlength(part) for font, part in self.runs(text))


@functools.lru_cache(maxsize=8)
def chain(size: int) -> FontChain:
    return FontChain(size)


@dataclass(frozen=True)
class Card:
    title: str
    studio: str | None = None
    date: str | None = None


def _clean(text: str | None) -> str:
    text = "".join(ch for ch in (text or "") if unicodedata.category(ch)[0] != "C")
    return " ".join(text.split())


def _wrap(text: str, fonts: FontChain, width: int, lines: int) -> list[str]:
    """Greedy word wrap; a word wider than a line is cut; the last line ends in "…" if cut."""
    out: list[str] = []
    words = text.split(" ")
    while words and len(out) < lines:
        line = words.pop(0)
        while fonts.width(line) > width and len(line) > 1:  # one very long word
            cut = len(line) - 1
            while cut > 1 and fonts.width(line[:cut]) > width:
                cut -= 1
            words.insert(0, line[cut:])
            line = line[:cut]
        while words and fonts.width(f"{line} {words[0]}") <= width:
            line = f"{line} {words.pop(0)}"
        out.append(line)
    if words and out:
        last = out[-1]
        while last and fonts.width(last + "…") > width:
            last = last[:-1].rstrip()
        out[-1] = last + "…"
    return out


def _background(seed: str) -> tuple[int, int, int]:
    hue = int.from_bytes(hashlib.blake2b(seed.encode(), digest_size=2).digest(), "big") / 65535
    red, green, blue = colorsys.hls_to_rgb(hue, 0.22, 0.35)
    return round(red * 255), round(green * 255), round(blue * 255)


def _draw_runs(
    draw: ImageDraw.ImageDraw,
    fonts: FontChain,
    xy: tuple[float, float],
    text: str,
    fill: tuple[int, ...],
) -> None:
    x, y = xy
    for font, part in fonts.runs(text):
        draw.text((x, y), part, font=font, fill=fill)
        x += font.getlength(part)


def render_card(card: Card, size: tuple[int, int] = POSTER_SIZE, quality: int = 88) -> bytes:
    """A JPEG title card of `size`; text scaled to the card's width."""
    width, height = size
    margin = width // 12
    inner = width - 2 * margin
    title = _clean(card.title) or "Untitled"
    studio, date = _clean(card.studio), _clean(card.date)
    image = Image.new("RGB", size, _background(studio or title))
    draw = ImageDraw.Draw(image)
    # Big type: at a 150 px wide thumbnail a 600 px poster's 64 px title is still ~16 px.
    title_size = max(12, width // 9 if height > width else width // 16)
    small_size = max(10, title_size * 11 // 20)
    title_fonts, small_fonts = chain(title_size), chain(small_size)
    lines = _wrap(title, title_fonts, inner, MAX_TITLE_LINES)
    if not lines or not any(title_fonts.runs(line) for line in lines):
        lines = _wrap("Untitled", title_fonts, inner, 1)
    extra = [text for text in (studio, date) if text]
    extra = [line for text in extra for line in _wrap(text, small_fonts, inner, 1)]
    line_height, small_height = int(title_size * 1.2), int(small_size * 1.35)
    block = len(lines) * line_height + (
        small_height // 2 + len(extra) * small_height if extra else 0
    )
    y = max(margin, (height - block) // 2)
    for line in lines:
        x = (width - title_fonts.width(line)) / 2
        _draw_runs(draw, title_fonts, (x, y), line, (250, 250, 250))
        y += line_height
    if extra:
        y += small_height // 2
        rule = max(2, width // 150)
        draw.rectangle(
            (
                width // 2 - inner // 6,
                y - small_height // 3,
                width // 2 + inner // 6,
                y - small_height // 3 + rule,
            ),
            fill=(200, 200, 200),
        )
        for line in extra:
            x = (width - small_fonts.width(line)) / 2
            _draw_runs(draw, small_fonts, (x, y), line, (215, 215, 215))
            y += small_height
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()


def card_version(card: Card, size: tuple[int, int]) -> str:
    """Changes whenever the card would look different (for the cache's file name)."""
    text = "\x1f".join((card.title, card.studio or "", card.date or "", f"{size[0]}x{size[1]}"))
    return hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=8).hexdigest()
