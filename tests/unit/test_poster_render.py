"""Poster rendering: geometry, colour handling and bad input, checked on decoded output pixels."""

from __future__ import annotations

import io
import random
import struct
import zlib

import pytest
from PIL import Image, ImageChops, ImageStat

from stashplex.posters.render import (
    MAX_COVER_PIXELS,
    POSTER_STYLES,
    CoverError,
    PosterBox,
    _decode,
    fit_box,
    render_poster,
    sniff_image,
)

RED = (220, 30, 30)
GREEN = (30, 200, 30)
BLUE = (30, 30, 220)
YELLOW = (230, 220, 30)
QUADRANTS = (RED, GREEN, BLUE, YELLOW)  # top-left, top-right, bottom-left, bottom-right

# JPEG keeps flat areas within a few levels; bars must be black to this tolerance.
BLACK_TOL = 8
COLOUR_TOL = 24


# --- builders -----------------------------------------------------------------------------------


def quad_cover(width: int, height: int, colours=QUADRANTS, mode: str = "RGB") -> Image.Image:
    """A cover split into four flat quadrants, so any output pixel's source is easy to predict."""
    im = Image.new("RGB", (width, height))
    mx, my = width // 2, height // 2
    for colour, box in zip(
        colours,
        [(0, 0, mx, my), (mx, 0, width, my), (0, my, mx, height), (mx, my, width, height)],
        strict=True,
    ):
        im.paste(colour, box)
    return im if mode == "RGB" else im.convert(mode)


def noise(width: int, height: int, seed: int = 1) -> Image.Image:
    """Seeded RGB noise (Pillow's effect_noise is not seeded, and tests must repeat exactly)."""
    return Image.frombytes(
        "RGB", (width, height), random.Random(seed).randbytes(width * height * 3)
    )


def noisy_cover(width: int = 1280, height: int = 720) -> Image.Image:
    """Quadrants plus noise, so a blurred backdrop cannot come out as one flat colour."""
    return Image.blend(quad_cover(width, height), noise(width, height), 0.3)


def gradient_cover(width: int = 1280, height: int = 720) -> Image.Image:
    """Red rises left to right and green top to bottom, so any misplaced region shows."""
    ramp = Image.linear_gradient("L")  # 256x256, black at the top
    red = ramp.transpose(Image.Transpose.ROTATE_90).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    im = Image.merge(
        "RGB",
        [
            red.resize((width, height)),
            ramp.resize((width, height)),
            Image.new("L", (width, height), 128),
        ],
    )
    return Image.blend(im, noise(width, height, seed=2), 0.2)


# What each EXIF orientation does to display the stored pixels, undone to build the stored image.
_STORED_FROM_UPRIGHT = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,  # displayed by turning 90° clockwise
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def encode(im: Image.Image, fmt: str = "JPEG", **params) -> bytes:
    buf = io.BytesIO()
    if fmt == "JPEG":
        params.setdefault("quality", 92)
    im.save(buf, fmt, **params)
    return buf.getvalue()


def decode_poster(data: bytes, size: tuple[int, int] = (600, 900)) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    assert im.format == "JPEG"
    assert im.mode == "RGB"
    assert im.size == size
    return im


def jpeg_markers(data: bytes) -> list[int]:
    """Marker codes of a JPEG's header segments, up to the first scan."""
    assert data[:2] == b"\xff\xd8"
    markers, i = [], 2
    while i < len(data):
        assert data[i] == 0xFF, f"bad segment at byte {i}"
        marker = data[i + 1]
        markers.append(marker)
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            break
        i += 2 + int.from_bytes(data[i + 2 : i + 4], "big")
    return markers


def assert_colour(pixel: tuple[int, ...], expected: tuple[int, ...], tol: int = COLOUR_TOL) -> None:
    assert all(abs(a - b) <= tol for a, b in zip(pixel, expected, strict=True)), (pixel, expected)


