"""`stashplex demo`: a sample Stash and the provider pointed at it, for a first look.

Everything runs in this one process: the sample Stash on a free loopback port, then the normal
`serve` (mirror, scheduled sync, provider) against it.
"""

from __future__ import annotations

import shlex
import tempfile
from pathlib import Path

from stashplex import settings as settings_module
from stashplex.samplestash import SampleStash


def run(
    scenes: int = 3000,
    port: int = 7979,
    data_dir: str | None = None,
    host: str = "0.0.0.0",
) -> int:
    from stashplex import daemon

    stash = SampleStash(scenes, host="127.0.0.1", clock="real").start()
    temporary = None
    if data_dir is None:
        temporary = tempfile.TemporaryDirectory(prefix="stashplex-demo-")
        data_dir = temporary.name
    data = Path(data_dir).resolve()
    data.mkdir(parents=True, exist_ok=True)
    try:
        settings = settings_module.load(
            None,
            {
                "STASH_HOST": stash.url,
                "STASHPLEX_PLEXAGENTSERVER_HOST": host,
                "STASHPLEX_PLEXAGENTSERVER_PORT": str(port),
                "STASHPLEX_MIRROR_DATABASE": str(data / "stashplex.db"),
                "STASHPLEX_MIRROR_POSTER_DIR": str(data / "posters"),
                "POSTER_MODE": "true",
            },
            search=False,
        )
        print(banner(stash, settings, data), flush=True)
        return daemon.serve(settings)
    finally:
        stash.stop()
        if temporary is not None:
            temporary.cleanup()


def banner(stash: SampleStash, settings: settings_module.Settings, data: Path) -> str:
    from stashplex.daemon import register_urls

    base = f"http://127.0.0.1:{settings.server.port}"
    # A scene with a studio (so it is an episode in the TV library too) whose file name needs
    # no shell quoting tricks beyond plain single quotes.
    sample_id = next(
        i
        for i in range(100, 200)
        if stash.library.exists(i) and stash.library.scene(i)["studio_id"]
    )
    studio_id = stash.library.scene(sample_id)["studio_id"]
    path = stash.library.scene_paths(sample_id)[0]
    body = shlex.quote(f'{{"type": 1, "filename": "{path}"}}')
    lines = [
        "",
        f"stashplex demo: a sample Stash with {stash.library.live_count()} scenes at {stash.url}",
        f"mirror and posters in {data}",
        "",
        "Register this provider in Plex (Settings > Metadata Agents > Add Provider):",
        f"    {register_urls(settings)[0]}",
        "",
        "Try it:",
        f"    curl {base}/",
        f"    curl -X POST {base}/library/metadata/matches \\",
        f"         -H 'Content-Type: application/json' -d {body}",
        f"    curl {base}/library/metadata/scene-{sample_id}",
        f"    curl -o poster.jpg {base}/stash/scene/{sample_id}/poster",
        f"    open {base}/status in a browser",
        "",
        "For a TV Shows library (studios as shows, years as seasons), register the second",
        "provider:",
        f"    http://<this machine's address>:{settings.server.port}/tv",
        f"    curl {base}/tv/library/metadata/studio-{studio_id}",
        f"    curl {base}/tv/library/metadata/studio-{studio_id}/grandchildren",
        "",
        "Stop with Ctrl+C.",
        "",
    ]
    return "\n".join(lines)
