"""`stashplex health`: ask the running service's `/health` on the address and port the settings
name, for container health checks and monitors. Exit 0 when the service answers, 1 when not.

A "degraded" answer (Stash unreachable, last sync failed) still exits 0: the service is up and
serving its mirror, and restarting it would not bring Stash back.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request

from stashplex.settings import Settings

EXIT_OK = 0
EXIT_FAILED = 1
TIMEOUT_SECONDS = 8.0  # under the image's HEALTHCHECK --timeout


def health_url(settings: Settings) -> str:
    """`/health` on loopback for a wildcard bind, else on the address we listen on."""
    host = settings.server.host
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.server.port}/health"


def run(settings: Settings, timeout: float = TIMEOUT_SECONDS) -> int:
    url = health_url(settings)
    # No proxy: an http_proxy set for the container must not carry a loopback request away.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as response:
            body = json.load(response)
    except urllib.error.HTTPError as exc:
        if exc.code == 403:  # up, but the checking address is not in allowed_networks
            print(f"{url}: answering (403: loopback is not in allowed_networks)")
            return EXIT_OK
        print(f"stashplex health: {url} answered HTTP {exc.code}", file=sys.stderr)
        return EXIT_FAILED
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        print(f"stashplex health: no answer from {url}: {reason}", file=sys.stderr)
        return EXIT_FAILED
    if not isinstance(body, dict) or body.get("service") != "stashplex":
        print(f"stashplex health: {url} is not stashplex", file=sys.stderr)
        return EXIT_FAILED
    scenes = (body.get("mirror") or {}).get("scenes")
    reasons = [str(reason) for reason in body.get("reasons") or []]
    why = f" ({'; '.join(reasons)})" if reasons else ""
    print(f"{url}: {body.get('status')}{why}, {scenes} scenes mirrored")
    return EXIT_OK
