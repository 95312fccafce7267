"""`stashplex doctor`: the whole chain checked before the first scan, and a dry run of it.

Stash (reachable, version, API key, status), the mirror (present, migrated, last sync), the
poster folder (writable, free space), the provider's own address (answers from this machine as
stashplex), Plex Media Server with `[plex] url/token` (reachable, version, token, which libraries
use stashplex's agent) and a dry run of the scan (`dry_run`). Every failed line names the
setting or step that fixes it. `examine()` builds the report; the CLI prints it and the status
page runs it on demand.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import shutil
import socket
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit

import httpx

from stashplex import __version__, lan, logs
from stashplex.checklist import FAIL, OK, WARN, Report, Section, can_encode, render_text
from stashplex.dry_run import UNMATCHED_SHOWN, DryRun, DryRunner, read_paths
from stashplex.mirror import diagnosis
from stashplex.mirror.db import Database
from stashplex.plex.identity import MOVIE_PROVIDER_ID, TV_PROVIDER_ID
from stashplex.plex.path_hints import FolderIndex
from stashplex.pms.api import (
    PlexAuthError,
    PlexError,
    PlexProvider,
    PlexSection,
    PlexTlsError,
    PlexUnreachable,
    PmsClient,
)
from stashplex.redaction import redact
from stashplex.settings import Settings, ShowBy
from stashplex.stash.client import StashClient
from stashplex.stash.errors import (
    StashAuthError,
    StashError,
    StashNotReady,
    StashTooOld,
    StashUnreachable,
)
from stashplex.stash.version import probe
from stashplex.web.access import AllowedNetworks
from stashplex.web.baseurl import listening_base_url

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
PLEX_MINIMUM = (1, 43, 0)
OUR_AGENTS = (MOVIE_PROVIDER_ID, TV_PROVIDER_ID)
LOW_SPACE = 200 * 1024 * 1024  # below this a poster or a mirror page write fails soon
SOME_SPACE = 2 * 1024 * 1024 * 1024
PAGE = 200  # Plex items per request of the dry run
HTTP_TIMEOUT = 10.0


@dataclass(frozen=True)
class Options:
    library: str | None = None  # a Plex library's name or key
    paths: Path | None = None  # a list of paths, or a folder to walk


def examine(settings: Settings, options: Options | None = None) -> Report:
    """Every check, in order; never raises for what it finds (a check fails instead)."""
    options = options or Options()
    report = Report()
    stash_scenes = check_stash(settings, report.section("Stash"))
    mirror_ok = check_mirror(settings, report.section("Mirror"), stash_scenes)
    check_posters(settings, report.section("Posters and disk"))
    check_provider(settings, report.section("Provider"))
    sections = check_plex(settings, options, report.section("Plex Media Server"))
    _dry_run(settings, options, report, sections, mirror_ok)
    report.finished_at = time.time()
    return report


# --- Stash -----------------------------------------------------------------------------------


def check_stash(settings: Settings, out: Section) -> int | None:
    """The Stash checks; how many scenes Stash has (None when it cannot say)."""
    url = settings.stash.url
    has_key = bool(settings.stash.api_key)
    key_text = "Stash accepts the API key" if has_key else "Stash needs no API key"
    with StashClient.from_settings(settings, retries=0) as client:
        try:
            info = probe(client)
        except StashUnreachable as exc:
            out.add(
                FAIL,
                str(exc),
                "check [stash] url (or ip and port) from this machine, e.g. "
                f"curl {url}/healthz; is Stash running?",
            )
            return None
        except StashAuthError as exc:
            out.add(OK, f"Stash answers at {url}")
            fix = (
                "copy the key from Stash (Settings › Security › API Key) into [stash] api_key; "
                "if Stash has no username and password, leave it empty"
                if has_key
                else "set [stash] api_key (or STASH_API_KEY) to the key in Stash's "
                "Settings › Security › API Key"
            )
            out.add(FAIL, str(exc), fix)
            return None
        except StashTooOld as exc:
            out.add(OK, f"Stash answers at {url}")
            out.add(FAIL, str(exc), "upgrade Stash to v0.24.0 or newer")
            return None
        except StashNotReady as exc:
            out.add(OK, f"Stash answers at {url}")
            out.add(OK, key_text)
            out.add(FAIL, str(exc), "finish it in Stash's web interface, then run doctor again")
            return None
        except StashError as exc:
            out.add(
                FAIL,
                f"Stash at {url} does not answer usefully: {exc}",
                "check that [stash] url points at Stash itself (not a proxy's login page)",
            )
            return None
        try:
            count = client.execute("CountScenes", {}).get("findScenes", {}).get("count")
        except StashError:
            count = None
    out.add(OK, f"Stash answers at {url}")
    if info.numbers is None:
        out.add(OK, f"Stash {info.version}: what its API has is read from its schema")
    else:
        out.add(OK, f"Stash {info.version} is supported (v0.24.0 or newer)")
    out.add(OK, key_text)
    out.add(OK, "Stash's status is OK (set up, no migration pending)")
    return count if isinstance(count, int) and not isinstance(count, bool) else None


# --- mirror ----------------------------------------------------------------------------------


def ago(stamp: float, now: float | None = None) -> str:
    seconds = max(0.0, (time.time() if now is None else now) - stamp)
    if seconds < 90:
        return f"{seconds:.0f} s ago"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h ago"
    return f"{seconds / 86400:.0f} days ago"


def check_mirror(settings: Settings, out: Section, stash_scenes: int | None = None) -> bool:
    """The mirror's checks (`stash_scenes`: how many Stash has, to tell a mirror that is
    behind); True when a dry run can read it."""
    path = settings.mirror.database
    if not path.is_file():
        out.add(
            FAIL,
            f"no mirror at {path} yet",
            "run stashplex-sync (or start stashplex serve): it creates and fills the mirror; "
            "[mirror] database names the file",
        )
        return False
    try:
        facts = diagnosis.facts(path)
    except sqlite3.Error as exc:
        out.add(
            FAIL,
            f"{path} cannot be read as a mirror: {exc}",
            "check the file's permissions; or move it away and run stashplex-sync to rebuild it",
        )
        return False
    if not facts.migrated:
        out.add(
            FAIL,
            f"{path}: schema at {facts.revision or 'none'}, this stashplex needs {facts.head}",
            "run stashplex db upgrade (stashplex serve also does it when it starts)",
        )
        return False
    out.add(OK, f"{path}: schema up to date; {facts.scenes:,} scenes, {facts.files:,} files")
    run = facts.last_run
    failed = run is not None and run.ok is False
    error = redact(run.error or "no reason recorded") if run is not None and failed else ""
    if facts.last_success is None:
        reason = f": the last {run.kind} sync failed: {error}" if run and failed else ""
        out.add(FAIL, f"no sync has succeeded yet{reason}", "run stashplex-sync")
    elif run is not None and failed:
        out.add(
            WARN,
            f"the last sync ({run.kind}, {ago(run.started_at)}) failed: {error}; "
            f"the last good one was {ago(facts.last_success)}",
            "stashplex-sync says why; the mirror keeps its last good state meanwhile",
        )
    elif run is not None and run.finished_at is None:
        out.add(
            OK,
            f"a {run.kind} sync is running (since {ago(run.started_at)}); the last good one "
            f"was {ago(facts.last_success)}",
        )
    else:
        kind = f"{run.kind} " if run is not None else ""
        out.add(OK, f"last sync: {kind}{ago(facts.last_success)}, ok")
    if facts.last_success is not None and stash_scenes == 0:
        out.add(WARN, "Stash has no scenes", "scan your library in Stash first")
    elif stash_scenes is not None and facts.scenes < stash_scenes:
        out.add(
            WARN,
            f"the mirror has {facts.scenes:,} of Stash's {stash_scenes:,} scenes",
            "run stashplex-sync (or wait for the next sync): a scan looks the missing ones up "
            "in Stash live, the dry run below does not",
        )
    elif stash_scenes is not None and facts.scenes > stash_scenes:
        out.add(
            WARN,
            f"the mirror has {facts.scenes - stash_scenes:,} scenes more than Stash's "
            f"{stash_scenes:,}: deleted in Stash since the last sweep",
            "run stashplex-sync --sweep (the daily sweep removes them too)",
        )
    elif stash_scenes is not None:
        out.add(OK, f"the mirror has all of Stash's {stash_scenes:,} scenes")
    return True


# --- posters and disk ------------------------------------------------------------------------


def _existing(path: Path) -> Path:
    """`path`, or the nearest folder above it that exists."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path(path.anchor) if path.anchor else Path.cwd()


