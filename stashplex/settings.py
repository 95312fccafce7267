"""Settings: one validated, frozen object built once from an INI file and the environment.

The file format is the old project's `stashplexagent.config` extended with new sections, so a file
written for it works unchanged. Every key is declared once, as a field of its section's dataclass
(`setting(...)`); `KEYS` is built from those fields, and parsing, typo detection, the environment
overrides and the documentation checks all read it.
"""

from __future__ import annotations

import configparser
import difflib
import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar, Literal, NamedTuple, get_args
from urllib.parse import urlsplit

from stashplex.redaction import hide_url_password, redact, url_password
from stashplex.titleformat import DEFAULT as DEFAULT_TITLE_FORMAT
from stashplex.titleformat import TitleFormat, compile_format

DEFAULT_FILES = ("settings.ini", "stashplexagent.config")
POSTER_STYLES = ("letterbox", "blur")
# What a TV show is: a studio, a studio's top parent (its network), a group.
ShowBy = Literal["studio", "parent_studio", "group"]
SHOW_BY: tuple[ShowBy, ...] = get_args(ShowBy)


def show_by_of(text: str | None) -> ShowBy | None:
    """`text` as a `ShowBy`, if it is one."""
    for known in SHOW_BY:
        if text == known:
            return known
    return None


RATING_AS = ("audience", "user", "off")
CAST_ORDERS = ("stash", "name", "female_first", "male_first")
COLLECTION_SOURCES = (
    "group",
    "studio",
    "parent_studio",
    "network",
    "performer",
    "organized",
    "tags",
)


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


def _path(raw: str) -> Path:
    value = raw.strip()
    if not value:
        raise ValueError("expected a file or folder path")
    return Path(value)


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


def _title_format(raw: str) -> TitleFormat:
    return compile_format(raw)


def _cast_role(raw: str) -> str:
    """ "disambiguation", "none", or a fixed text given to every performer."""
    value = " ".join(raw.split())
    if value.lower() in ("disambiguation", "none", ""):
        return value.lower() or "none"
    if len(value) > 100:
        raise ValueError("expected disambiguation, none, or a text of at most 100 characters")
    return value


class CollectionSource(NamedTuple):
    """One source of `[metadata] collections`: what files a scene, and the name's prefix."""

    source: str  # one of COLLECTION_SOURCES, or "tag"
    tag: str = ""  # for "tag": the tag's id (digits) or its name, folded
    prefix: str = ""

    def __str__(self) -> str:
        name = f"tag:{self.tag}" if self.source == "tag" else self.source
        return f'{name} = "{self.prefix}"' if self.prefix else name


def _split_outside_quotes(raw: str) -> list[str]:
    """Items separated by commas or new lines; a comma inside double quotes is text."""
    items: list[str] = []
    current: list[str] = []
    quoted = False
    for char in raw:
        if char == '"':
            quoted = not quoted
        if (char in ",\n") and not quoted:
            items.append("".join(current))
            current = []
        else:
            current.append(char)
    if quoted:
        raise ValueError("a double quote is never closed")
    items.append("".join(current))
    return [item.strip() for item in items if item.strip()]


def _collections(raw: str) -> tuple[CollectionSource, ...]:
    """`group, studio = "Site: ", tag:Favourites`: sources, each with an optional prefix."""
    found: list[CollectionSource] = []
    for item in _split_outside_quotes(raw):
        name, has_prefix, prefix = item.partition("=")
        name, prefix = name.strip(), prefix.strip()
        if has_prefix and len(prefix) >= 2 and prefix[0] == prefix[-1] == '"':
            prefix = prefix[1:-1]  # quoted: keeps its spaces ("Site: ")
        elif '"' in prefix:
            raise ValueError(f"{item!r}: put the whole prefix in double quotes")
        kind, colon, tag = name.partition(":")
        kind = kind.strip().lower()
        if colon and kind == "tag" and tag.strip():
            source = CollectionSource("tag", " ".join(tag.split()).casefold(), prefix)
        elif not colon and kind in COLLECTION_SOURCES:
            source = CollectionSource(kind, "", prefix)
        else:
            raise ValueError(
                f"unknown collection source {name!r}; expected "
                + ", ".join(COLLECTION_SOURCES)
                + " or tag:<name or id>"
            )
        if any(s[:2] == source[:2] for s in found):
            raise ValueError(f"{name!r} is listed twice")
        found.append(source)
    return tuple(found)


