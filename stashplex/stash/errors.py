"""What can go wrong talking to Stash, one class per thing a user would fix differently.

Messages are one line, name the Stash URL (never the API key) and say what to check.
"""

from __future__ import annotations


class StashError(Exception):
    """Base class: Stash could not give a usable answer."""

    retryable = False


class StashUnreachable(StashError):
    """No HTTP answer at all: refused, timed out, DNS, TLS."""

    retryable = True


class StashServerError(StashError):
    """Stash answered 5xx (or another unexpected status)."""

    retryable = True


class StashAuthError(StashError):
    """Stash refused the API key, or wants one and none is configured."""


class StashQueryRejected(StashError):
    """This Stash version does not understand a query (validation or parse failure)."""


class StashDataError(StashError):
    """Stash ran the query and reported GraphQL errors for it."""


class StashBadResponse(StashError):
    """The answer is not what Stash sends: invalid JSON, wrong shape, wrong types."""

    retryable = True


class StashNotReady(StashError):
    """Stash is up but not usable yet (setup not done or a database migration pending)."""


class StashTooOld(StashError):
    """The Stash version is older than the oldest one stashplex supports."""