def writable_folder(folder: Path) -> str | None:
    """None when files can be created in `folder` (or it can be created); else the reason."""
    base = _existing(folder)
    if not base.is_dir():
        return f"{base} is not a folder"
    try:
        with tempfile.NamedTemporaryFile(dir=base, prefix=".stashplex-doctor-"):
            pass
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    return None


def _size(count: float) -> str:
    if count < 1024:
        return f"{count:,.0f} bytes"
    for unit in ("KB", "MB"):
        count /= 1024
        if count < 1024:
            return f"{count:,.1f} {unit}"
    return f"{count / 1024:,.1f} GB"


def check_posters(settings: Settings, out: Section) -> None:
    folder = settings.mirror.poster_dir
    poster_mode = settings.server.poster_mode
    problem = writable_folder(folder)
    if problem is None and folder.is_dir():
        out.add(OK, f"poster folder {folder} is writable")
    elif problem is None:
        out.add(OK, f"poster folder {folder} can be created (it does not exist yet)")
    else:
        use = "" if poster_mode else " (only used with poster_mode = true)"
        out.add(
            FAIL if poster_mode else WARN,
            f"poster folder {folder} is not writable: {problem}{use}",
            "make it writable for the user stashplex runs as, or point [mirror] poster_dir "
            "at a folder that is",
        )
    seen: set[int] = set()
    for label, path in (("posters", folder), ("mirror and image cache", settings.mirror.database)):
        base = _existing(path if label == "posters" else path.parent)
        try:
            device = base.stat().st_dev
            usage = shutil.disk_usage(base)
        except OSError as exc:
            out.add(WARN, f"cannot tell the free space at {base}: {exc.strerror}")
            continue
        if device in seen:
            continue
        seen.add(device)
        where = f"{_size(usage.free)} free at {base} ({label})"
        if usage.free < LOW_SPACE:
            out.add(FAIL, where, "free some space: posters and the mirror are written there")
        elif usage.free < SOME_SPACE:
            out.add(
                WARN,
                where,
                f"the image cache alone may grow to {settings.images.cache_mb:,} MB "
                "([images] cache_mb)",
            )
        else:
            out.add(OK, where)


