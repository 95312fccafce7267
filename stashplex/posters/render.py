"""Render a Stash scene cover as a Plex movie poster.

Stash covers are mostly 16:9 screenshots; a Plex Movies library shows 2:3 posters. Everything here
is pure: bytes in, bytes out, no I/O and no module state, so it can run on any worker thread and be
tested without a server. Decoding is kept cheap on purpose: JPEG covers are decoded at a reduced
DCT scale (``draft``) close to the poster size, and other formats are box-reduced (``reducing_gap``)
before the final resample, so a huge cover costs little more than a normal one.
"""

from __future__ import annotations

import io
from typing import Final, NamedTuple

from PIL import Image, ImageFilter, ImageMath

__all__ = [
    "MAX_COVER_PIXELS",
    "MAX_POSTER_SIDE",
    "POSTER_STYLES",
    "CoverError",
    "PosterBox",
    "fit_box",
    "render_poster",
    "sniff_image",
]

POSTER_STYLES: Final = ("letterbox", "blur")

# Refuse covers above this many pixels before decoding anything. It is far below Pillow's own bomb
# limit and above 8K UHD (7680x4320), which is more than any real screenshot or uploaded cover.
MAX_COVER_PIXELS: Final = 50_000_000
MAX_POSTER_SIDE: Final = 4096

# MIME type -> (Pillow format, name for error reasons).
_FORMATS: Final = {
    "image/jpeg": ("JPEG", "JPEG"),
    "image/png": ("PNG", "PNG"),
    "image/webp": ("WEBP", "WebP"),
    "image/gif": ("GIF", "GIF"),
}

# The final resample is a small step after draft/reduce. Against a full-resolution Lanczos
# reference, bicubic matches Lanczos on screenshot-like covers (~44 dB both) and is a little
# softer on fine text (24 vs 26 dB, visible only zoomed in) while taking ~1.2 ms less per poster.
_RESAMPLE: Final = Image.Resampling.BICUBIC
# Box-reduce by integer factors while the image is still at least this many times the target.
_REDUCING_GAP: Final = 2.0

# The blurred backdrop is built at 1/_BACKDROP_SHRINK of the poster and then enlarged: blurring a
# tiny image is nearly free, and on content this blurred a bilinear enlargement looks the same as
# a bicubic one at two thirds of the cost.
_BACKDROP_SHRINK: Final = 8
_BACKDROP_BLUR_RADIUS: Final = 3.0
_BACKDROP_BRIGHTNESS: Final = 0.45
_BACKDROP_LUT: Final = tuple(round(v * _BACKDROP_BRIGHTNESS) for v in range(256)) * 3

_EXIF_ORIENTATION: Final = 0x0112
# EXIF orientation -> the transpose that makes the stored pixels display upright.
_ORIENT: Final = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_SWAPS_AXES: Final = frozenset({5, 6, 7, 8})
_SIXTEEN_BIT_GREY: Final = frozenset({"I", "I;16", "I;16B", "I;16L", "I;16N"})


