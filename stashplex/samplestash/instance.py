"""``SampleStash``: library + faults + HTTP server, for tests, benchmarks and the demo.

    with SampleStash(scenes=300, seed=1) as stash:
        httpx.post(stash.url + "/graphql", json={"query": "{ version { version } }"})
        stash.library.edit_scene(5, title="New")   # bumps updated_at
        stash.faults.status(503, times=2)          # two failing requests

The same operations are available out of process on ``POST /__sample/control`` with a
JSON body ``{"op": ..., "args": {...}}`` (no auth); see :data:`CONTROL_OPS`. With a plugin
installed (``install_plugin``), edits made through ``control`` run its hooks as Stash would.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any

from .engine import Engine
from .faults import Faults
from .http_server import HTTPServer
from .library import Library
from .plugin_hooks import Plugin, PluginHooks, events_for
from .routes import SampleApp

Op = Callable[["SampleStash", dict[str, Any]], Any]


def _lib(method: str, *names: str) -> Op:
    """Control op calling ``library.<method>`` with positional ``names`` from args."""

    def op(stash: SampleStash, args: dict[str, Any]) -> Any:
        rest = dict(args)
        positional = [rest.pop(n) for n in names]
        return getattr(stash.library, method)(*positional, **rest)

    return op


def _faults(method: str) -> Op:
    return lambda stash, args: getattr(stash.faults, method)(**args)


def _down(stash: SampleStash, args: dict[str, Any]) -> Callable[[], None]:
    seconds = args.get("seconds")
    if seconds is None:
        raise ValueError("over HTTP, down needs 'seconds' (or nothing could bring it up)")
    return partial(stash.faults.down, float(seconds))


def _edit_scenes(stash: SampleStash, args: dict[str, Any]) -> int:
    """A bulk edit (Stash's bulkSceneUpdate): the same fields on many scenes."""
    fields = {k: v for k, v in args.items() if k != "ids"}
    ids = [int(i) for i in args["ids"]]
    for scene_id in ids:
        stash.library.edit_scene(scene_id, **fields)
    return len(ids)


def _plugin_settings(stash: SampleStash, args: dict[str, Any]) -> None:
    values = dict(args)
    plugin = str(values.pop("plugin"))
    with stash.library.lock:
        stash.library.plugin_settings[plugin] = values


def _after(stash: SampleStash, args: dict[str, Any]) -> Any:
    return stash.faults.after(int(args["requests"]), args["fault"], **(args.get("args") or {}))


def _info(stash: SampleStash, args: dict[str, Any]) -> dict[str, Any]:
    lib = stash.library
    return {
        "url": stash.url,
        "stash_version": lib.version.text,
        "os": lib.os_name,
        "scenes": lib.live_count(),
        "next_scene_id": lib.next_id,
        "performers": len(lib.performers),
        "studios": len(lib.studios),
        "tags": len(lib.tags),
        "groups": len(lib.groups),
        "now": lib.now(),
        "auth": stash.api_key is not None,
        "faults": stash.faults.state(),
    }


CONTROL_OPS: dict[str, Op] = {
    # library changes (timestamps follow Stash, see library.py)
    "edit_scene": _lib("edit_scene", "id"),
    "edit_scenes": _edit_scenes,
    "set_plugin_settings": _plugin_settings,
    "set_cover": _lib("set_cover", "id"),
    "remove_cover": _lib("remove_cover", "id"),
    "set_o_counter": _lib("set_o_counter", "id", "value"),
    "rename_performer": _lib("rename_performer", "id", "name"),
    "rename_studio": _lib("rename_studio", "id", "name"),
    "rename_tag": _lib("rename_tag", "id", "name"),
    "rename_group": _lib("rename_group", "id", "name"),
    "update_entity": _lib("update_entity", "kind", "id"),
    "delete_performer": _lib("delete_performer", "id"),
    "delete_tag": _lib("delete_tag", "id"),
    "merge_tags": _lib("merge_tags", "sources", "destination"),
    "move_file": _lib("move_file", "file_id"),
    "rename_folder": _lib("rename_folder", "old", "new"),
    "delete_scene": _lib("delete_scene", "id"),
    "add_scenes": _lib("add_scenes"),
    "advance": _lib("advance", "seconds"),
    "set_status": _lib("set_status", "status"),
    "report_version": _lib("report_version", "text"),
    "now": _lib("now"),
    # reads
    "scene": _lib("scene", "id"),
    "scene_ids": _lib("scene_ids"),
    "traps": _lib("traps"),
    "info": _info,
    # faults
    "latency": _faults("latency"),
    "status": _faults("status"),
    "invalid_json": _faults("invalid_json"),
    "graphql_errors": _faults("graphql_errors"),
    "unauthorized": _faults("unauthorized"),
    "drop": _faults("drop"),
    "after": _after,
    "down": _down,
    "clear": _faults("clear"),
}


class SampleStash:
    """A running sample Stash on ``host:port`` (port 0: a free port, kept across down/up)."""

    def __init__(
        self,
        scenes: int = 300,
        *,
        api_key: str | None = None,
        seed: int = 1,
        stash_version: str = "v0.30.1",
        os_name: str = "linux",
        utc_offset: str = "+02:00",
        host: str = "127.0.0.1",
        port: int = 0,
        clock: str = "manual",
        root: str | None = None,
    ) -> None:
        self.api_key = api_key or None
        self.library = Library(scenes, seed, stash_version, os_name, utc_offset, clock, root)
        self.faults = Faults(on_down=self._down, on_up=self._up)
        self.app = SampleApp(self.library, self.faults, self.api_key, self.control)
        self._server = HTTPServer(self.app, host, port)
        self._up_timer: threading.Timer | None = None
        self.hooks: PluginHooks | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> SampleStash:
        self._server.start()
        return self

    def stop(self) -> None:
        self._cancel_timer()
        self._server.stop()
        if self.hooks is not None:
            self.hooks.close()
            self.hooks = None

    def install_plugin(self, folder: Path, settings: dict[str, Any] | None = None) -> PluginHooks:
        """Load the plugin in `folder` (its YAML and script) with these plugin settings; edits
        made through `control` run its hooks from now on."""
        plugin = Plugin.load(Path(folder))
        with self.library.lock:
            self.library.plugin_settings[plugin.ident] = dict(settings or {})
        if self.hooks is not None:
            self.hooks.close()
        self.hooks = PluginHooks(plugin, self.server_connection)
        return self.hooks

    def server_connection(self) -> dict[str, Any]:
        """What Stash hands a plugin about itself (`server_connection`)."""
        connection: dict[str, Any] = {
            "Scheme": "http",
            "Host": self.host,
            "Port": self.port,
            "SessionCookie": None,  # Stash sends one when it has credentials set
            "Dir": str(Path.cwd()),
            "PluginDir": str(self.hooks.plugin.folder) if self.hooks else "",
        }
        if self.api_key:
            connection["ApiKey"] = self.api_key
        return connection

    def __enter__(self) -> SampleStash:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def host(self) -> str:
        return self._server.host

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._server.running

    # -- helpers -----------------------------------------------------------------------------
    def graphql(
        self, query: str, variables: dict[str, Any] | None = None, operation_name: str | None = None
    ) -> dict[str, Any]:
        """Run a query in process (no HTTP, no faults, no auth); returns the response body."""
        engine: Engine = self.app.engine
        payload = {"query": query, "variables": variables, "operationName": operation_name}
        return engine.run(payload, self.url, self.api_key, True)[1]

    def control(self, op: str, args: dict[str, Any]) -> Any:
        """Dispatch a control-route operation (see :data:`CONTROL_OPS`)."""
        handler = CONTROL_OPS.get(op)
        if handler is None:
            raise ValueError(f"unknown op {op!r}; known: {', '.join(sorted(CONTROL_OPS))}")
        result = handler(self, args)
        if self.hooks is not None:  # after the edit is done, like Stash's post hooks
            self.hooks.fire(events_for(op, args, result, self.library.version.at_least(0, 27)))
        return result

    def _down(self, seconds: float | None) -> None:
        self._cancel_timer()
        self._server.stop()
        if seconds is not None:
            self._up_timer = threading.Timer(seconds, self._server.start)
            self._up_timer.daemon = True
            self._up_timer.start()

    def _up(self) -> None:
        self._cancel_timer()
        self._server.start()

    def _cancel_timer(self) -> None:
        if self._up_timer is not None:
            self._up_timer.cancel()
            self._up_timer = None