# --- the provider's own address --------------------------------------------------------------


def check_provider(settings: Settings, out: Section) -> None:
    configured = settings.server.agent_base_url
    url = configured or listening_base_url(settings.server.host, settings.server.port)
    key = "[plexagentserver] agent_base_url" if configured else "[plexagentserver] host and port"
    source = key if configured else f"{key} (agent_base_url is empty)"
    # The user's own address, tried as configured even when it is not loopback.
    with httpx.Client(timeout=HTTP_TIMEOUT, follow_redirects=False) as http:
        answers: dict[str, str] = {}
        for path, wanted in (("/", MOVIE_PROVIDER_ID), ("/tv", TV_PROVIDER_ID)):
            try:
                response = http.get(url + path, headers={"Accept": "application/json"})
            except httpx.HTTPError as exc:
                out.add(
                    FAIL,
                    f"nothing answers at {url} ({type(exc).__name__}), from {source}",
                    f"start stashplex serve on this machine; if it runs, fix {key}: the address "
                    "Plex reaches stashplex at",
                )
                return
            answers[path] = _identifier(response)
            if response.status_code == 403:
                out.add(
                    FAIL,
                    f"{url} refuses this machine (HTTP 403)",
                    "add this machine's network to [plexagentserver] allowed_networks",
                )
                return
            if answers[path] != wanted:
                out.add(
                    FAIL,
                    f"{url}{path} answers, but not as stashplex "
                    f"(HTTP {response.status_code}, {answers[path] or 'no provider identifier'})",
                    f"{key} must be stashplex's own address and port (7979 by default), "
                    "without a path",
                )
                return
    out.add(OK, f"{url} answers as stashplex (movies at /, TV at /tv)")
    example = f"http://{_lan_address()}:{settings.server.port}"
    if not configured:
        out.add(
            WARN,
            "[plexagentserver] agent_base_url is empty: image links follow the address each "
            "request of Plex uses",
            f"set it to the URL Plex reaches stashplex at, e.g. {example}",
        )
    elif _is_loopback(urlsplit(url).hostname) and not _is_loopback(
        urlsplit(settings.plex.url or "").hostname
    ):
        out.add(
            WARN,
            f"{url} is this machine's loopback address: only a Plex on this same machine "
            "reaches it",
            f"unless Plex runs here, set [plexagentserver] agent_base_url to e.g. {example}",
        )


