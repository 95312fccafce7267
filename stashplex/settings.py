"""Settings: one validated, frozen object built once from an INI file and the environment.

The file format is the old project's `stashplexagent.config` extended with new sections, so a file
written for it works unchanged. Every key is declared once in `KEYS`; parsing, typo detection, the
environment overrides and the documentation checks all read that table.
"""

from __future__ import annotations

import configparser
import difflib
import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DEFAULT_FILES = ("settings.ini", "stashplexagent.config")
POSTER_STYLES = ("letterbox", "blur")
SHOW_BY = ("studio", "parent_studio", "group")


class SettingsError(Exception):
    """A setting that cannot be used; the message is one line naming where it came from."""


# --- value parsers: text -> value, raising ValueError with a reason -----------------------------


def _text(raw: str) -> str:
    return raw.strip()


def _optional_text(raw: str) -> str | None:
    return raw.strip() or None


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected true or false")


def _int_range(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw.strip())
        except ValueError:
            raise ValueError(f"expected a whole number from {low} to {high}") from None
        if not low <= value <= high:
            raise ValueError(f"expected a whole number from {low} to {high}")
        return value

    return parse


def _number_range(low: float, high: float, unit: str) -> Callable[[str], float]:
    """A decimal number with low < value <= high (low itself excluded when it is 0)."""

    def parse(raw: str) -> float:
        message = f"expected a number of {unit} from {low:g} to {high:g}"
        if low == 0:
            message = f"expected a number of {unit} above 0 and at most {high:g}"
        try:
            value = float(raw.strip())
        except ValueError:
            raise ValueError(message) from None
        if not (low < value if low == 0 else low <= value) or not value <= high:  # and nan
            raise ValueError(message)
        return value

    return parse


def _url(raw: str) -> str:
    value = raw.strip().rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https"):
        raise ValueError("expected a URL starting with http:// or https://")
    if not parts.hostname:
        raise ValueError("the URL has no host name")
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise ValueError("the URL has an invalid port") from None
    if parts.query or parts.fragment:
        raise ValueError("the URL must not have a query or fragment")
    return value


def _optional_url(raw: str) -> str | None:
    return _url(raw) if raw.strip() else None


def _host(raw: str) -> str:
    value = raw.strip()
    if not value:
        raise ValueError("expected a host name or IP address")
    if "://" in value or "/" in value:
        raise ValueError("expected a bare host name or IP address; put full URLs in [stash] url")
    return value


def _choice(options: tuple[str, ...]) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip().lower()
        if value not in options:
            raise ValueError("expected one of " + ", ".join(options))
        return value

    return parse


def _word_list(raw: str) -> tuple[str, ...]:
    items = (item.strip() for item in raw.replace("\n", ",").split(","))
    return tuple(item for item in items if item)


