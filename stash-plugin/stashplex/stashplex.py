#!/usr/bin/env python3
"""stashplex's Stash plugin: tells stashplex what was edited, so the edit reaches Plex in seconds.

Stash runs this script once per hook (and for the "Check connection" task) with one JSON object
on stdin: `server_connection` (how to reach Stash) and `args` (`hookContext` for a hook: `type`,
`id`, `input`, `inputFields`; `mode` for the task). It reads its two settings from Stash, sends
`{"events": [{"type": ..., "id": ...}]}` to stashplex's `POST /sync/events`, and ends.

Standard library only (Stash's Docker image ships python3 and nothing else we could rely on).
Whatever happens it ends quickly, with status 0 and without retrying: a hook must never slow
down or fail the edit in Stash. stashplex's scheduled syncs catch whatever a lost event missed.
Messages go to Stash's log through its plugin log protocol on stderr.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from typing import Any

PLUGIN_ID = "stashplex"  # Stash names a plugin after its YAML file
TIMEOUT = 3.0  # seconds, for each of the two requests
SETTINGS_QUERY = "query StashplexPluginSettings { configuration { plugins } }"
# Straight to Stash and stashplex: both are on this machine or the LAN, never behind a proxy
# that Stash's environment may name for its scrapers.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def log(level: str, message: str) -> None:
    """One line of Stash's plugin log: SOH, the level letter (t d i w e), STX, the text."""
    sys.stderr.write(f"\x01{level}\x02{PLUGIN_ID}: {message}\n")
    sys.stderr.flush()


def stash_url(server: dict[str, Any]) -> str:
    scheme = server.get("Scheme") or "http"
    host = str(server.get("Host") or "localhost")
    if host in ("0.0.0.0", "::", "[::]"):  # Stash listens everywhere: ask it on this machine
        host = "localhost"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    port = server.get("Port") or (443 if scheme == "https" else 9999)
    return f"{scheme}://{host}:{port}/graphql"


def stash_headers(server: dict[str, Any]) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    cookie = server.get("SessionCookie")
    if isinstance(cookie, dict) and cookie.get("Value"):
        headers["Cookie"] = f"{cookie.get('Name') or 'session'}={cookie['Value']}"
    if server.get("ApiKey"):
        headers["ApiKey"] = str(server["ApiKey"])
    return headers


def post_json(url: str, body: Any, headers: dict[str, str]) -> tuple[int, Any]:
    """POST a JSON body; (status, parsed answer or None). Raises OSError when unreachable."""
    request = urllib.request.Request(
        url, data=json.dumps(body).encode("utf-8"), headers=headers, method="POST"
    )
    try:
        with OPENER.open(request, timeout=TIMEOUT) as response:
            status, raw = response.status, response.read(65536)
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read(65536)
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, None


def plugin_settings(server: dict[str, Any]) -> dict[str, Any]:
    """This plugin's settings, as saved in Stash's Settings > Plugins."""
    status, answer = post_json(
        stash_url(server), {"query": SETTINGS_QUERY, "variables": {}}, stash_headers(server)
    )
    if status != 200 or not isinstance(answer, dict):
        raise OSError(f"Stash answered {status} to the settings query")
    config = (answer.get("data") or {}).get("configuration") or {}
    mine = (config.get("plugins") or {}).get(PLUGIN_ID)
    return mine if isinstance(mine, dict) else {}


def event_of(hook: dict[str, Any]) -> dict[str, Any]:
    event: dict[str, Any] = {"type": hook.get("type"), "id": hook.get("id")}
    if str(event["type"]).endswith(".Merge.Post"):
        # Tag.Merge.Post names the destination; the merged-away tags are only in the input.
        sources = (hook.get("input") or {}).get("source")
        if isinstance(sources, list):
            event["sources"] = sources
    return event


def explain(status: int, answer: Any) -> str:
    reason = ""
    if isinstance(answer, dict) and isinstance(answer.get("error"), dict):
        reason = str(answer["error"].get("reason") or answer["error"].get("title") or "")
    return f"{status}{': ' + reason if reason else ''}"


def run(fragment: dict[str, Any]) -> str:
    server = fragment.get("server_connection") or {}
    args = fragment.get("args") or {}
    hook = args.get("hookContext")
    checking = not hook and args.get("mode") == "check"
    if not hook and not checking:
        return "nothing to do: run as a hook or as the Check connection task"
    try:
        settings = plugin_settings(server)
    except (OSError, ValueError) as error:
        log("w", f"cannot read this plugin's settings from Stash: {error}")
        return "settings unreadable"
    url = str(settings.get("stashplexUrl") or "").strip().rstrip("/")
    token = str(settings.get("webhookToken") or "").strip()
    if not url.startswith(("http://", "https://")) or not token:
        log("w", "set the stashplex URL and webhook token in Settings > Plugins > stashplex")
        return "not configured"
    events = [event_of(hook)] if hook else []
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    try:
        status, answer = post_json(f"{url}/sync/events", {"events": events}, headers)
    except (OSError, ValueError) as error:  # refused, timed out, bad URL: the sync catches up
        log("w", f"stashplex at {url} did not answer: {error}")
        return "stashplex unreachable"
    if status != 202:
        log("w", f"stashplex at {url} refused the event: {explain(status, answer)}")
        return f"refused ({status})"
    if checking:
        log("i", f"stashplex at {url} accepts this plugin's token")
        return "stashplex accepts this plugin"
    log("d", f"told stashplex: {events[0]['type']} {events[0]['id']}")
    return "sent"


def main() -> int:
    try:
        fragment = json.loads(sys.stdin.read() or "{}")
        output = run(fragment if isinstance(fragment, dict) else {})
    except Exception as error:  # never fail the edit in Stash, whatever happened here
        log("e", f"unexpected {type(error).__name__}: {error}")
        output = "failed"
    print(json.dumps({"output": output}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