def _lan_address() -> str:
    found = lan.addresses()
    return found[0] if found else "<this machine's LAN address>"


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _addresses(host: str) -> list[str]:
    """The IP addresses of a host name (the user's own Plex URL), or of an IP literal."""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return []
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _plex_allowed(settings: Settings, out: Section) -> None:
    """Plex's requests come from its own address: it must be in allowed_networks."""
    networks = settings.server.allowed_networks
    host = urlsplit(settings.plex.url or "").hostname
    if not networks or not host:  # `any`: no check
        return
    addresses = _addresses(host)
    if not addresses:
        return
    check = AllowedNetworks(networks)
    refused = [a for a in addresses if not check.allows(a)]
    if refused:
        out.add(
            WARN,
            f"Plex's address {', '.join(refused)} is not in [plexagentserver] "
            "allowed_networks: its requests to the provider would be refused (403)",
            "add Plex's network to allowed_networks (e.g. 192.168.1.0/24)",
        )
    else:
        out.add(OK, f"Plex's address {', '.join(addresses)} may use the provider")


def _identifier(response: httpx.Response) -> str:
    try:
        provider = response.json().get("MediaProvider") or {}
        return str(provider.get("identifier") or "")
    except (ValueError, AttributeError):
        return ""


# --- Plex Media Server -----------------------------------------------------------------------


def parse_plex_version(text: str | None) -> tuple[int, int, int] | None:
    parts = (text or "").split("-")[0].split(".")
    try:
        numbers = [int(part) for part in parts[:3]]
    except ValueError:
        return None
    return (numbers[0], numbers[1], numbers[2]) if len(numbers) == 3 else None


def _kind(section: PlexSection) -> str:
    return "movies" if section.type == "movie" else "TV"


