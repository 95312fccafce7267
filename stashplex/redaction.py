"""The one redaction every text leaving the process goes through: log records, command output,
`/status`, `/health`, error bodies, and the run errors stored in the mirror.

It hides the values of the settings marked secret (`Settings.secrets`: API key, Plex token, ...),
secret-looking URL parameters (`?apikey=`, `X-Plex-Token=`) and the password of any URL
(`http://user:pass@host` -> `http://user:***@host`); and it makes the text encodable, replacing
lone surrogates (which Stash's JSON, a file name or an exception can carry) so no page, log line
or SQLite write fails on it. The secrets are process-wide: every entry point registers its
settings' secrets as soon as they are loaded (`register`).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from urllib.parse import urlsplit

REDACTED = "<redacted>"
HIDDEN_PASSWORD = "***"
MIN_SECRET = 4  # shorter values would redact ordinary words; no real key is that short

# Query-string keys whose values are secret whatever they hold.
_SECRET_PARAMS = re.compile(r"(?i)\b(apikey|api_key|x-plex-token|token)=([^&\s'\"]+)")
# scheme://user:password@ -- the password is whatever lies between the first ':' of the
# authority and its last '@' (passwords may hold '@' when not percent-encoded).
_SURROGATE = re.compile("[\ud800-\udfff]")
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s/:@'\"<>]*):([^\s/'\"<>]*)@")


def url_password(url: str | None) -> str | None:
    """The password part of a URL, if it has one."""
    if not url:
        return None
    try:
        return urlsplit(url).password or None
    except ValueError:
        return None


def hide_url_password(text: str) -> str:
    """Every `scheme://user:password@` in `text` with the password replaced by ***."""
    return _URL_PASSWORD.sub(lambda m: f"{m.group(1)}:{HIDDEN_PASSWORD}@", text)


def encodable(text: str) -> str:
    """`text` with anything UTF-8 cannot encode (lone surrogates) replaced by U+FFFD."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # in a str, every surrogate is a lone one (pairs are combined)
        return _SURROGATE.sub("\ufffd", text)
    return text


class Redactor:
    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._secrets: tuple[str, ...] = ()
        self._lock = threading.Lock()
        self.register(secrets)

    def register(self, secrets: Iterable[str | None]) -> None:
        """Add values to hide from now on (None, empty and very short values are ignored)."""
        with self._lock:
            known = set(self._secrets)
            known.update(s for s in secrets if s and len(s) >= MIN_SECRET)
            # Longest first: a secret containing another is replaced whole.
            self._secrets = tuple(sorted(known, key=len, reverse=True))

    def __call__(self, text: str) -> str:
        text = hide_url_password(encodable(text))
        for secret in self._secrets:  # a tuple swapped whole by register: no lock needed
            if secret in text:
                text = text.replace(secret, REDACTED)
        return _SECRET_PARAMS.sub(lambda m: f"{m.group(1)}={REDACTED}", text)


_process = Redactor()


def register(secrets: Iterable[str | None]) -> None:
    """Hide these values in everything the process says from now on."""
    _process.register(secrets)


def redact(text: str) -> str:
    """`text` as it may leave the process."""
    return _process(text)


def redact_optional(text: str | None) -> str | None:
    return None if text is None else _process(text)