def assert_black(im: Image.Image, box: tuple[int, int, int, int]) -> None:
    region = im.crop(box)
    assert max(hi for _lo, hi in region.getextrema()) <= BLACK_TOL, box


def quadrant_points(box: PosterBox) -> list[tuple[int, int]]:
    """Poster pixels at the centres of the cover's four quadrants."""
    return [
        (box.x + box.width * fx // 4, box.y + box.height * fy // 4)
        for fy in (1, 3)
        for fx in (1, 3)
    ]


def assert_quadrants(im: Image.Image, box: PosterBox, colours=QUADRANTS) -> None:
    for point, colour in zip(quadrant_points(box), colours, strict=True):
        assert_colour(im.getpixel(point), colour)


def bars_of(
    box: PosterBox, width: int = 600, height: int = 900, margin: int = 16
) -> list[tuple[int, int, int, int]]:
    """Bar rectangles, shrunk by ``margin`` next to the cover.

    With 4:2:0 chroma a coloured edge rings through its whole 16x16 JPEG block, so the bars are
    only black to BLACK_TOL one block away from the cover (the grey-cover test checks the edge).
    """
    x, y, w, h = box
    bars = []
    if y > margin:
        bars += [(0, 0, width, y - margin), (0, y + h + margin, width, height)]
    if x > margin:
        bars += [(0, 0, x - margin, height), (x + w + margin, 0, width, height)]
    return bars


def assert_bars_black(im: Image.Image, box: PosterBox) -> None:
    bars = bars_of(box, *im.size)
    assert bars
    for bar in bars:
        assert_black(im, bar)


def luminance(im: Image.Image, box: tuple[int, int, int, int]) -> float:
    return ImageStat.Stat(im.crop(box).convert("L")).mean[0]


@pytest.fixture(scope="module")
def cover_720p() -> bytes:
    return encode(quad_cover(1280, 720))


# --- layout -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("src", "canvas", "expected"),
    [
        ((1280, 720), (600, 900), (0, 281, 600, 338)),  # 337.5 rounds up
        ((1920, 1080), (600, 900), (0, 281, 600, 338)),
        ((720, 1280), (600, 900), (47, 0, 506, 900)),  # 506.25 -> 506, odd margin -> right
        ((1000, 1000), (600, 900), (0, 150, 600, 600)),
        ((8, 5), (600, 900), (0, 262, 600, 375)),  # upscaled to fit
        ((600, 900), (600, 900), (0, 0, 600, 900)),
        ((2, 3), (600, 900), (0, 0, 600, 900)),
        ((4000, 10), (600, 900), (0, 449, 600, 2)),  # 1.5 rounds up
        ((10000, 1), (600, 900), (0, 449, 600, 1)),  # never collapses to zero
        ((1280, 720), (300, 450), (0, 140, 300, 169)),
        ((1920, 1080), (1000, 1500), (0, 468, 1000, 563)),  # 562.5 rounds up
        ((1280, 720), (1200, 675), (0, 0, 1200, 675)),
    ],
)
def test_fit_box_geometry(src, canvas, expected) -> None:
    assert fit_box(*src, *canvas) == PosterBox(*expected)


@pytest.mark.parametrize("sizes", [(0, 720, 600, 900), (1280, 720, 0, 900), (-1, 5, 600, 900)])
def test_fit_box_rejects_empty_sizes(sizes) -> None:
    with pytest.raises(ValueError):
        fit_box(*sizes)


# --- letterbox ----------------------------------------------------------------------------------


def test_letterbox_is_a_baseline_jpeg_without_exif(cover_720p: bytes) -> None:
    data = render_poster(cover_720p)
    decode_poster(data)
    markers = jpeg_markers(data)
    sofs = [m for m in markers if 0xC0 <= m <= 0xCF and m not in (0xC4, 0xC8, 0xCC)]
    assert sofs == [0xC0]  # baseline DCT, not progressive (0xC2)
    assert 0xE1 not in markers  # no EXIF/XMP that could re-rotate the upright pixels