def check_plex(settings: Settings, options: Options, out: Section) -> list[PlexSection] | None:
    """The Plex checks; the libraries to dry-run (None: no dry run from Plex)."""
    plex = settings.plex
    if not plex.url or not plex.token:
        out.add(
            WARN,
            "[plex] url and token are not set: no artwork upload into Plex, and no dry run "
            "from Plex's libraries",
            "set [plex] url and token (Plex support: Finding an authentication token); "
            "meanwhile: stashplex doctor --paths FOLDER",
        )
        return None
    with PmsClient(plex.url, plex.token, verify_tls=plex.verify_tls, sections_ttl=0) as client:
        try:
            identity = client.identity()
        except PlexTlsError as exc:
            out.add(FAIL, str(exc), "use its plex.direct URL or set [plex] verify_tls = false")
            return None
        except PlexUnreachable as exc:
            out.add(
                FAIL,
                str(exc),
                "check [plex] url from this machine (http://<host>:32400, or its https:// "
                "plex.direct URL); is Plex running?",
            )
            return None
        except PlexAuthError as exc:
            out.add(OK, f"Plex answers at {plex.url}")
            out.add(FAIL, str(exc), "copy the token again into [plex] token")
            return None
        except PlexError as exc:
            out.add(FAIL, f"Plex at {plex.url} does not answer as Plex: {exc}", "check [plex] url")
            return None
        version = parse_plex_version(identity.version)
        shown = identity.version or "of unknown version"
        if version is None:
            out.add(WARN, f"Plex Media Server {shown} answers at {plex.url}: version unknown")
        elif version < PLEX_MINIMUM:
            out.add(
                FAIL,
                f"Plex Media Server {shown} is too old: custom metadata providers need 1.43.0 "
                "or newer",
                "update Plex Media Server",
            )
        else:
            out.add(OK, f"Plex Media Server {shown} answers at {plex.url} (1.43.0 or newer)")
        try:
            libraries = client.libraries(fresh=True)
        except PlexAuthError as exc:
            out.add(
                FAIL,
                str(exc),
                "copy the token again into [plex] token (Plex support: Finding an "
                "authentication token)",
            )
            return None
        except PlexError as exc:
            out.add(FAIL, f"cannot list Plex's libraries: {exc}")
            return None
        out.add(OK, "Plex accepts the token")
        _plex_allowed(settings, out)
        try:
            providers = client.providers()
        except PlexError as exc:
            out.add(WARN, f"cannot list Plex's metadata providers: {exc}")
        else:
            _registered(settings, providers, out)
    return _libraries(libraries, options, out)


def _registered(settings: Settings, providers: list[PlexProvider] | None, out: Section) -> None:
    """Whether stashplex's providers are added in Plex, and at which address."""
    if providers is None:
        out.add(WARN, "Plex did not list its metadata providers (Settings › Metadata Agents)")
        return
    url = settings.server.agent_base_url or listening_base_url(
        settings.server.host, settings.server.port
    )
    for identifier, suffix, what in (
        (MOVIE_PROVIDER_ID, "", "movie"),
        (TV_PROVIDER_ID, "/tv", "TV"),
    ):
        found = [p for p in providers if p.identifier == identifier]
        if not found:
            out.add(
                FAIL if identifier == MOVIE_PROVIDER_ID else WARN,
                f"stashplex's {what} provider is not added in Plex"
                + (
                    "" if identifier == MOVIE_PROVIDER_ID else " (only a TV Shows library needs it)"
                ),
                f"in Plex: Settings › Metadata Agents › Add Provider: {url}{suffix} (the "
                "address Plex reaches stashplex at)",
            )
            continue
        uri = found[0].uri.rstrip("/")
        out.add(OK, f"stashplex's {what} provider is added in Plex at {uri}")
        expected = url.rstrip("/") + suffix
        if settings.server.agent_base_url and uri != expected:
            out.add(
                WARN,
                f"Plex reaches the {what} provider at {uri}, but [plexagentserver] "
                f"agent_base_url says {settings.server.agent_base_url}",
                "make them the same address: image links are built from agent_base_url",
            )


