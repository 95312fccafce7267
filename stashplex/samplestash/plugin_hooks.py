"""Running a Stash plugin's hooks the way Stash does, for edits made through the control route.

Install a plugin folder with `SampleStash.install_plugin(folder, settings)`. From then on every
control-route edit (`edit_scene`, `edit_scenes`, renames, deletions, `merge_tags`,
`add_scenes`...) fires the hooks whose `triggeredBy` lists its trigger, once per object like
Stash (a bulk edit of 1,000 scenes runs the hook 1,000 times), one after another in the order
of the edits: the plugin's `exec` runs with `{pluginDir}` filled in and `python` meaning this
interpreter, and gets Stash's JSON on stdin (`server_connection` and `args.hookContext` with
`id`, `type`, `input`, `inputFields`). Its settings are served by `configuration { plugins }`.

Only the few YAML keys a raw-interface plugin needs are read (`exec`, `triggeredBy`), as block
lists of plain or quoted strings.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HOOK_TIMEOUT = 60.0

Event = tuple[str, int, dict[str, Any], list[str]]  # trigger, id, input, inputFields


@dataclass
class HookRun:
    trigger: str
    ident: int
    returncode: int | None
    output: Any
    log: list[tuple[str, str]]  # (level letter, message) from Stash's plugin log protocol
    seconds: float


@dataclass
class Plugin:
    ident: str
    folder: Path
    exec: list[str]
    triggers: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, folder: Path) -> Plugin:
        folder = folder.resolve()
        (config,) = sorted(folder.glob("*.yml"))
        lists = _block_lists(config.read_text(encoding="utf-8"))
        if not lists.get("exec"):
            raise ValueError(f"{config}: no exec list")
        return cls(config.stem, folder, lists["exec"], set(lists.get("triggeredBy", ())))

    def command(self) -> list[str]:
        argv = [part.replace("{pluginDir}", str(self.folder)) for part in self.exec]
        if argv[0] in ("python", "python3"):  # Stash runs its configured Python
            argv[0] = sys.executable
        return argv


def _block_lists(text: str) -> dict[str, list[str]]:
    lists: dict[str, list[str]] = {}
    current: str | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("- ") and current is not None:
            lists[current].append(stripped[2:].strip().strip("\"'"))
            continue
        key, sep, value = stripped.partition(":")
        current = key.strip().lstrip("- ") if sep and not value.strip() else None
        if current is not None:
            lists.setdefault(current, [])
    return lists


def parse_log(stderr: str) -> list[tuple[str, str]]:
    """Stash's plugin log lines: SOH, a level letter, STX, the message; anything else is an
    error line, as Stash takes it."""
    lines = []
    for line in stderr.splitlines():
        if line.startswith("\x01") and len(line) > 2 and line[2] == "\x02":
            lines.append((line[1], line[3:]))
        elif line.strip():
            lines.append(("e", line))
    return lines


def events_for(op: str, args: dict[str, Any], result: Any, groups: bool) -> list[Event]:
    """The hooks Stash fires for an edit made by a control-route operation. From v0.27 (`groups`)
    a group edit fires both the Group hook and, for older plugins, the Movie one."""
    events = _events_for(op, args, result)
    if not groups:
        return [_as_movie(event) for event in events]
    return [*events, *(_as_movie(event) for event in events if event[0].startswith("Group."))]


def _as_movie(event: Event) -> Event:
    hook, ident, body, fields = event
    return (hook.replace("Group.", "Movie.", 1), ident, body, fields)


def _events_for(op: str, args: dict[str, Any], result: Any) -> list[Event]:
    kinds = {"performer": "Performer", "studio": "Studio", "tag": "Tag", "group": "Group"}
    ident = int(args["id"]) if "id" in args else 0

    def scene_fields(extra: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        fields = {k: v for k, v in extra.items() if k not in ("id", "ids")}
        return fields, sorted(fields)

    if op == "edit_scene":
        fields, names = scene_fields(args)
        return [("Scene.Update.Post", ident, {"id": str(ident), **fields}, ["id", *names])]
    if op == "edit_scenes":  # bulkSceneUpdate: one hook per scene, each with the bulk input
        fields, names = scene_fields(args)
        ids = [int(i) for i in args["ids"]]
        bulk = {"ids": [str(i) for i in ids], **fields}
        return [("Scene.Update.Post", i, bulk, ["ids", *names]) for i in ids]
    if op in ("set_cover", "remove_cover"):
        body = {"id": str(ident), "cover_image": "data:image/jpeg;base64,..."}
        return [("Scene.Update.Post", ident, body, ["id", "cover_image"])]
    if op == "delete_scene":
        return [("Scene.Destroy.Post", ident, {"id": str(ident)}, ["id"])]
    if op == "add_scenes":  # a scan creating scenes
        return [("Scene.Create.Post", int(i), {}, []) for i in result or ()]
    for kind, name in kinds.items():
        if op == f"rename_{kind}":
            body = {"id": str(ident), "name": args["name"]}
            return [(f"{name}.Update.Post", ident, body, ["id", "name"])]
        if op == f"delete_{kind}":
            return [(f"{name}.Destroy.Post", ident, {"id": str(ident)}, ["id"])]
    if op == "update_entity":
        body = {k: v for k, v in args.items() if k != "kind"}
        name = kinds[str(args["kind"])]
        return [(f"{name}.Update.Post", ident, {**body, "id": str(ident)}, sorted(body))]
    if op == "merge_tags":  # the destination's id; the merged-away tags only in the input
        destination = int(args["destination"])
        merged: dict[str, Any] = {
            "source": [str(s) for s in args["sources"]],
            "destination": str(destination),
        }
        return [("Tag.Merge.Post", destination, merged, [])]
    return []


class PluginHooks:
    """One plugin's hooks, run one at a time on a worker thread, in the order of the edits."""

    def __init__(
        self,
        plugin: Plugin,
        connection: Callable[[], dict[str, Any]],
        *,
        timeout: float = HOOK_TIMEOUT,
    ) -> None:
        self.plugin = plugin
        self.connection = connection  # server_connection, built when each hook runs
        self.timeout = timeout
        self.runs: list[HookRun] = []
        self.on_run: list[Callable[[HookRun], None]] = []
        self._queue: queue.Queue[Event | None] = queue.Queue()
        self._pending = 0
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._work, name="sample-stash-hooks", daemon=True)
        self._thread.start()

    def fire(self, events: Iterable[Event]) -> int:
        wanted = [e for e in events if e[0] in self.plugin.triggers]
        with self._cond:
            self._pending += len(wanted)
        for event in wanted:
            self._queue.put(event)
        return len(wanted)

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until every fired hook has run; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self._pending == 0, timeout)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(self.timeout + 5)

    def _work(self) -> None:
        while True:
            event = self._queue.get()
            if event is None:
                return
            try:
                run = self._run(event)
                self.runs.append(run)
                for listener in self.on_run:
                    listener(run)
            finally:
                with self._cond:
                    self._pending -= 1
                    self._cond.notify_all()

    def _run(self, event: Event) -> HookRun:
        trigger, ident, body, fields = event
        payload = {
            "server_connection": self.connection(),
            "args": {
                "hookContext": {"id": ident, "type": trigger, "input": body, "inputFields": fields}
            },
        }
        started = time.monotonic()
        try:
            done = subprocess.run(
                self.plugin.command(),
                input=json.dumps(payload),
                capture_output=True,
                text=True,
                timeout=self.timeout,
                cwd=self.plugin.folder,
            )
        except subprocess.TimeoutExpired as exc:
            stderr = exc.stderr.decode() if isinstance(exc.stderr, bytes) else exc.stderr or ""
            log = [*parse_log(stderr), ("e", f"killed after {self.timeout:g}s")]
            return HookRun(trigger, ident, None, None, log, time.monotonic() - started)
        try:
            output = json.loads(done.stdout) if done.stdout.strip() else None
        except ValueError:
            output = done.stdout
        return HookRun(
            trigger,
            ident,
            done.returncode,
            output,
            parse_log(done.stderr),
            time.monotonic() - started,
        )
