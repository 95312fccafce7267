"""waitress's own error answers in the app's JSON shape.

waitress answers some requests before the app sees them: a malformed request line or header
(400), a body past its hard cap (413), headers too large (431). Its answers are plain text, and
PMS's parser breaks on anything but JSON, so these channels answer with the app's error body.
"""

from __future__ import annotations

from typing import Any

from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer
from waitress.task import ErrorTask

from stashplex.web.json_errors import body


class JsonErrorTask(ErrorTask):
    def execute(self) -> None:
        error = self.request.error
        data = body(error.code, error.reason, str(error.body or "") or None)
        self.status = f"{error.code} {error.reason}"
        self.response_headers.append(("Content-Type", "application/json"))
        self.set_close_on_finish()  # the request could not be read: the connection is spent
        self.content_length = len(data)
        self.write(data)


class JsonErrorChannel(HTTPChannel):
    error_task_class = JsonErrorTask


def answer_errors_in_json(sockets: dict[Any, Any]) -> None:
    """Make the listening servers in a waitress socket map use `JsonErrorChannel`."""
    for item in list(sockets.values()):
        if isinstance(item, BaseWSGIServer):
            item.channel_class = JsonErrorChannel