class CoverError(ValueError):
    """The cover cannot be turned into a poster; ``reason`` is short and fit for a log line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PosterBox(NamedTuple):
    """Where the whole cover lands on the poster canvas, in poster pixels."""

    x: int
    y: int
    width: int
    height: int


def sniff_image(data: bytes) -> str | None:
    """The MIME type of a raster image we can render, from its magic bytes, else None.

    None covers Stash's SVG placeholder, an HTML login page, empty bodies and anything unknown.
    """
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return None


def fit_box(src_width: int, src_height: int, width: int, height: int) -> PosterBox:
    """Scale a ``src_width`` x ``src_height`` image to fit ``width`` x ``height``, centred.

    The side that touches the canvas edge is exact; the other is rounded half up and never below
    one pixel. When the margins are odd the extra pixel goes to the bottom/right.
    """
    if min(src_width, src_height, width, height) < 1:
        raise ValueError("sizes must be positive")
    # Integer arithmetic so the same inputs always give the same pixels (no float ties).
    if src_width * height >= src_height * width:
        w = width
        h = max(1, (2 * src_height * width + src_width) // (2 * src_width))
    else:
        h = height
        w = max(1, (2 * src_width * height + src_height) // (2 * src_height))
    return PosterBox((width - w) // 2, (height - h) // 2, w, h)


def render_poster(
    data: bytes,
    *,
    style: str = "letterbox",
    width: int = 600,
    height: int = 900,
    quality: int = 88,
) -> bytes:
    """Render cover image bytes as a baseline JPEG poster of exactly ``width`` x ``height``.

    ``letterbox`` centres the scaled cover on black; ``blur`` fills the bars with a darkened,
    blurred enlargement of the cover. Raises CoverError for anything that is not a usable image
    and plain ValueError for bad arguments.
    """
    if style not in POSTER_STYLES:
        raise ValueError(f"unknown poster style {style!r}; expected one of {POSTER_STYLES}")
    for name, side in (("width", width), ("height", height)):
        if not isinstance(side, int) or not 1 <= side <= MAX_POSTER_SIDE:
            raise ValueError(f"poster {name} must be an int from 1 to {MAX_POSTER_SIDE}")
    if not isinstance(quality, int) or not 1 <= quality <= 100:
        raise ValueError("JPEG quality must be an int from 1 to 100")

    image, source_box, orientation, box = _decode(data, width, height)
    # Resample in the stored orientation (target sizes swapped) so only the small result needs
    # transposing.
    swap = orientation in _SWAPS_AXES
    target = (box.height, box.width) if swap else (box.width, box.height)
    sharp = image.resize(target, _RESAMPLE, box=source_box, reducing_gap=_REDUCING_GAP)
    sharp = _orient(sharp, orientation)
    bars = _bars(box, width, height)
    backdrop = None
    if style == "blur" and bars:
        backdrop = _small_backdrop(image, source_box, orientation, width, height)
    # The decoded cover can be the largest buffer here (~150 MB for a big PNG); let it go before
    # allocating the canvas.
    del image

    canvas = Image.new("RGB", (width, height))
    if backdrop is not None:
        _paint_bars(canvas, backdrop, bars)
    canvas.paste(sharp, (box.x, box.y))
    del sharp, backdrop

    out = io.BytesIO()
    # No EXIF goes out: the pixels are already upright, and a stale orientation tag would make
    # clients rotate them again.
    canvas.save(out, "JPEG", quality=quality, progressive=False, optimize=False)
    return out.getvalue()


def _decode(
    data: bytes, width: int, height: int
) -> tuple[Image.Image, tuple[float, float, float, float], int, PosterBox]:
    """Decode to RGB at a cheap scale.

    Returns the image, the whole cover's box within it (fractional after a JPEG draft), the EXIF
    orientation and where the upright cover goes on the poster.
    """
    mime = sniff_image(data)
    if mime is None:
        raise CoverError(_why_not_an_image(data))
    fmt, label = _FORMATS[mime]
    try:
        # Pinning the format keeps Pillow from probing other parsers on data that merely claims
        # to be one of ours. No `with`: closing would invalidate the pixels we return, and a
        # BytesIO holds nothing to release.
        opened = Image.open(io.BytesIO(data), formats=[fmt])
        cover_w, cover_h = opened.size
        if cover_w * cover_h > MAX_COVER_PIXELS:
            raise CoverError(f"cover too large ({cover_w}x{cover_h} pixels)")
        source_box = (0.0, 0.0, float(cover_w), float(cover_h))
        if fmt == "JPEG":
            # JPEG EXIF sits in the header; orientation must be known before the draft request.
            orientation = _orientation(opened)
            swap = orientation in _SWAPS_AXES
            fit = fit_box(*((cover_h, cover_w) if swap else (cover_w, cover_h)), width, height)
            # Ask for the fitted size in stored orientation: libjpeg then decodes at the smallest
            # DCT scale (1/2, 1/4 or 1/8) that still covers it.
            drafted = opened.draft(
                None, (fit.height, fit.width) if swap else (fit.width, fit.height)
            )
            if drafted:
                source_box = drafted[1]
            opened.load()
        else:
            # Other formats may keep EXIF after the pixel data, so read it once loaded.
            opened.load()
            orientation = _orientation(opened)
            swap = orientation in _SWAPS_AXES
            fit = fit_box(*((cover_h, cover_w) if swap else (cover_w, cover_h)), width, height)
        image = _to_rgb(opened)
    except (CoverError, MemoryError):
        raise
    except Image.DecompressionBombError as exc:
        raise CoverError("cover too large for the decoder") from exc
    except Exception as exc:
        # Pillow signals bad data with many types (OSError, SyntaxError, struct.error, ...);
        # callers get one type and a reason, the original stays chained for debugging.
        what = "truncated" if "truncated" in str(exc).lower() else "corrupt"
        raise CoverError(f"{what} {label} data") from exc
    return image, source_box, orientation, fit


def _to_rgb(image: Image.Image) -> Image.Image:
    """Flatten any decoded mode to RGB; transparency is composited onto black."""
    if image.mode in _SIXTEEN_BIT_GREY:
        return _sixteen_bit_grey_to_rgb(image)
    # "transparency" covers palette PNG/GIF and tRNS colour keys on L/RGB PNGs.
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size)
        flat.paste(rgba, (0, 0), rgba)
        return flat
    return image if image.mode == "RGB" else image.convert("RGB")


def _sixteen_bit_grey_to_rgb(image: Image.Image) -> Image.Image:
    # A plain convert would clip everything above 255 to white, colour key included.
    wide = image.convert("I")
    grey = wide.point(lambda v: v * (1 / 257)).convert("L")
    key = image.info.get("transparency")
    if not isinstance(key, int):
        return grey.convert("RGB")
    opaque = ImageMath.lambda_eval(lambda ns: (ns["px"] != key) * 255, px=wide)
    flat = Image.new("RGB", grey.size)
    flat.paste(grey, (0, 0), opaque.convert("L"))
    return flat


def _orientation(image: Image.Image) -> int:
    """EXIF orientation (1-8), treating a missing or unreadable tag as upright.

    Only call this once the pixels are loaded or cannot be loaded by it (JPEG): a broken EXIF
    block should not cost the poster, but a swallowed load error would hide truncated data.
    """
    try:
        value = image.getexif().get(_EXIF_ORIENTATION, 1)
    except Exception:
        return 1
    return value if value in _ORIENT else 1


def _orient(image: Image.Image, orientation: int) -> Image.Image:
    method = _ORIENT.get(orientation)
    return image if method is None else image.transpose(method)


def _small_backdrop(
    image: Image.Image,
    source_box: tuple[float, float, float, float],
    orientation: int,
    width: int,
    height: int,
) -> Image.Image:
    """The blurred, darkened backdrop at 1/_BACKDROP_SHRINK of the poster size, upright."""
    swap = orientation in _SWAPS_AXES
    canvas_w, canvas_h = (height, width) if swap else (width, height)
    x0, y0, x1, y1 = source_box
    src_w, src_h = x1 - x0, y1 - y0
    # Centre crop of the cover with the canvas aspect ratio, taken in stored orientation: a
    # centred crop stays centred under any transpose.
    scale = max(canvas_w / src_w, canvas_h / src_h)
    crop_w, crop_h = canvas_w / scale, canvas_h / scale
    left, top = x0 + (src_w - crop_w) / 2, y0 + (src_h - crop_h) / 2
    small_size = (
        max(1, round(canvas_w / _BACKDROP_SHRINK)),
        max(1, round(canvas_h / _BACKDROP_SHRINK)),
    )
    small = image.resize(
        small_size,
        Image.Resampling.BILINEAR,
        box=(left, top, left + crop_w, top + crop_h),
        reducing_gap=_REDUCING_GAP,
    )
    small = small.filter(ImageFilter.GaussianBlur(_BACKDROP_BLUR_RADIUS)).point(_BACKDROP_LUT)
    return _orient(small, orientation)


def _paint_bars(
    canvas: Image.Image, backdrop: Image.Image, bars: list[tuple[int, int, int, int]]
) -> None:
    """Fill ``bars`` with the small backdrop enlarged to the whole canvas.

    Only the bars are enlarged (the sharp cover hides the rest); resampling a box of the small
    image gives exactly the pixels a full-canvas enlargement would have there.
    """
    fx, fy = backdrop.width / canvas.width, backdrop.height / canvas.height
    for x0, y0, x1, y1 in bars:
        piece = backdrop.resize(
            (x1 - x0, y1 - y0),
            Image.Resampling.BILINEAR,
            box=(x0 * fx, y0 * fy, x1 * fx, y1 * fy),
        )
        canvas.paste(piece, (x0, y0))


def _bars(box: PosterBox, width: int, height: int) -> list[tuple[int, int, int, int]]:
    """The non-empty canvas rectangles (x0, y0, x1, y1) that ``box`` leaves uncovered."""
    x, y, w, h = box
    candidates = [
        (0, 0, width, y),  # top
        (0, y + h, width, height),  # bottom
        (0, y, x, y + h),  # left
        (x + w, y, width, y + h),  # right
    ]
    return [r for r in candidates if r[2] > r[0] and r[3] > r[1]]


def _why_not_an_image(data: bytes) -> str:
    """A short reason for bytes that are not a supported raster image."""
    if not data or data.isspace():
        return "empty cover data"
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in head):
        return "cover is an SVG (Stash placeholder?), not a raster image"
    if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head[:256]:
        return "cover is an HTML page (login page?), not an image"
    return "not a JPEG, PNG, WebP or GIF image"
