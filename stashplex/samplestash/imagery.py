"""Generated images for the image routes: real JPEGs, distinct per entity and version.

Each image is a smooth four-colour gradient derived from (kind, id, version) with the id
written on it: cheap to draw (a tiny canvas scaled up), different for every entity, and
different again after a cover change. Entities without an image get Stash-like SVG
defaults, served with 200 like Stash does.
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections import OrderedDict

from PIL import Image, ImageDraw

from .generate import mix

SIZES = {
    "scene": (1280, 720),  # 16:9 cover
    "performer": (600, 900),  # portrait
    "studio": (800, 400),
    "tag": (400, 400),
    "group": (600, 900),  # front/back covers
    "movie": (600, 900),
}
_KIND_SALT = {"scene": 1, "performer": 2, "studio": 3, "tag": 4, "group": 5, "movie": 5}

SCENE_PLACEHOLDER_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="1280" height="720" viewBox="0 0 1280 720">'
    b'<rect width="1280" height="720" fill="#30404d"/>'
    b'<path d="M560 260h160l-40 100 40 100H560z" fill="#5c7080"/></svg>'
)
DEFAULT_SVG = {
    "performer": (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="600" height="900" viewBox="0 0 600 900">'
        b'<rect width="600" height="900" fill="#394b59"/><circle cx="300" cy="330" r="130" '
        b'fill="#8a9ba8"/><path d="M80 900c0-160 100-300 220-300s220 140 220 300z" '
        b'fill="#8a9ba8"/></svg>'
    ),
    "studio": (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="800" height="400" viewBox="0 0 800 400">'
        b'<rect width="800" height="400" fill="#394b59"/><rect x="300" y="120" width="200" '
        b'height="160" rx="20" fill="#8a9ba8"/></svg>'
    ),
    "tag": (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="400" height="400" viewBox="0 0 400 400">'
        b'<rect width="400" height="400" fill="#394b59"/>'
        b'<path d="M120 120h100l80 80-100 100-80-80z" fill="#8a9ba8"/></svg>'
    ),
    "group": (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="600" height="900" viewBox="0 0 600 900">'
        b'<rect width="600" height="900" fill="#394b59"/><rect x="150" y="250" width="300" '
        b'height="400" fill="#8a9ba8"/></svg>'
    ),
}
DEFAULT_SVG["movie"] = DEFAULT_SVG["group"]


def _colour(seed: int) -> tuple[int, int, int]:
    # Keep colours mid-bright so the text stays readable on every corner.
    return (40 + seed % 176, 40 + (seed >> 8) % 176, 40 + (seed >> 16) % 176)


def render_jpeg(kind: str, ident: int, version: int, variant: str = "") -> bytes:
    """A distinct JPEG for (kind, id, version, variant) at the kind's size."""
    width, height = SIZES[kind]
    seed = mix(_KIND_SALT[kind] * 1_000_003 + ident * 7919 + version * 104_729 + len(variant))
    small_w, small_h = max(4, width // 8), max(4, height // 8)
    corners = Image.new("RGB", (2, 2))
    corners.putdata([_colour(mix(seed + k)) for k in range(4)])
    canvas = corners.resize((small_w, small_h), Image.Resampling.BILINEAR)
    draw = ImageDraw.Draw(canvas)
    label = (
        f"{kind} {ident}" + (f" v{version}" if version else "") + (f" {variant}" if variant else "")
    )
    draw.text((4, 4), label, fill=(255, 255, 255))
    image = canvas.resize((width, height), Image.Resampling.BILINEAR)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=82)
    return out.getvalue()


def etag(data: bytes) -> str:
    return '"' + hashlib.md5(data, usedforsecurity=False).hexdigest() + '"'


class ImageCache:
    """Small LRU of rendered images; rendering a 1280x720 JPEG takes a few milliseconds."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, int, int, str], tuple[bytes, str]] = OrderedDict()
        self._lock = threading.Lock()

    def jpeg(self, kind: str, ident: int, version: int, variant: str = "") -> tuple[bytes, str]:
        """(bytes, ETag)."""
        key = (kind, ident, version, variant)
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit
        data = render_jpeg(kind, ident, version, variant)
        value = (data, etag(data))
        with self._lock:
            self._items[key] = value
            if len(self._items) > self.size:
                self._items.popitem(last=False)
        return value
