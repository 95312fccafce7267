"""Title cards: readable, the right size, accents kept, and never a box for a missing glyph."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from stashplex.posters.titlecard import (
    _MISSING,
    POSTER_SIZE,
    WIDE_SIZE,
    Card,
    FontChain,
    _signature,
    card_version,
    render_card,
    system_fonts,
)
from stashplex.web.images import card_of

MIXED = "Crème brûlée à Łódź — Straße Жизнь 日本語 مرحبا"


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    return image.convert("RGB")


@pytest.mark.parametrize("size", [POSTER_SIZE, WIDE_SIZE])
def test_cards_have_their_size_and_show_text(size: tuple[int, int]) -> None:
    image = decode(render_card(Card("A Day at the Beach", "Studio One", "2024-05-17"), size))
    assert image.size == size
    # Text on a plain background: the bright pixels of the letters cover a fair share of it.
    bright = sum(image.convert("L").histogram()[181:])
    assert bright > size[0] * size[1] // 100


def test_the_text_is_readable_at_thumbnail_size() -> None:
    """At 150 px wide (Plex's smallest poster tiles) the title's letters are still at least
    10 pixels tall."""
    thumb = decode(render_card(Card("Sunset", None, None))).resize((150, 225))
    rows = [y for y in range(225) if any(min(thumb.getpixel((x, y))) > 160 for x in range(150))]
    assert rows and rows[-1] - rows[0] >= 10


def test_different_text_different_card_and_version() -> None:
    a, b = Card("One", "Studio", "2024-01-01"), Card("Two", "Studio", "2024-01-01")
    assert render_card(a) != render_card(b)
    assert card_version(a, POSTER_SIZE) != card_version(b, POSTER_SIZE)
    assert card_version(a, POSTER_SIZE) != card_version(a, WIDE_SIZE)
    assert card_version(a, POSTER_SIZE) == card_version(
        Card("One", "Studio", "2024-01-01"), POSTER_SIZE
    )


def test_no_run_ever_draws_a_missing_glyph() -> None:
    """Whatever fonts this machine has, every character kept is one its font really has."""
    fonts = FontChain(40)
    runs = fonts.runs(MIXED)
    assert runs
    for font, text in runs:
        notdef = _signature(font, _MISSING)
        for char in text:
            assert char.isspace() or _signature(font, char) != notdef, (char, font)


def test_without_any_system_font_accents_fall_back_to_their_letters() -> None:
    """Pillow's built-in font has ASCII only: é becomes e, a script it lacks is left out."""
    fonts = FontChain(40, paths=[])
    text = "".join(part for _font, part in fonts.runs("Crème brûlée 日本"))
    assert text.strip() == "Creme brulee"
    decode(render_card(Card("日本語", "Ж", None)))  # nothing left to draw: still a card


@pytest.mark.skipif(
    not any(p.name.startswith("DejaVuSans") for p in system_fonts()), reason="needs DejaVu Sans"
)
def test_accents_and_other_scripts_with_a_system_font() -> None:
    fonts = FontChain(40)
    text = "".join(part for _font, part in fonts.runs("Crème Łódź Жизнь"))
    assert text == "Crème Łódź Жизнь"


def test_card_text_comes_from_the_stored_document() -> None:
    dated = json.dumps(
        {"title": "T", "studio": "S", "originallyAvailableAt": "2024-02-03", "year": 2024}
    )
    assert card_of(dated) == Card("T", "S", "2024-02-03")
    # Undated scenes carry the day they were added, which is no release date.
    undated = json.dumps({"title": "T", "originallyAvailableAt": "2025-01-01"})
    assert card_of(undated) == Card("T", None, None)
    assert card_of("not json") == Card("Untitled", None, None)