def _word_list(raw: str) -> tuple[str, ...]:
    items = (item.strip() for item in raw.replace("\n", ",").split(","))
    return tuple(item for item in items if item)


PRIVATE_NETWORKS = (
    "127.0.0.0/8, ::1/128, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, fc00::/7, fe80::/10"
)
ANY_NETWORK = "any"


def _networks(raw: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """The allowed client networks; empty means the private ranges (a blank line must not open
    the provider to the internet), `any` means no check at all: () ."""
    items = _word_list(raw)
    if not items:
        items = _word_list(PRIVATE_NETWORKS)
    if any(item.lower() == ANY_NETWORK for item in items):
        if len(items) > 1:
            raise ValueError("'any' turns the check off: write it alone, or list networks")
        return ()
    nets: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for item in items:
        try:
            net = ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ValueError(
                f"{item!r} is not an IP network like 192.168.0.0/16 (or 'any')"
            ) from None
        mapped = net.network_address.ipv4_mapped if net.version == 6 else None
        if mapped is not None and net.prefixlen >= 96:  # ::ffff:a.b.c.d/n is an IPv4 network
            net = ipaddress.IPv4Network((mapped, net.prefixlen - 96), strict=False)
        nets.append(net)
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
    """One setting as it is written: where it lives in the file, how it is parsed, its docs."""

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


def setting(
    default: str,
    parse: Callable[[str], Any],
    doc: str = "",
    *,
    env: tuple[str, ...] = (),
    secret: bool = False,
) -> Any:
    """Declare a setting as a field of its section's dataclass: the one place a key is written.

    The section and name come from the class and the field; `KEYS` is built from these fields.
    """
    spec = {"default": default, "parse": parse, "doc": doc, "env": env, "secret": secret}
    return field(metadata={"setting": spec}, repr=not secret)


class Section:
    """Base of the section dataclasses: SECTION is the section's name in the file."""

    SECTION: ClassVar[str]

    @classmethod
    def finish(cls, values: dict[str, Any], base_dir: Path) -> dict[str, Any]:
        """Derive what depends on other keys or on where the file is; the identity by default."""
        return values


# --- the settings object: one dataclass per section, one field per key --------------------------


@dataclass(frozen=True)
class ServerSettings(Section):
    SECTION: ClassVar[str] = "plexagentserver"

    host: str = setting("0.0.0.0", _host, "address to listen on (:: for IPv6 and IPv4)")
    port: int = setting("7979", _int_range(1, 65535), "port to listen on")
    # 16: a thread waiting on Stash for an image must not leave metadata queued behind it
    # (scripts/bench_storm.py: p99 of matches 170 ms-1 s with 8 threads, 21 ms with 16).
    num_workers: int = setting("16", _int_range(1, 64), "request threads")
    poster_mode: bool = setting(
        "false", _bool, "give Plex 2:3 posters instead of 16:9 screenshots", env=("POSTER_MODE",)
    )
    agent_base_url: str | None = setting(
        "",
        _optional_url,
        "URL at which Plex reaches stashplex; empty: taken from each request",
        env=("AGENT_BASE_URL",),
    )
    allowed_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = setting(
        PRIVATE_NETWORKS,
        _networks,
        "client networks allowed to use the provider; empty: the private ranges; any: everyone",
    )


@dataclass(frozen=True)
class StashSettings(Section):
    SECTION: ClassVar[str] = "stash"

    # Always set once loaded: `finish` builds it from ip and port when the file leaves it empty.
    url: str = setting("", _optional_url, "full Stash URL", env=("STASH_HOST",))
    ip: str = setting("127.0.0.1", _host, "Stash host, used when url is empty")
    port: int = setting("9999", _int_range(1, 65535), "Stash port, used when url is empty")
    api_key: str | None = setting("", _optional_text, env=("STASH_API_KEY",), secret=True)
    debug: bool = setting("false", _bool, "log every Stash call", env=("DEBUG",))
    cache_ttl: int = setting(
        "300",
        _int_range(0, 7 * 86400),
        "seconds to remember that Stash had nothing for a request; 0 disables",
        env=("CACHE_TTL",),
    )
    timeout: float = setting("10", _number_range(0, 600, "seconds"), "seconds to wait for Stash")

    @classmethod
    def finish(cls, values: dict[str, Any], base_dir: Path) -> dict[str, Any]:
        if values["url"] is None:
            host = values["ip"]
            if ":" in host and not host.startswith("["):  # a bare IPv6 address
                host = f"[{host}]"
            values["url"] = f"http://{host}:{values['port']}"
        return values


@dataclass(frozen=True)
class PlexSettings(Section):
    SECTION: ClassVar[str] = "plex"

    url: str | None = setting("", _optional_url, "Plex Media Server URL", env=("PLEX_URL",))
    token: str | None = setting("", _optional_text, env=("PLEX_TOKEN",), secret=True)
    refresh_on_change: bool = setting(
        "false", _bool, "ask Plex to refresh items whose scene changed in Stash"
    )
    verify_tls: bool = setting(
        "true", _bool, "check the certificate of an https:// Plex URL; false accepts any"
    )
    reconcile_hours: int = setting(
        "24",
        _int_range(0, 24 * 30),
        "hours between walks of the Plex libraries that upload missing artwork; 0: never",
    )
    uploads_per_second: float = setting(
        "4", _number_range(0, 100, "uploads"), "most images uploaded to Plex per second"
    )

    @property
    def enabled(self) -> bool:
        return bool(self.url and self.token)


@dataclass(frozen=True)
class MirrorSettings(Section):
    SECTION: ClassVar[str] = "mirror"

    # Relative paths are resolved against the settings file's folder by `finish`.
    database: Path = setting("data/stashplex.db", _path, "SQLite mirror file")
    poster_dir: Path = setting("data/posters", _path, "folder for rendered posters")
    poster_style: str = setting("letterbox", _choice(POSTER_STYLES), "poster style")

    @classmethod
    def finish(cls, values: dict[str, Any], base_dir: Path) -> dict[str, Any]:
        for name in ("database", "poster_dir"):
            path = values[name].expanduser()
            values[name] = path if path.is_absolute() else base_dir / path
        return values


@dataclass(frozen=True)
class ImagesSettings(Section):
    SECTION: ClassVar[str] = "images"

    cache_mb: int = setting(
        "2048", _int_range(16, 1024 * 1024), "megabytes of Stash images kept on disk"
    )
    prefetch: bool = setting(
        "true", _bool, "after every sync, download the images Plex will ask for into the cache"
    )

    @property
    def cache_bytes(self) -> int:
        return self.cache_mb * 1024 * 1024


@dataclass(frozen=True)
class SyncSettings(Section):
    SECTION: ClassVar[str] = "sync"

    interval_minutes: float = setting(
        "15", _number_range(0.05, 7 * 24 * 60, "minutes"), "minutes between incremental syncs"
    )
    sweep_hours: int = setting("24", _int_range(1, 24 * 30), "hours between full id/path sweeps")
    page_size: int = setting("500", _int_range(25, 5000), "scenes per Stash request")
    webhook_token: str | None = setting(
        "",
        _optional_text,
        "token Stash's stashplex plugin sends to POST /sync/events; empty: the webhook is off",
        secret=True,
    )


@dataclass(frozen=True)
class MatchSettings(Section):
    SECTION: ClassVar[str] = "match"

    path_map: tuple[tuple[str, str], ...] = setting(
        "", _path_map, "'plex_prefix = stash_prefix' lines"
    )


@dataclass(frozen=True)
class MetadataSettings(Section):
    SECTION: ClassVar[str] = "metadata"

    content_rating: str = setting("XXX", _text, "content rating given to every item")
    ignore_tags: tuple[str, ...] = setting("", _word_list, "tags never sent as genres (comma list)")
    studio_as_collection: bool = setting("false", _bool, "also file scenes by studio")
    title_format: TitleFormat = setting(
        DEFAULT_TITLE_FORMAT, _title_format, "the title Plex shows, e.g. [{studio} - ]{title}"
    )
    rating: str = setting(
        "audience", _choice(RATING_AS), "Stash's rating as Plex's audience or user rating"
    )
    cast_role: str = setting(
        "disambiguation", _cast_role, "text under each performer: disambiguation, none or fixed"
    )
    cast_order: str = setting("stash", _choice(CAST_ORDERS), "order of the cast")
    require_organized: bool = setting("false", _bool, "offer Plex only scenes marked organized")
    require_stash_id: bool = setting("false", _bool, "offer Plex only scenes with a stash-box id")
    require_url: bool = setting("false", _bool, "offer Plex only scenes with a URL")
    collections: tuple[CollectionSource, ...] = setting(
        "group", _collections, "collections a scene is filed in (sources, optional prefixes)"
    )
    allow_tags: tuple[str, ...] = setting(
        "", _word_list, "only these tags become genres (names or ids; empty: all)"
    )
    deny_tags: tuple[str, ...] = setting("", _word_list, "tags never sent as genres (names or ids)")
    parent_tags: bool = setting("false", _bool, "a scene also has the tags above its own")

    @classmethod
    def finish(cls, values: dict[str, Any], base_dir: Path) -> dict[str, Any]:
        # The old switch stays an alias for listing studio (with no prefix).
        if values["studio_as_collection"] and not any(
            c.source == "studio" for c in values["collections"]
        ):
            values["collections"] = (*values["collections"], CollectionSource("studio"))
        return values


@dataclass(frozen=True)
class TvSettings(Section):
    SECTION: ClassVar[str] = "tv"

    show_by: ShowBy = setting("studio", _choice(SHOW_BY), "what a TV show is")


@dataclass(frozen=True)
class Settings:
    server: ServerSettings
    stash: StashSettings
    plex: PlexSettings
    mirror: MirrorSettings
    images: ImagesSettings
    sync: SyncSettings
    match: MatchSettings
    metadata: MetadataSettings
    tv: TvSettings
    dev: bool = False
    source: Path | None = None  # the file read, if any

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must never appear in logs, errors or responses: every key declared
        `secret=True`, and the password of any URL setting."""
        found: list[str] = []
        for key in KEYS:
            value = getattr(getattr(self, _ATTRS[key.section]), key.name)
            if key.secret and isinstance(value, str) and value:
                found.append(value)
            elif isinstance(value, str) and "://" in value:
                found.append(url_password(value) or "")
        return tuple(s for s in found if s)


def _sections() -> dict[str, type[Section]]:
    """Attribute of Settings -> its section class, in declaration order."""
    found: dict[str, type[Section]] = {}
    for f in fields(Settings):
        kind = f.type if isinstance(f.type, type) else globals().get(str(f.type))
        if isinstance(kind, type) and issubclass(kind, Section):
            found[f.name] = kind
    return found


SECTIONS = _sections()


def _keys() -> tuple[Key, ...]:
    keys = []
    for kind in SECTIONS.values():
        for f in fields(kind):  # type: ignore[arg-type]  # every Section subclass is a dataclass
            spec = f.metadata["setting"]
            keys.append(Key(kind.SECTION, f.name, **spec))
    return tuple(keys)


KEYS: tuple[Key, ...] = _keys()

KEYS_BY_SECTION: dict[str, dict[str, Key]] = {}
for _key in KEYS:
    KEYS_BY_SECTION.setdefault(_key.section, {})[_key.name] = _key

ENV_ONLY = {"DEV": "reload the service when its code changes (development)"}
ENV_PREFIX = "STASHPLEX_"
# STASHPLEX_ variables that are not keys: the file to read, and scripts/test's worker count.
ENV_OTHER = ("STASHPLEX_SETTINGS", "STASHPLEX_TEST_WORKERS")


# --- loading -----------------------------------------------------------------------------------


def find_settings_file(
    explicit: str | os.PathLike[str] | None, environ: Mapping[str, str]
) -> Path | None:
    """The file to read: --settings, else STASHPLEX_SETTINGS, else a default name in the cwd.

    STASHPLEX_SETTINGS may list several files separated by `os.pathsep`, the first that exists
    winning: the Docker image names the old agent's mount point before its own sample.
    """
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise SettingsError(f"{path}: settings file not found")
        return path
    listed = _env(environ, "STASHPLEX_SETTINGS")
    if listed:
        paths = [Path(item).expanduser() for item in listed.split(os.pathsep) if item.strip()]
        for path in paths:
            if path.is_file():
                return path
        raise SettingsError(f"{', '.join(map(str, paths))}: settings file not found")
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
    _check_environment(environ)

    values: dict[str, dict[str, Any]] = {}
    for key in KEYS:
        section = values.setdefault(key.section, {})
        env_name, env_value = _env_override(key, environ)
        if env_value is not None:
            section[key.name] = _parse(key, env_value, f"environment {env_name}")
        elif key.name in raw.get(key.section, {}):
            section[key.name] = _parse(
                key, raw[key.section][key.name], f"{label}: [{key.section}] {key.name}"
            )
        else:
            section[key.name] = _parse(key, key.default, f"default [{key.section}] {key.name}")

    try:
        dev = _bool(_env(environ, "DEV") or "false")
    except ValueError as exc:
        raise SettingsError(f"environment DEV = {_env(environ, 'DEV')!r}: {exc}") from None

    base_dir = file.parent if file is not None else Path.cwd()
    built: dict[str, Any] = {  # each attribute gets its own section class (see SECTIONS)
        attr: kind(**kind.finish(values[kind.SECTION], base_dir)) for attr, kind in SECTIONS.items()
    }
    return Settings(**built, dev=dev, source=file)


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


def _check_environment(environ: Mapping[str, str]) -> None:
    """A STASHPLEX_ variable that names no key is a typo, reported like a misspelt key."""
    known = {key.generic_env.removeprefix(ENV_PREFIX): key for key in KEYS}
    others = [name.removeprefix(ENV_PREFIX) for name in ENV_OTHER]
    for name in sorted(environ):
        if not name.startswith(ENV_PREFIX) or name in ENV_OTHER or _env(environ, name) is None:
            continue
        short = name.removeprefix(ENV_PREFIX)
        if short in known:
            continue
        hint = _closest(short, (*known, *others))  # the shared prefix would make all look alike
        hinted = known.get(hint) if hint else None
        secret = _looks_secret(short.lower(), hinted)
        shown = "<hidden>" if secret else redact(repr(environ[name].strip()))
        where = f"environment {name} = {shown}"
        if hint:
            raise SettingsError(f"{where}: unknown variable (did you mean {ENV_PREFIX}{hint}?)")
        raise SettingsError(
            f"{where}: unknown variable; a key is set as STASHPLEX_<SECTION>_<KEY>, "
            "e.g. STASHPLEX_SYNC_INTERVAL_MINUTES"
        )


def _looks_secret(name: str, meant: Key | None) -> bool:
    """A misspelt secret is still a secret."""
    return (meant is not None and meant.secret) or any(
        word in name for word in ("key", "token", "pass", "secret")
    )


def _parse(key: Key, raw: str, where: str) -> Any:
    try:
        return key.parse(raw)
    except ValueError as exc:
        shown = "<hidden>" if key.secret else redact(repr(raw.strip()))
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
                secret = _looks_secret(name, known[hint] if hint else None)
                shown = "<hidden>" if secret else redact(repr(value.strip()))
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


_ATTRS = {kind.SECTION: attr for attr, kind in SECTIONS.items()}


def _show(settings: Settings, key: Key) -> str:
    group = getattr(settings, _ATTRS[key.section])
    if key.section == "stash" and key.name in ("ip", "port"):
        return "(see url)"  # url is always set once loaded; ip and port only build it
    value = getattr(group, key.name)
    if key.secret:
        return "<set>" if value else "<not set>"
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if key.name == "allowed_networks" and not value:
        return ANY_NETWORK
    if key.name == "path_map":
        return "".join(f"\n    {plex} = {stash}" for plex, stash in value)
    if isinstance(value, tuple):
        return ", ".join(str(item) for item in value)
    return hide_url_password(str(value))