def _networks(raw: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    nets = []
    for item in _word_list(raw):
        try:
            nets.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is not an IP network like 192.168.0.0/16") from None
    return tuple(nets)


def _path_map(raw: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for line in raw.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        plex, sep, stash = line.partition("=")
        plex, stash = plex.strip(), stash.strip()
        if not sep or not plex or not stash:
            raise ValueError(f"expected 'plex_prefix = stash_prefix' on each line, got {line!r}")
        pairs.append((plex, stash))
    # Longest Plex prefix first, so nested mounts map to the most specific entry.
    pairs.sort(key=lambda pair: len(pair[0]), reverse=True)
    return tuple(pairs)


@dataclass(frozen=True)
class Key:
    section: str
    name: str
    parse: Callable[[str], Any]
    default: str  # as it would be written in the file; parsed like any other value
    env: tuple[str, ...] = ()  # the old project's names, checked before STASHPLEX_<SECTION>_<KEY>
    secret: bool = False
    doc: str = ""

    @property
    def generic_env(self) -> str:
        return f"STASHPLEX_{self.section.upper()}_{self.name.upper()}"


KEYS: tuple[Key, ...] = (
    Key("plexagentserver", "host", _host, "0.0.0.0", doc="address to listen on"),
    Key("plexagentserver", "port", _int_range(1, 65535), "7979", doc="port to listen on"),
    # 16: a thread waiting on Stash for an image must not leave metadata queued behind it
    # (scripts/bench_storm.py: p99 of matches 170 ms-1 s with 8 threads, 21 ms with 16).
    Key("plexagentserver", "num_workers", _int_range(1, 64), "16", doc="request threads"),
    Key(
        "plexagentserver",
        "poster_mode",
        _bool,
        "false",
        env=("POSTER_MODE",),
        doc="give Plex 2:3 posters instead of 16:9 screenshots",
    ),
    Key(
        "plexagentserver",
        "agent_base_url",
        _optional_url,
        "",
        env=("AGENT_BASE_URL",),
        doc="URL at which Plex reaches stashplex; empty: taken from each request",
    ),
    Key(
        "plexagentserver",
        "allowed_networks",
        _networks,
        "127.0.0.0/8, ::1/128, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, fc00::/7, fe80::/10",
        doc="client networks allowed to use the provider",
    ),
    Key("stash", "url", _optional_url, "", env=("STASH_HOST",), doc="full Stash URL"),
    Key("stash", "ip", _host, "127.0.0.1", doc="Stash host, used when url is empty"),
    Key("stash", "port", _int_range(1, 65535), "9999", doc="Stash port, used when url is empty"),
    Key("stash", "api_key", _optional_text, "", env=("STASH_API_KEY",), secret=True),
    Key("stash", "debug", _bool, "false", env=("DEBUG",), doc="log every Stash call"),
    Key(
        "stash",
        "cache_ttl",
        _int_range(0, 7 * 86400),
        "300",
        env=("CACHE_TTL",),
        doc="seconds to remember that Stash had nothing for a request; 0 disables",
    ),
    Key(
        "stash", "timeout", _number_range(0, 600, "seconds"), "10", doc="seconds to wait for Stash"
    ),
    Key("plex", "url", _optional_url, "", env=("PLEX_URL",), doc="Plex Media Server URL"),
    Key("plex", "token", _optional_text, "", env=("PLEX_TOKEN",), secret=True),
    Key(
        "plex",
        "refresh_on_change",
        _bool,
        "false",
        doc="ask Plex to refresh items whose scene changed in Stash",
    ),
    Key("mirror", "database", _text, "data/stashplex.db", doc="SQLite mirror file"),
    Key("mirror", "poster_dir", _text, "data/posters", doc="folder for rendered posters"),
    Key("mirror", "poster_style", _choice(POSTER_STYLES), "letterbox", doc="poster style"),
    Key(
        "sync",
        "interval_minutes",
        _number_range(0.05, 7 * 24 * 60, "minutes"),
        "15",
        doc="minutes between incremental syncs",
    ),
    Key(
        "sync", "sweep_hours", _int_range(1, 24 * 30), "24", doc="hours between full id/path sweeps"
    ),
    Key("sync", "page_size", _int_range(25, 5000), "500", doc="scenes per Stash request"),
    Key("match", "path_map", _path_map, "", doc="'plex_prefix = stash_prefix' lines"),
    Key("metadata", "content_rating", _text, "XXX", doc="content rating given to every item"),
    Key("metadata", "ignore_tags", _word_list, "", doc="tags never sent as genres (comma list)"),
    Key("metadata", "studio_as_collection", _bool, "false", doc="also file scenes by studio"),
    Key("tv", "show_by", _choice(SHOW_BY), "studio", doc="what a TV show is"),
)

KEYS_BY_SECTION: dict[str, dict[str, Key]] = {}
for _key in KEYS:
    KEYS_BY_SECTION.setdefault(_key.section, {})[_key.name] = _key

ENV_ONLY = {"DEV": "reload the service when its code changes (development)"}


# --- the settings object -----------------------------------------------------------------------


@dataclass(frozen=True)
class ServerSettings:
    host: str
    port: int
    num_workers: int
    poster_mode: bool
    agent_base_url: str | None
    allowed_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]


@dataclass(frozen=True)
class StashSettings:
    url: str
    api_key: str | None = field(repr=False)
    debug: bool
    cache_ttl: int
    timeout: float


@dataclass(frozen=True)
class PlexSettings:
    url: str | None
    token: str | None = field(repr=False)
    refresh_on_change: bool

    @property
    def enabled(self) -> bool:
        return bool(self.url and self.token)


@dataclass(frozen=True)
class MirrorSettings:
    database: Path
    poster_dir: Path
    poster_style: str


@dataclass(frozen=True)
class SyncSettings:
    interval_minutes: float
    sweep_hours: int
    page_size: int


@dataclass(frozen=True)
class MatchSettings:
    path_map: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class MetadataSettings:
    content_rating: str
    ignore_tags: tuple[str, ...]
    studio_as_collection: bool


@dataclass(frozen=True)
class TvSettings:
    show_by: str


@dataclass(frozen=True)
class Settings:
    server: ServerSettings
    stash: StashSettings
    plex: PlexSettings
    mirror: MirrorSettings
    sync: SyncSettings
    match: MatchSettings
    metadata: MetadataSettings
    tv: TvSettings
    dev: bool = False
    source: Path | None = None  # the file read, if any

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must never appear in logs, errors or responses."""
        return tuple(s for s in (self.stash.api_key, self.plex.token) if s)


# --- loading -----------------------------------------------------------------------------------


def find_settings_file(
    explicit: str | os.PathLike[str] | None, environ: Mapping[str, str]
) -> Path | None:
    """The file to read: --settings, else STASHPLEX_SETTINGS, else a default name in the cwd."""
    chosen = explicit or _env(environ, "STASHPLEX_SETTINGS")
    if chosen:
        path = Path(chosen).expanduser()
        if not path.is_file():
            raise SettingsError(f"{path}: settings file not found")
        return path
    for name in DEFAULT_FILES:
        if Path(name).is_file():
            return Path(name)
    return None


def load(
    path: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    search: bool = True,
) -> Settings:
    """Build the settings from `path` (or the file `find_settings_file` picks) and `environ`.

    Raises SettingsError with a one-line message; never includes a secret's value.
    """
    environ = os.environ if environ is None else environ
    file = find_settings_file(path, environ) if search or path else None
    raw: dict[str, dict[str, str]] = {}
    if file is not None:
        raw = _read_file(file)
    label = str(file) if file is not None else "settings"

    values: dict[tuple[str, str], Any] = {}
    for key in KEYS:
        env_name, env_value = _env_override(key, environ)
        if env_value is not None:
            values[key.section, key.name] = _parse(key, env_value, f"environment {env_name}")
        elif key.name in raw.get(key.section, {}):
            values[key.section, key.name] = _parse(
                key, raw[key.section][key.name], f"{label}: [{key.section}] {key.name}"
            )
        else:
            values[key.section, key.name] = _parse(
                key, key.default, f"default [{key.section}] {key.name}"
            )

    base_dir = file.parent if file is not None else Path.cwd()
    return _build(values, environ, base_dir, file)


def _build(
    v: dict[tuple[str, str], Any], environ: Mapping[str, str], base_dir: Path, file: Path | None
) -> Settings:
    stash_url = v["stash", "url"]
    if stash_url is None:
        host = v["stash", "ip"]
        if ":" in host and not host.startswith("["):  # a bare IPv6 address
            host = f"[{host}]"
        stash_url = f"http://{host}:{v['stash', 'port']}"

    def resolve(text: str) -> Path:
        p = Path(text).expanduser()
        return p if p.is_absolute() else (base_dir / p)

    try:
        dev = _bool(_env(environ, "DEV") or "false")
    except ValueError as exc:
        raise SettingsError(f"environment DEV = {_env(environ, 'DEV')!r}: {exc}") from None

    return Settings(
        server=ServerSettings(
            host=v["plexagentserver", "host"],
            port=v["plexagentserver", "port"],
            num_workers=v["plexagentserver", "num_workers"],
            poster_mode=v["plexagentserver", "poster_mode"],
            agent_base_url=v["plexagentserver", "agent_base_url"],
            allowed_networks=v["plexagentserver", "allowed_networks"],
        ),
        stash=StashSettings(
            url=stash_url,
            api_key=v["stash", "api_key"],
            debug=v["stash", "debug"],
            cache_ttl=v["stash", "cache_ttl"],
            timeout=v["stash", "timeout"],
        ),
        plex=PlexSettings(
            url=v["plex", "url"],
            token=v["plex", "token"],
            refresh_on_change=v["plex", "refresh_on_change"],
        ),
        mirror=MirrorSettings(
            database=resolve(v["mirror", "database"]),
            poster_dir=resolve(v["mirror", "poster_dir"]),
            poster_style=v["mirror", "poster_style"],
        ),
        sync=SyncSettings(
            interval_minutes=v["sync", "interval_minutes"],
            sweep_hours=v["sync", "sweep_hours"],
            page_size=v["sync", "page_size"],
        ),
        match=MatchSettings(path_map=v["match", "path_map"]),
        metadata=MetadataSettings(
            content_rating=v["metadata", "content_rating"],
            ignore_tags=v["metadata", "ignore_tags"],
            studio_as_collection=v["metadata", "studio_as_collection"],
        ),
        tv=TvSettings(show_by=v["tv", "show_by"]),
        dev=dev,
        source=file,
    )


def _env(environ: Mapping[str, str], name: str) -> str | None:
    # Docker passes `NAME=` for unset variables in compose files: empty means unset.
    value = environ.get(name)
    return value if value is not None and value.strip() else None


def _env_override(key: Key, environ: Mapping[str, str]) -> tuple[str, str | None]:
    for name in (*key.env, key.generic_env):
        value = _env(environ, name)
        if value is not None:
            return name, value
    return key.generic_env, None


def _parse(key: Key, raw: str, where: str) -> Any:
    try:
        return key.parse(raw)
    except ValueError as exc:
        shown = "<hidden>" if key.secret else repr(raw.strip())
        raise SettingsError(f"{where} = {shown}: {exc}") from None


def _read_file(path: Path) -> dict[str, dict[str, str]]:
    parser = configparser.ConfigParser(interpolation=None, strict=True, empty_lines_in_values=False)
    try:
        with path.open(encoding="utf-8") as fh:
            parser.read_file(fh)
    except UnicodeDecodeError:
        raise SettingsError(f"{path}: not a UTF-8 text file") from None
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read: {exc.strerror}") from None
    except configparser.Error as exc:
        first_line = str(exc).splitlines()[0]
        raise SettingsError(f"{path}: not a valid settings file: {first_line}") from None

    result: dict[str, dict[str, str]] = {}
    for section in parser.sections():
        known = KEYS_BY_SECTION.get(section.lower())
        if known is None:
            hint = _closest(section.lower(), KEYS_BY_SECTION)
            if hint:
                raise SettingsError(
                    f"{path}: [{section}]: unknown section (did you mean [{hint}]?)"
                )
            continue  # a section of some other tool sharing the file: leave it alone
        values = result.setdefault(section.lower(), {})
        for name, value in parser.items(section):
            if name not in known:
                hint = _closest(name, known)
                # A misspelt secret is still a secret.
                secret = (hint is not None and known[hint].secret) or any(
                    word in name for word in ("key", "token", "pass", "secret")
                )
                shown = "<hidden>" if secret else repr(value.strip())
                where = f"{path}: [{section}] {name} = {shown}"
                if hint:
                    raise SettingsError(f"{where}: unknown key (did you mean '{hint}'?)")
                raise SettingsError(f"{where}: unknown key; known keys: {', '.join(known)}")
            values[name] = value
    return result


def _closest(word: str, options: Mapping[str, Any] | tuple[str, ...]) -> str | None:
    found = difflib.get_close_matches(word, list(options), n=1, cutoff=0.75)
    return found[0] if found else None


def describe(settings: Settings) -> str:
    """The effective settings as INI text, secrets shown only as set / not set."""
    lines = [f"# read from: {settings.source or '(no file: defaults and environment)'}"]
    for section, keys in KEYS_BY_SECTION.items():
        lines.append(f"[{section}]")
        for name, key in keys.items():
            lines.append(f"{name} = {_show(settings, key)}")
        lines.append("")
    lines.append(f"# DEV = {'true' if settings.dev else 'false'}")
    return "\n".join(lines)


_ATTRS = {"plexagentserver": "server"}


def _show(settings: Settings, key: Key) -> str:
    group = getattr(settings, _ATTRS.get(key.section, key.section))
    attr = key.name
    if key.section == "stash" and key.name in ("ip", "port"):
        return "(see url)" if settings.stash.url else ""
    value = getattr(group, attr)
    if key.secret:
        return "<set>" if value else "<not set>"
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if key.name == "path_map":
        return "".join(f"\n    {plex} = {stash}" for plex, stash in value)
    if isinstance(value, tuple):
        return ", ".join(str(item) for item in value)
    return str(value)
