"""Benchmark poster rendering on one core.

Generates noisy, screenshot-like JPEG covers (1280x720, quality 90 by default) in a child
process, so the parent's peak RSS reflects rendering and not cover generation, then renders
them in each poster style and prints posters/s and peak RSS.

    .venv/bin/python scripts/bench_render.py
    .venv/bin/python scripts/bench_render.py --source 8000x4500 --count 20 --distinct 2

A fresh process pays ~2 ms of page faults per poster: glibc's heap trims itself after every
render and faults the pages back in on the next. Once the process has freed one bigger buffer
(any full-size PNG cover does it) glibc raises its thresholds and the churn stops; --warm-heap
renders one such cover first to show that steady state.
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import platform
import random
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor

from PIL import Image, ImageDraw, ImageFilter, features

from stashplex.posters.render import POSTER_STYLES, render_poster


def make_cover(seed: int, width: int, height: int, quality: int) -> bytes:
    """A cover with gradients, overlapping shapes, soft edges and sensor-like noise.

    Flat colour would compress to almost nothing and decode unrealistically fast.
    """
    rng = random.Random(seed)
    # Content is drawn at no more than 1920 wide; huge covers are an upscale plus fresh noise,
    # which is what an upscaled or camera-sized cover looks like to a decoder anyway.
    scale = min(1.0, 1920 / width)
    w, h = max(16, round(width * scale)), max(16, round(height * scale))
    bands = [
        Image.linear_gradient("L").rotate(rng.choice((0, 90, 180, 270))).resize((w, h))
        for _ in range(3)
    ]
    im = Image.merge("RGB", bands)
    draw = ImageDraw.Draw(im)
    for _ in range(40):
        x, y, r = rng.randrange(w), rng.randrange(h), rng.randrange(w // 60 + 4, w // 5)
        colour = tuple(rng.randrange(256) for _ in range(3))
        if rng.random() < 0.5:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
        else:
            draw.rectangle((x - r, y - r // 2, x + r, y + r // 2), fill=colour)
    im = im.filter(ImageFilter.GaussianBlur(1.5))
    if (w, h) != (width, height):
        im = im.resize((width, height), Image.Resampling.BICUBIC)
    noise = Image.effect_noise((width, height), 30).convert("RGB")
    im = Image.blend(im, noise, 0.18)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def parse_size(text: str) -> tuple[int, int]:
    w, _, h = text.lower().partition("x")
    return int(w), int(h)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300, help="posters per style")
    parser.add_argument("--distinct", type=int, default=30, help="distinct covers to cycle")
    parser.add_argument("--source", type=parse_size, default=(1280, 720), metavar="WxH")
    parser.add_argument("--poster", type=parse_size, default=(600, 900), metavar="WxH")
    parser.add_argument("--cover-quality", type=int, default=90)
    parser.add_argument("--quality", type=int, default=88, help="poster JPEG quality")
    parser.add_argument("--styles", nargs="+", default=list(POSTER_STYLES), choices=POSTER_STYLES)
    parser.add_argument(
        "--warm-heap",
        action="store_true",
        help="render one full-size PNG cover first, as a long-running server will have",
    )
    args = parser.parse_args(argv)

    src_w, src_h = args.source
    distinct = max(1, min(args.distinct, args.count))
    # A spawned child keeps generation's memory out of this process's peak RSS.
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=ctx) as pool:
        covers = list(
            pool.map(
                make_cover,
                range(distinct),
                [src_w] * distinct,
                [src_h] * distinct,
                [args.cover_quality] * distinct,
            )
        )
    mean_kib = sum(map(len, covers)) / len(covers) / 1024

    print(
        f"python {platform.python_version()}, Pillow {Image.__version__}, "
        f"libjpeg-turbo {features.version('libjpeg_turbo')}, {platform.machine()}, single thread"
    )
    print(
        f"covers: {distinct} distinct {src_w}x{src_h} JPEG q{args.cover_quality}, "
        f"mean {mean_kib:.0f} KiB; posters {args.poster[0]}x{args.poster[1]} q{args.quality}"
    )
    if args.warm_heap:
        png = io.BytesIO()
        Image.open(io.BytesIO(covers[0])).save(png, "PNG")
        render_poster(png.getvalue())
        print("heap warmed with one full-size PNG cover")
    print(f"peak RSS before rendering: {peak_rss_mib():.1f} MiB")

    width, height = args.poster
    for style in args.styles:
        # Warm up imports, codecs and allocator pools outside the timed loop.
        render_poster(covers[0], style=style, width=width, height=height, quality=args.quality)
        out_bytes = 0
        before = resource.getrusage(resource.RUSAGE_SELF)
        start = time.perf_counter()
        for i in range(args.count):
            poster = render_poster(
                covers[i % distinct],
                style=style,
                width=width,
                height=height,
                quality=args.quality,
            )
            out_bytes += len(poster)
        elapsed = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_SELF)
        n = args.count
        user_ms = 1000 * (after.ru_utime - before.ru_utime) / n
        sys_ms = 1000 * (after.ru_stime - before.ru_stime) / n
        faults = (after.ru_minflt - before.ru_minflt) / n
        # System time and page faults show allocator churn (glibc returning and re-faulting heap
        # pages between posters), which depends on the process's heap history, not on rendering.
        print(
            f"{style:>9}: {n} posters in {elapsed:.2f} s = {n / elapsed:.1f} posters/s "
            f"({1000 * elapsed / n:.2f} ms each: user {user_ms:.2f} + sys {sys_ms:.2f} ms, "
            f"{faults:.0f} minor faults), mean poster {out_bytes / n / 1024:.0f} KiB, "
            f"peak RSS {peak_rss_mib():.1f} MiB"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