def test_letterbox_places_landscape_cover_between_black_bars(cover_720p: bytes) -> None:
    im = decode_poster(render_poster(cover_720p))
    box = PosterBox(0, 281, 600, 338)
    assert_bars_black(im, box)
    assert_quadrants(im, box)


@pytest.mark.parametrize("style", POSTER_STYLES)
@pytest.mark.parametrize(
    ("src", "box"),
    [
        ((1280, 720), (0, 281, 600, 338)),
        ((720, 1280), (47, 0, 506, 900)),
        ((1000, 1000), (0, 150, 600, 600)),
        ((8, 5), (0, 262, 600, 375)),
        ((600, 900), (0, 0, 600, 900)),
    ],
)
def test_cover_edges_land_on_exact_rows_and_columns(style: str, src, box) -> None:
    # A flat grey cover leaves no chroma to bleed, so the edge is exact to the pixel.
    im = decode_poster(render_poster(encode(Image.new("RGB", src, (200, 200, 200))), style=style))
    grey = im.convert("L")
    x, y, w, h = box
    inside = [(x, y), (x + w - 1, y + h - 1), (x + w // 2, y), (x, y + h // 2)]
    for point in inside:
        assert abs(grey.getpixel(point) - 200) <= 4, point
    outside = []
    if y:
        outside += [(x + w // 2, y - 1), (x + w // 2, y + h)]
    if x:
        outside += [(x - 1, y + h // 2), (x + w, y + h // 2)]
    for point in outside:
        assert grey.getpixel(point) < 120, point
    assert outside or src == (600, 900)


def test_letterbox_portrait_cover_gets_side_bars() -> None:
    im = decode_poster(render_poster(encode(quad_cover(720, 1280))))
    box = PosterBox(47, 0, 506, 900)
    assert_bars_black(im, box)
    assert_quadrants(im, box)


def test_letterbox_square_cover() -> None:
    im = decode_poster(render_poster(encode(quad_cover(1000, 1000))))
    box = PosterBox(0, 150, 600, 600)
    assert_bars_black(im, box)
    assert_quadrants(im, box)


def test_tiny_cover_is_upscaled_to_full_width() -> None:
    im = decode_poster(render_poster(encode(quad_cover(8, 5), "PNG")))
    box = PosterBox(0, 262, 600, 375)
    assert_bars_black(im, box)
    # Near the outer corners, away from where the upscale blends the quadrants.
    for (px, py), colour in zip(
        [(20, 275), (580, 275), (20, 624), (580, 624)], QUADRANTS, strict=True
    ):
        assert_colour(im.getpixel((px, py)), colour)
    assert fit_box(8, 5, 600, 900) == box


@pytest.mark.parametrize(
    ("size", "box"),
    [
        ((300, 450), (0, 140, 300, 169)),
        ((1000, 1500), (0, 468, 1000, 563)),
        ((500, 500), (0, 109, 500, 281)),
        ((1200, 675), (0, 0, 1200, 675)),
        ((17, 31), (0, 10, 17, 10)),
    ],
)
def test_other_poster_sizes(size, box, cover_720p: bytes) -> None:
    width, height = size
    im = decode_poster(render_poster(cover_720p, width=width, height=height), size)
    box = PosterBox(*box)
    assert fit_box(1280, 720, width, height) == box
    if box.height >= 100:
        assert_quadrants(im, box)
    if box.y > 16:
        assert_bars_black(im, box)


def test_quality_changes_the_encoding() -> None:
    data = encode(noisy_cover())
    low, high = render_poster(data, quality=30), render_poster(data, quality=95)
    decode_poster(low)
    decode_poster(high)
    assert len(low) < len(high) * 0.6


def test_rendering_is_deterministic(cover_720p: bytes) -> None:
    for style in POSTER_STYLES:
        assert render_poster(cover_720p, style=style) == render_poster(cover_720p, style=style)


# --- blur ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def noisy_720p() -> bytes:
    return encode(noisy_cover())


def test_blur_fills_bars_with_darkened_blurred_cover(noisy_720p: bytes) -> None:
    im = decode_poster(render_poster(noisy_720p, style="blur"))
    box = PosterBox(0, 281, 600, 338)
    cover_luma = luminance(im, (0, box.y, 600, box.y + box.height))
    for bar in bars_of(box):
        stat = ImageStat.Stat(im.crop(bar))
        assert max(stat.mean) > 15  # not black
        assert max(stat.stddev) > 8  # not one flat colour
        assert luminance(im, bar) < 0.7 * cover_luma  # darker than the cover itself


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_blur_backdrop_comes_from_the_matching_part_of_the_cover(orientation: int) -> None:
    upright = noisy_cover()
    method = _STORED_FROM_UPRIGHT[orientation]
    exif = Image.Exif()
    exif[0x0112] = orientation
    stored = upright if method is None else upright.transpose(method)
    im = decode_poster(render_poster(encode(stored, exif=exif), style="blur"))
    # The backdrop is the centre 480x720 strip of the cover scaled to 600x900: poster x=100 is
    # cover x=480 (left half), x=500 is cover x=800 (right half); y=100/800 are top/bottom.
    for point, colour in zip(
        [(100, 100), (500, 100), (100, 800), (500, 800)], QUADRANTS, strict=True
    ):
        pixel = im.getpixel(point)
        dominant = [c > 100 for c in colour]
        for channel, high in enumerate(dominant):
            others = [pixel[i] for i, h in enumerate(dominant) if not h]
            if high and others:
                assert pixel[channel] > max(others) + 15, (point, pixel)
        assert max(pixel) < 0.7 * max(colour), (point, pixel)  # darkened


def test_blur_backdrop_is_the_centre_crop_scaled_to_cover_the_poster() -> None:
    cover = gradient_cover()
    im = decode_poster(render_poster(encode(cover), style="blur"))
    # Cover-scaling 1280x720 onto 600x900 is x1.25 of the centre 480x720 strip (x 400..880), so
    # poster (px, py) shows cover (400 + 0.8 px, 0.8 py); on a gradient the blur keeps the mean.
    for px, py in [(150, 140), (450, 140), (300, 760), (80, 820)]:
        sx, sy = 400 + 0.8 * px, 0.8 * py
        source = ImageStat.Stat(cover.crop((sx - 12, sy - 12, sx + 12, sy + 12))).mean
        shown = ImageStat.Stat(im.crop((px - 4, py - 4, px + 4, py + 4))).mean
        expected = [0.45 * v for v in source]
        assert all(abs(a - b) <= 6 for a, b in zip(shown, expected, strict=True)), (
            (px, py),
            shown,
            expected,
        )


def test_blur_keeps_the_sharp_cover_identical_to_letterbox(noisy_720p: bytes) -> None:
    blur = decode_poster(render_poster(noisy_720p, style="blur"))
    plain = decode_poster(render_poster(noisy_720p, style="letterbox"))
    inner = (0, 284, 600, 616)  # cover rows, minus the edge rows JPEG blends with the bars
    diff = ImageChops.difference(blur.crop(inner), plain.crop(inner))
    assert max(ImageStat.Stat(diff).mean) < 1.5  # only JPEG noise from different neighbours


def test_blur_portrait_cover_fills_side_bars() -> None:
    im = decode_poster(render_poster(encode(noisy_cover(720, 1280)), style="blur"))
    box = PosterBox(47, 0, 506, 900)
    # noisy_cover is 70% quadrant colour over noise averaging 128; average a patch to beat it.
    for (x, y), colour in zip(quadrant_points(box), QUADRANTS, strict=True):
        patch = ImageStat.Stat(im.crop((x - 8, y - 8, x + 8, y + 8))).mean
        assert_colour(tuple(round(v) for v in patch), tuple(0.7 * c + 0.3 * 128 for c in colour))
    for bar in bars_of(box):
        stat = ImageStat.Stat(im.crop(bar))
        assert max(stat.mean) > 15
        assert max(stat.stddev) > 8
        assert luminance(im, bar) < 0.7 * luminance(im, (47, 0, 553, 900))


def test_blur_of_an_exact_2x3_cover_has_no_backdrop() -> None:
    data = encode(quad_cover(600, 900))
    assert render_poster(data, style="blur") == render_poster(data, style="letterbox")


# --- colour modes and formats -------------------------------------------------------------------


def test_cmyk_jpeg() -> None:
    data = encode(quad_cover(1280, 720, mode="CMYK"))
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    im = decode_poster(render_poster(data))
    assert_quadrants(im, PosterBox(0, 281, 600, 338))


def test_greyscale_jpeg() -> None:
    levels = [(40,), (100,), (160,), (220,)]
    data = encode(quad_cover(1280, 720, colours=[lv * 3 for lv in levels], mode="L"))
    assert Image.open(io.BytesIO(data)).mode == "L"
    im = decode_poster(render_poster(data))
    assert_quadrants(im, PosterBox(0, 281, 600, 338), colours=[lv * 3 for lv in levels])


def test_sixteen_bit_greyscale_png_is_not_clipped_to_white() -> None:
    data = encode(Image.new("I;16", (640, 360), 40000), "PNG")
    im = decode_poster(render_poster(data))
    assert_colour(im.getpixel((300, 450)), (156, 156, 156), tol=3)


def test_sixteen_bit_greyscale_png_colour_key_composites_onto_black() -> None:
    im = Image.new("I;16", (1280, 720), 40000)
    im.paste(Image.new("I;16", (640, 720), 20000), (640, 0))
    out = decode_poster(render_poster(encode(im, "PNG", transparency=40000)))
    assert_black(out, (0, 0, 284, 900))  # keyed-out left half and the bars
    assert_colour(out.getpixel((450, 450)), (78, 78, 78), tol=3)  # 20000 / 257


def test_palette_png_transparency_composites_onto_black() -> None:
    pal = Image.new("P", (1280, 720), 0)
    # Index 0 is magenta but transparent: it must come out black, never magenta.
    pal.putpalette([255, 0, 255, *RED, *GREEN])
    pal.paste(1, (640, 0, 1280, 360))
    pal.paste(2, (640, 360, 1280, 720))
    for fmt in ("PNG", "GIF"):
        im = decode_poster(render_poster(encode(pal, fmt, transparency=0)))
        box = PosterBox(0, 281, 600, 338)
        _, tr, _, br = quadrant_points(box)
        assert_bars_black(im, box)
        assert_black(im, (0, 0, 284, 900))  # the transparent left half
        assert_colour(im.getpixel(tr), RED)
        assert_colour(im.getpixel(br), GREEN)


def test_rgba_png_composites_onto_black() -> None:
    im = Image.new("RGBA", (1280, 720), (255, 255, 255, 0))  # transparent white
    im.paste((*BLUE, 255), (640, 0, 1280, 360))
    im.paste((255, 255, 255, 128), (640, 360, 1280, 720))  # half-transparent white
    out = decode_poster(render_poster(encode(im, "PNG")))
    tl, tr, bl, br = quadrant_points(PosterBox(0, 281, 600, 338))
    assert_colour(out.getpixel(tl), (0, 0, 0), tol=BLACK_TOL)
    assert_colour(out.getpixel(bl), (0, 0, 0), tol=BLACK_TOL)
    assert_colour(out.getpixel(tr), BLUE)
    assert_colour(out.getpixel(br), (128, 128, 128), tol=6)


def test_rgb_png_colour_key_composites_onto_black() -> None:
    im = quad_cover(1280, 720, colours=[(255, 0, 255), GREEN, BLUE, YELLOW])
    out = decode_poster(render_poster(encode(im, "PNG", transparency=(255, 0, 255))))
    assert_quadrants(out, PosterBox(0, 281, 600, 338), colours=[(0, 0, 0), GREEN, BLUE, YELLOW])


@pytest.mark.parametrize("params", [{"lossless": True}, {"quality": 90}])
def test_webp(params) -> None:
    data = encode(quad_cover(1280, 720), "WEBP", **params)
    im = decode_poster(render_poster(data))
    assert_quadrants(im, PosterBox(0, 281, 600, 338))


def test_webp_with_alpha() -> None:
    im = quad_cover(1280, 720).convert("RGBA")
    im.paste((255, 255, 255, 0), (0, 0, 640, 360))
    im.paste((255, 255, 255, 128), (640, 360, 1280, 720))
    # exact=True keeps the white under alpha 0, so dropping alpha would show it.
    out = decode_poster(render_poster(encode(im, "WEBP", lossless=True, exact=True)))
    colours = [(0, 0, 0), GREEN, BLUE, (128, 128, 128)]
    assert_quadrants(out, PosterBox(0, 281, 600, 338), colours=colours)


@pytest.mark.parametrize("mode", ["1", "L", "LA", "P", "RGB", "RGBA", "I;16"])
def test_every_png_mode_renders_with_exact_geometry(mode: str) -> None:
    # An opaque white cover in each mode PNG can hold: white at the box, black outside it.
    if mode == "I;16":
        im = Image.new(mode, (1280, 720), 65535)
    else:
        im = Image.new("RGB", (1280, 720), (255, 255, 255)).convert(mode)
    assert im.mode == mode
    out = decode_poster(render_poster(encode(im, "PNG")))
    box = PosterBox(0, 281, 600, 338)
    assert_colour(out.getpixel((300, 281)), (255, 255, 255), tol=4)
    assert_colour(out.getpixel((300, 618)), (255, 255, 255), tol=4)
    assert_colour(out.getpixel((300, 280)), (0, 0, 0), tol=BLACK_TOL)
    assert_colour(out.getpixel((300, 619)), (0, 0, 0), tol=BLACK_TOL)
    assert_bars_black(out, box)


def test_animated_gif_uses_the_first_frame() -> None:
    frames = [quad_cover(640, 360), Image.new("RGB", (640, 360), (255, 0, 255))]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    assert Image.open(io.BytesIO(data)).n_frames == 2
    assert_quadrants(decode_poster(render_poster(data)), PosterBox(0, 281, 600, 338))


def test_gif() -> None:
    data = encode(quad_cover(1280, 720), "GIF")
    im = decode_poster(render_poster(data))
    assert_quadrants(im, PosterBox(0, 281, 600, 338))


@pytest.mark.parametrize("style", POSTER_STYLES)
@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_honoured(orientation: int, style: str) -> None:
    upright = quad_cover(1920, 1080)
    method = _STORED_FROM_UPRIGHT[orientation]
    stored = upright if method is None else upright.transpose(method)
    exif = Image.Exif()
    exif[0x0112] = orientation
    im = decode_poster(render_poster(encode(stored, exif=exif), style=style))
    box = PosterBox(0, 281, 600, 338)
    assert_quadrants(im, box)
    if style == "letterbox":
        assert_bars_black(im, box)


@pytest.fixture(scope="module")
def upright_gradient() -> Image.Image:
    return gradient_cover()


@pytest.mark.parametrize("style", POSTER_STYLES)
@pytest.mark.parametrize("orientation", range(2, 9))
def test_rotated_cover_renders_like_the_upright_one(
    upright_gradient: Image.Image, orientation: int, style: str
) -> None:
    # Stronger than the quadrant checks: on a gradient, a backdrop cropped or stretched in the
    # wrong orientation differs by ~10 levels.
    exif = Image.Exif()
    exif[0x0112] = orientation
    stored = upright_gradient.transpose(_STORED_FROM_UPRIGHT[orientation])
    rotated = decode_poster(render_poster(encode(stored, exif=exif), style=style))
    upright = decode_poster(render_poster(encode(upright_gradient), style=style))
    for region in [(0, 0, 600, 281), (0, 281, 600, 619), (0, 619, 600, 900)]:
        diff = ImageChops.difference(rotated.crop(region), upright.crop(region))
        assert max(ImageStat.Stat(diff).mean) < 3, region  # JPEG noise only


def test_exif_orientation_in_png() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    data = encode(quad_cover(1280, 720).transpose(Image.Transpose.ROTATE_90), "PNG", exif=exif)
    im = decode_poster(render_poster(data))
    assert_quadrants(im, PosterBox(0, 281, 600, 338))


# --- huge covers --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def huge_jpeg() -> bytes:
    return encode(quad_cover(8000, 4500), quality=80)


def test_huge_jpeg_is_decoded_at_reduced_scale(huge_jpeg: bytes) -> None:
    # White-box on purpose: bounded memory is invisible in the output, so check the decode.
    image, source_box, orientation, box = _decode(huge_jpeg, 600, 900)
    # libjpeg's 1/8 DCT scale: 8000x4500 never exists in memory at full size.
    assert image.size == (1000, 563)
    assert source_box == (0, 0, 1000, 562.5)
    assert (orientation, box) == (1, PosterBox(0, 281, 600, 338))


@pytest.mark.parametrize("style", POSTER_STYLES)
def test_huge_jpeg_renders(huge_jpeg: bytes, style: str) -> None:
    im = decode_poster(render_poster(huge_jpeg, style=style))
    assert_quadrants(im, PosterBox(0, 281, 600, 338))
    if style == "letterbox":
        assert_bars_black(im, PosterBox(0, 281, 600, 338))


def test_large_png_renders() -> None:
    im = decode_poster(render_poster(encode(quad_cover(4000, 2250), "PNG")))
    assert_quadrants(im, PosterBox(0, 281, 600, 338))
    assert_bars_black(im, PosterBox(0, 281, 600, 338))


def _jpeg_declaring(width: int, height: int) -> bytes:
    """A small real JPEG whose frame header claims another size (a decompression bomb)."""
    data = bytearray(encode(Image.new("RGB", (16, 16), RED)))
    sof = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_declaring(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("side", [8000, 10_000, 30_000])
@pytest.mark.parametrize("builder", [_jpeg_declaring, _png_declaring])
def test_decompression_bombs_are_refused(builder, side: int) -> None:
    assert side * side > MAX_COVER_PIXELS
    with pytest.raises(CoverError, match="too large"):
        render_poster(builder(side, side))


def test_bomb_limit_admits_8k() -> None:
    # Under the limit the header passes; libjpeg fills the missing scan data and we get a poster
    # quickly because only the 1/8 scale is decoded.
    assert MAX_COVER_PIXELS >= 7680 * 4320
    decode_poster(render_poster(_jpeg_declaring(7680, 4320)))


# --- bad input ----------------------------------------------------------------------------------

SVG = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10"/></svg>'
SVG_PROLOG = b'\xef\xbb\xbf<?xml version="1.0" encoding="UTF-8"?>\n' + SVG
HTML = b"<!DOCTYPE html>\n<html><head><title>Login</title></head><body>Stash</body></html>"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (SVG, "SVG"),
        (SVG_PROLOG, "SVG"),
        (HTML, "HTML"),
        (b"  <html lang=en><body>nope</body></html>", "HTML"),
        (b"", "empty"),
        (b" \n", "empty"),
        (b"hello world", "not a JPEG"),
        (b"\xff\xd8\xff" + bytes(200), "corrupt JPEG"),
        (b"\x89PNG\r\n\x1a\n" + bytes(50), "PNG"),
        (b"RIFF\0\0\0\0WEBPVP8 " + bytes(40), "WebP"),
        (b"GIF89a" + bytes(30), "GIF"),
    ],
)
def test_non_images_raise_cover_error(data: bytes, reason: str) -> None:
    with pytest.raises(CoverError, match=reason) as caught:
        render_poster(data)
    assert isinstance(caught.value, ValueError)
    assert caught.value.reason == str(caught.value)
    assert len(caught.value.reason) < 80


def test_supported_by_pillow_but_not_by_us() -> None:
    with pytest.raises(CoverError, match="not a JPEG"):
        render_poster(encode(quad_cover(64, 36), "BMP"))


@pytest.mark.parametrize(
    ("fmt", "params"),
    [("JPEG", {}), ("PNG", {}), ("WEBP", {"quality": 80}), ("GIF", {})],
)
def test_truncated_images_raise_cover_error(fmt: str, params) -> None:
    data = encode(noisy_cover(320, 180), fmt, **params)
    for fraction in (0.02, 0.1, 0.5, 0.9):
        with pytest.raises(CoverError):
            render_poster(data[: int(len(data) * fraction)])


def test_truncated_jpeg_says_so() -> None:
    data = encode(noisy_cover(320, 180))
    with pytest.raises(CoverError, match="truncated JPEG"):
        render_poster(data[: len(data) // 2])


def test_pillow_errors_that_are_not_oserror_become_cover_errors() -> None:
    # Plain Pillow raises ValueError for the first and SyntaxError (at load) for the second.
    header = struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0)
    pixels = zlib.compress(bytes(4 * 13))
    short_ihdr = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header[:5]) + _png_chunk(b"IEND", b"")
    bad_chunk = (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", pixels[:5])
        + _png_chunk(b"\x01\x02\x03\x04", pixels[5:])
        + _png_chunk(b"IEND", b"")
    )
    for data in (short_ihdr, bad_chunk):
        with pytest.raises(CoverError, match=r"(corrupt|truncated) PNG data"):
            render_poster(data)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF"])
def test_mangled_bytes_give_a_poster_or_cover_error(fmt: str) -> None:
    """No Pillow exception type may escape, whatever the damage."""
    data = encode(noisy_cover(96, 54), fmt)
    rng = random.Random(fmt)
    for _ in range(150):
        mangled = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            mangled[rng.randrange(len(mangled))] = rng.randrange(256)
        if rng.random() < 0.3:
            del mangled[rng.randrange(len(mangled)) :]
        try:
            out = render_poster(bytes(mangled))
        except CoverError:
            continue
        decode_poster(out)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"style": "fancy"},
        {"width": 0},
        {"height": -5},
        {"width": 100_000},
        {"width": 600.0},
        {"quality": 0},
        {"quality": 101},
    ],
)
def test_bad_arguments_are_plain_value_errors(kwargs, cover_720p: bytes) -> None:
    with pytest.raises(ValueError) as caught:
        render_poster(cover_720p, **kwargs)
    assert not isinstance(caught.value, CoverError)


# --- sniff_image --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "mime"),
    [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp"), ("GIF", "image/gif")],
)
def test_sniff_image_real_images(fmt: str, mime: str) -> None:
    assert sniff_image(encode(quad_cover(32, 18), fmt)) == mime


def test_sniff_image_odd_real_images() -> None:
    assert sniff_image(encode(quad_cover(32, 18, mode="CMYK"))) == "image/jpeg"
    assert sniff_image(encode(quad_cover(32, 18, mode="L"), "PNG")) == "image/png"
    assert sniff_image(encode(Image.new("RGBA", (8, 8)), "WEBP", lossless=True)) == "image/webp"
    assert sniff_image(encode(Image.new("RGB", (8, 8)), "GIF")[:6]) == "image/gif"


@pytest.mark.parametrize(
    "data",
    [
        SVG,
        SVG_PROLOG,
        HTML,
        b"",
        b"\xff\xd8",  # too short to be a JPEG
        b"RIFF\0\0\0\0WAVEfmt ",  # RIFF, but audio
        b"GIF88a",
        b"BM" + bytes(60),
        b"hello",
    ],
)
def test_sniff_image_refuses_non_images(data: bytes) -> None:
    assert sniff_image(data) is None


def test_sniff_image_refuses_bmp() -> None:
    assert sniff_image(encode(quad_cover(8, 8), "BMP")) is None