def _libraries(
    libraries: list[PlexSection], options: Options, out: Section
) -> list[PlexSection] | None:
    ours = [s for s in libraries if s.agent in OUR_AGENTS]
    others = [s for s in libraries if s.agent not in OUR_AGENTS]

    def names(found: list[PlexSection]) -> str:
        return ", ".join(f"{s.title} ({_kind(s)}, agent {s.agent or 'unknown'})" for s in found)

    if options.library is not None:
        chosen = [s for s in libraries if options.library in (s.key, s.title)]
        if not chosen:
            listed = ", ".join(f"{s.title} (id {s.key})" for s in libraries) or "none"
            out.add(FAIL, f"Plex has no movie or TV library {options.library!r}; it has: {listed}")
            return None
        off = [s for s in chosen if s.agent not in OUR_AGENTS]
        if off:
            out.add(
                FAIL,
                f"library {names(off)} does not use stashplex's agent",
                "in Plex: edit the library › Advanced › Agent: choose the agent whose primary "
                "provider is Stash (stashplex); then Refresh All Metadata",
            )
        else:
            out.add(OK, f"library {names(chosen)} uses stashplex's agent")
        return chosen
    if ours:
        out.add(OK, f"on stashplex's agent: {names(ours)}")
    else:
        out.add(
            FAIL,
            "no Plex library uses stashplex's agent"
            + (f" (libraries: {names(others)})" if others else ""),
            "in Plex: Settings › Metadata Agents: add the provider and an agent with it as "
            "primary, then choose that agent in the library's Advanced settings (the steps "
            "are on /status)",
        )
    if ours and others:
        out.add(
            WARN,
            f"not on stashplex's agent: {names(others)}",
            "fine if they hold no files of Stash's; else choose stashplex's agent for them",
        )
    return ours or [s for s in libraries if s.type in ("movie", "show")]


# --- the dry run -----------------------------------------------------------------------------


def _dry_run(
    settings: Settings,
    options: Options,
    report: Report,
    sections: list[PlexSection] | None,
    mirror_ok: bool,
) -> None:
    if options.paths is not None:
        out = report.section(f"Dry run: the files of {options.paths} (the mirror only)")
    elif sections:
        listed = ", ".join(s.title for s in sections)
        out = report.section(f"Dry run: Plex library {listed} (the mirror only)")
    else:
        if not settings.plex.enabled:
            report.section("Dry run").add(
                WARN,
                "no dry run: nothing to read the file paths from",
                "set [plex] token, or pass --paths FILE (one path per line) or --paths FOLDER",
            )
        return
    if not mirror_ok:
        out.add(FAIL, "no dry run without a mirror", "see the Mirror lines above")
        return
    try:
        _run_dry(settings, options, sections, out)
    except sqlite3.Error as exc:  # the mirror changed under us (replaced, locked, broken)
        out.add(FAIL, f"the dry run could not read the mirror: {exc}", "run doctor again")


def _run_dry(
    settings: Settings, options: Options, sections: list[PlexSection] | None, out: Section
) -> None:
    db = Database.open(settings.mirror.database, migrate=False, readers=1)
    runner = DryRunner(settings, db)
    try:
        result = DryRun()
        if options.paths is not None:
            try:
                files = read_paths(options.paths)
            except (OSError, UnicodeDecodeError) as exc:
                out.add(FAIL, f"cannot read {options.paths}: {exc}", "pass a readable --paths")
                return
            runner.run(files, tv=False, into=result)
        else:
            assert sections is not None
            if not _from_plex(settings, sections, runner, result, out):
                return
        folders = runner.folders() if result.unmatched else None
    finally:
        runner.close()
        db.close()
    _describe(result, folders, out, settings.tv.show_by)


def _from_plex(
    settings: Settings,
    sections: list[PlexSection],
    runner: DryRunner,
    result: DryRun,
    out: Section,
) -> bool:
    plex = settings.plex
    assert plex.url and plex.token
    with PmsClient(plex.url, plex.token, verify_tls=plex.verify_tls) as client:
        for section in sections:
            start = 0
            while True:
                try:
                    page = client.files(section, start, PAGE)
                except PlexError as exc:
                    out.add(FAIL, f"reading library {section.title} from Plex failed: {exc}")
                    return False
                paths = (item.file for item in page.items)
                runner.run(paths, tv=section.type == "show", into=result)
                if page.last(start, PAGE):
                    break
                start += page.read
    return True


