"""Bring one Plex item's artwork up to date: what it should carry, against what was sent.

For a PMS item (its key) that carries one of our guids, each wanted image (`pms.pictures`) is
compared with the upload recorded in the mirror (`plex_uploads`):
- same item and same source (our path with its version): nothing to do, no image is read;
- otherwise the image is read (`fetch`, from the local cache or Stash) and hashed: bytes equal
  to those sent before are only recorded under the new source; anything else is uploaded.
Uploads go out at no more than `per_second`, shared by every caller (the on-demand uploader and
the reconciliation).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from stashplex.mirror.plex_uploads import PlexUploads
from stashplex.pms.api import PmsClient
from stashplex.pms.pictures import Pictures
from stashplex.posters.render import sniff_image

log = logging.getLogger(__name__)

PER_SECOND = 4.0


class PictureUnavailable(Exception):
    """The image cannot be read now (Stash down or slow); try again later."""


Fetch = Callable[[str], bytes | None]  # our image path -> its bytes, None: no such image


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@dataclass
class SendResult:
    uploaded: int = 0
    unchanged: int = 0  # already in PMS
    missing: int = 0  # no image to give


class RateLimit:
    """At most `per_second` events, spaced evenly, across threads."""

    def __init__(self, per_second: float, sleep: Callable[[float], object] = time.sleep) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.sleep = sleep
        self._lock = threading.Lock()
        self._next = 0.0

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            at = max(now, self._next)
            self._next = at + self.interval
        if at > now:
            self.sleep(at - now)


class ArtworkSender:
    def __init__(
        self,
        pms: PmsClient,
        uploads: PlexUploads,
        pictures: Pictures,
        fetch: Fetch,
        *,
        per_second: float = PER_SECOND,
    ) -> None:
        self.pms = pms
        self.uploads = uploads
        self.pictures = pictures
        self.fetch = fetch
        self.limit = RateLimit(per_second)
        self.sent = 0  # uploads made, for status pages and the CLI
        self._count_lock = threading.Lock()
        self._locks = [threading.Lock() for _ in range(64)]

    def send(self, plex_key: str, guid: str) -> SendResult:
        """Upload what the item lacks. Raises PictureUnavailable (nothing lost: the rows say
        what is still missing) and the client's PlexError."""
        # One sender per item at a time: the uploader and the walk may meet on one item, and
        # each must see what the other recorded, so nothing goes up twice.
        with self._locks[hash(plex_key) % len(self._locks)]:
            return self._send(plex_key, guid)

    def _send(self, plex_key: str, guid: str) -> SendResult:
        result = SendResult()
        wanted = self.pictures.wanted(guid)
        if not wanted:
            return result
        done = self.uploads.for_keys([plex_key])
        for kind, source in wanted.items():
            before = done.get((plex_key, kind))
            if before is not None and before.item == guid and before.source == source:
                result.unchanged += 1
                continue
            data = self.fetch(source)
            if data is None:
                result.missing += 1
                continue
            hashed = digest(data)
            if before is not None and before.item == guid and before.digest == hashed:
                self.uploads.record(plex_key, kind, guid, source, hashed)
                result.unchanged += 1
                continue
            self.limit.wait()
            self.pms.upload(plex_key, kind, data, sniff_image(data) or "image/jpeg")
            self.uploads.record(plex_key, kind, guid, source, hashed)
            result.uploaded += 1
            with self._count_lock:
                self.sent += 1
            log.debug("uploaded %s %s of %s to Plex item %s", kind, source, guid, plex_key)
        return result

    def is_current(self, plex_key: str, guid: str) -> bool:
        """Everything wanted is recorded as sent from its current source (no image read)."""
        wanted = self.pictures.wanted(guid)
        done = self.uploads.for_keys([plex_key])
        return all(
            (u := done.get((plex_key, kind))) is not None and u.item == guid and u.source == source
            for kind, source in wanted.items()
        )