def files(count: int, word: str = "file") -> str:
    return f"{count:,} {word}" + ("" if count == 1 else "s")


def _describe(
    result: DryRun, folders: FolderIndex | None, out: Section, show_by: ShowBy = "studio"
) -> None:
    if result.total == 0:
        out.add(
            WARN,
            "no files to try",
            "scan the library once (with any agent), or pass --paths FOLDER with the folder "
            "Plex scans",
        )
        return
    tiers = ", ".join(f"{tier} {count:,}" for tier, count in result.tiers.most_common())
    matched = result.matched
    out.add(
        OK if matched else FAIL,
        f"{matched:,} of {files(result.total)} would match" + (f" (by {tiers})" if tiers else ""),
        None if matched else "see below",
    )
    hint = result.exact_hint()
    if result.inexact:
        out.add(
            WARN,
            f"{len(result.inexact):,} of them only by their path ending or name, not their "
            "full path",
            f"add under [match]: {hint.line} (explains {hint.explained:,} of {hint.compared:,})"
            if hint
            else "a [match] path_map line from Plex's folder to Stash's makes them exact",
            (hint.line,) if hint else (),
        )
    if result.hidden:
        out.add(
            WARN,
            "scenes hidden from Plex by [metadata] require_organized or require_stash_id: "
            f"{files(result.hidden)}",
        )
    if result.no_show:
        count = len(result.no_show)
        shown = tuple(result.no_show[:UNMATCHED_SHOWN])
        more = (f"… and {count - len(shown):,} more",) if count > len(shown) else ()
        out.add(
            WARN,
            f"scenes without a show ([tv] show_by = {show_by}), which stay unmatched in a TV "
            f"library: {files(count)}",
            "give the scenes a studio (or group) in Stash, or keep these files in a Movies library",
            shown + more,
        )
    if result.no_file:
        out.add(WARN, f"{files(result.no_file, 'item')} without a file path in Plex")
    if result.unmatched:
        count = len(result.unmatched)
        shown = tuple(result.unmatched[:UNMATCHED_SHOWN])
        more = (f"… and {count - len(shown):,} more",) if count > len(shown) else ()
        folder_hint = result.folder_hint(folders) if folders is not None else None
        if folder_hint is not None:
            fix = (
                f"Stash has their folders under another mount point: add under [match]: "
                f"{folder_hint.line}; the files themselves are new to Stash: scan them in "
                "Stash, then run stashplex-sync"
            )
            extra: tuple[str, ...] = (folder_hint.line,)
        else:
            fix = (
                "Stash has no file by these names: add their folders to Stash's library and "
                "scan, then run stashplex-sync (or rename the files with {stash-<id>})"
            )
            extra = ()
        out.add(
            FAIL,
            f"{files(count)} would not match"
            + (f" (the first {len(shown)} below)" if count > len(shown) else ""),
            fix,
            shown + more + extra,
        )


# --- the command -----------------------------------------------------------------------------


def run(args: argparse.Namespace, settings: Settings, *, stream: TextIO | None = None) -> int:
    logs.setup(settings.stash.debug, settings.secrets, quiet=True)
    out = stream if stream is not None else sys.stdout
    options = Options(library=args.library, paths=args.paths)
    if options.paths is not None and not os.path.exists(options.paths):
        print(f"stashplex doctor: {options.paths}: no such file or folder", file=sys.stderr)
        return EXIT_USAGE
    report = examine(settings, options)
    encoding = getattr(out, "encoding", None)
    text = redact(render_text(report, unicode=can_encode(encoding)))
    if encoding:  # a file name the terminal cannot show must not cost the report
        text = text.encode(encoding, "replace").decode(encoding)
    print(f"stashplex {__version__} doctor", file=out)
    print(text, file=out)
    return EXIT_OK if report.passed else EXIT_FAILED
