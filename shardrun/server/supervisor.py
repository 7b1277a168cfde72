"""The supervisor: the only process that forks, reaps, respawns and kills.

Like gunicorn's Arbiter: signal handlers only queue the signal; the main loop dispatches
(`handle_chld`, `handle_term`, `handle_hup`, ...), reaps children, kills the router or a
shard whose heartbeat file went stale (SIGABRT, then SIGKILL), starts the replacement of a
shard that wrote "draining" into its file (it recycles itself: RSS over its ceiling), and
respawns what died, with a brake on crash loops. It holds no zmq context, no threads and no isolates, so forking is safe.
It tells the router about dead shards through a pipe, so their requests fail at once.
"""

from __future__ import annotations

import logging
import os
import queue
import shutil
import signal
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path

from shardrun import logs
from shardrun.server.procs import (
    EXIT_BOOT_ERROR,
    EXIT_OK,
    EXIT_PARENT_GONE,
    EXIT_RECYCLE,
    EXIT_STUCK,
    ROUTER_HEARTBEAT,
    fork_child,
    set_title,
)
from shardrun.settings import Settings, load_settings

log = logging.getLogger("shardrun.supervisor")

LOOP_SECONDS = 0.05
KILL_AFTER_ABORT_S = 1.0
BOOT_GRACE_S = 5.0  # a child that never beat yet may take this long to start (if the timeout is shorter)
ROLL_READY_TIMEOUT_S = 30.0
MAX_BACKOFF_S = 30.0
SOURCE_SLOTS = {"postgres": -2, "nats": -3, "cron": -4}  # slot numbers of the task-source children (the router is -1)


@dataclass
class Child:
    """One child process."""

    role: str  # "router", "shard" or "source"
    slot: int
    gen: int
    pid: int
    started: float
    heartbeat: Path | None = None
    aborted_at: float | None = None
    retiring: bool = False  # replaced by a newer generation: its exit is not a death


@dataclass
class Roll:
    """A shard slot being replaced by a new generation (SIGHUP)."""

    slot: int
    new: int
    old: int | None
    deadline: float


@dataclass
class SlotHistory:
    deaths: deque[float] = field(default_factory=deque)
    backoff: float = 0.0
    respawn_at: float = 0.0
    boot_errors: int = 0


class Supervisor:
    """Owns every child of `shardrun serve`."""

    def __init__(self, settings: Settings, config: str | None = None, flags: dict[str, object] | None = None) -> None:
        self.settings = settings
        self.config = config
        self.flags = flags or {}  # serve settings given on the command line: they survive a reload
        self.serve = settings.serve
        self.signals: queue.SimpleQueue[int] = queue.SimpleQueue()
        self.children: dict[int, Child] = {}
        self.history: dict[int, SlotHistory] = {}
        self.gen = 0
        self.rolling: deque[int] = deque()
        self.roll: Roll | None = None
        self.stopping = False
        self.stop_deadline = 0.0
        self.exit_code = EXIT_OK
        self.own_dir = self.serve.runtime_dir is None
        self.dir = Path(tempfile.mkdtemp(prefix="shardrun-")) if self.own_dir else Path(self.serve.runtime_dir)  # type: ignore[arg-type]
        self.dir.mkdir(parents=True, exist_ok=True)
        self.spawns = count()  # heartbeat files are unique: a shard and its replacement overlap
        if self.own_dir:  # the children find their heartbeat files (the router's) here
            self._set_settings(
                settings.model_copy(update={"serve": self.serve.model_copy(update={"runtime_dir": self.dir})})
            )
        self.backend = f"ipc://{self.dir}/backend.ipc"
        if not self.serve.client_endpoint:  # an ipc socket of this node (task-source nodes need no TCP port)
            self._set_settings(
                self.settings.model_copy(
                    update={"serve": self.serve.model_copy(update={"client_endpoint": f"ipc://{self.dir}/client.ipc"})}
                )
            )
        self.sources = settings.sources.enabled()
        # Every process of this server writes its metrics here; set before any child imports the client.
        self.metrics_dir = self.dir / "metrics"
        shutil.rmtree(self.metrics_dir, ignore_errors=True)
        self.metrics_dir.mkdir()
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(self.metrics_dir)
        self.notify_r, self.notify_w = os.pipe()
        os.set_blocking(self.notify_w, False)
        self.pid = os.getpid()

    def _set_settings(self, settings: Settings) -> None:
        self.settings = settings
        self.serve = settings.serve

    # ---- lifecycle --------------------------------------------------------------------
    def run(self) -> int:
        """Start everything, then supervise until stopped. Returns the exit code."""
        set_title(f"shardrun: supervisor ({self.serve.shards} shards, {self.serve.mode})")
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGCHLD, signal.SIGQUIT):
            signal.signal(signum, self._enqueue)
        self.spawn_router()
        for slot in range(self.serve.shards):
            self.spawn_shard(slot)
        for name in self.sources:
            self.spawn_source(name)
        log.info(
            "serving %s workers from %s on %s (%d shards, mode %s)",
            len(os.listdir(self.serve.workers)),
            self.serve.workers,
            self.serve.client_endpoint,
            self.serve.shards,
            self.serve.mode,
        )
        try:
            while True:
                try:
                    sig = self.signals.get(timeout=LOOP_SECONDS)
                    self.dispatch(sig)
                    continue
                except queue.Empty:
                    pass
                self.reap_children()
                if self.stopping:
                    if not self.children:
                        return self.exit_code
                    self.stop_children()
                    continue
                self.murder_stale()
                self.manage_children()
        finally:
            self.cleanup()

    def _enqueue(self, signum: int, frame: object) -> None:
        self.signals.put(signum)  # no logging here, just queue the signal

    def dispatch(self, sig: int) -> None:
        {
            signal.SIGCHLD: self.handle_chld,
            signal.SIGTERM: self.handle_term,
            signal.SIGINT: self.handle_int,
            signal.SIGQUIT: self.handle_int,
            signal.SIGHUP: self.handle_hup,
        }[signal.Signals(sig)]()

    def handle_chld(self) -> None:
        self.reap_children()

    def handle_term(self) -> None:
        """Graceful stop: the task sources stop claiming and finish what they run; then the
        router stops intake and drains; then the shards go."""
        if self.stopping:
            return self.handle_int()
        log.info("stopping: draining for up to %gs", self.serve.graceful_timeout_s)
        self.stopping = True
        self.stop_deadline = time.monotonic() + self.serve.drain_s + 2 * self.serve.graceful_timeout_s + 2
        self.stop_children()

    def handle_int(self) -> None:
        """Forced stop (second SIGTERM, or SIGINT/SIGQUIT)."""
        log.info("stopping now")
        self.stopping = True
        self.stop_deadline = 0.0
        for c in self.children.values():
            self._kill(c.pid, signal.SIGKILL)

    def handle_hup(self) -> None:
        """Reload the settings and roll the shards one at a time."""
        try:
            new = load_settings(self.config)
            # The command line's flags still win; the shape of the server (shard count, runtime
            # dir, endpoints, which the router holds) is what it started with.
            kept = {
                k: getattr(self.serve, k)
                for k in ("shards", "runtime_dir", "client_endpoint", "http_host", "http_port", "admin_port")
            }
            serve = new.serve.model_validate({**new.serve.model_dump(), **self.flags, **kept})
            # Task sources keep what they started with (their flags are not in the file).
            new = new.model_copy(update={"serve": serve, "sources": self.settings.sources})
        except Exception as exc:
            log.error("reload failed, keeping the old settings: %s", exc)
            return
        self._set_settings(new)
        self.gen += 1
        log.info("reloaded settings; rolling shards to generation %d, one at a time", self.gen)
        self.rolling = deque(range(self.serve.shards))

    def stop_children(self) -> None:
        sources = [c for c in self.children.values() if c.role == "source"]
        routers = [c for c in self.children.values() if c.role == "router"]
        for c in sources + (routers if not sources else []):
            if c.aborted_at is None:
                self._kill(c.pid, signal.SIGTERM)
                c.aborted_at = time.monotonic()
        if not routers:
            for c in self.children.values():
                if c.role == "shard" and c.aborted_at is None:
                    self._kill(c.pid, signal.SIGTERM)
                    c.aborted_at = time.monotonic()
        if time.monotonic() > self.stop_deadline:
            for c in self.children.values():
                self._kill(c.pid, signal.SIGKILL)

    # ---- children -----------------------------------------------------------------------
    def spawn_router(self) -> None:
        settings, backend, fd, parent = self.settings, self.backend, self.notify_r, self.pid
        hb = self._new_heartbeat(self.dir / ROUTER_HEARTBEAT)
        pid = fork_child(lambda: _router_main(settings, backend, fd, parent), "shardrun: router")
        self.children[pid] = Child("router", -1, self.gen, pid, time.monotonic(), hb)

    def spawn_shard(self, slot: int) -> int:
        hb = self._new_heartbeat(self.dir / f"shard-{slot}-g{self.gen}-{next(self.spawns)}.hb")
        settings, gen, backend, parent = self.settings, self.gen, self.backend, self.pid
        pid = fork_child(lambda: _shard_main(settings, slot, gen, backend, hb, parent), f"shardrun: shard {slot}")
        self.children[pid] = Child("shard", slot, self.gen, pid, time.monotonic(), hb)
        return pid

    def spawn_source(self, name: str) -> None:
        settings, endpoint, parent = self.settings, self.serve.client_endpoint, self.pid
        pid = fork_child(lambda: _source_main(settings, name, endpoint, parent), f"shardrun: source {name}")
        self.children[pid] = Child("source", SOURCE_SLOTS[name], self.gen, pid, time.monotonic())

    def _new_heartbeat(self, hb: Path) -> Path:
        hb.unlink(missing_ok=True)
        hb.touch()
        os.utime(hb, (0, 0))  # "never beat": the child's first heartbeat says it is ready
        return hb

    def _ready(self, c: Child) -> bool:
        try:
            return c.heartbeat is not None and c.heartbeat.stat().st_mtime > 0
        except FileNotFoundError:
            return False

    def manage_roll(self) -> None:
        """SIGHUP: replace shards one at a time; the old one goes only once the new one is ready."""
        now = time.monotonic()
        if self.roll is not None:
            new = self.children.get(self.roll.new)
            if new is not None and self._ready(new):
                old = self.children.get(self.roll.old) if self.roll.old is not None else None
                if old is not None:
                    old.retiring = True
                    self._kill(old.pid, signal.SIGTERM)  # it drains what it runs, then exits
                log.info("shard %d rolled to generation %d (pid %d)", self.roll.slot, new.gen, new.pid)
                self.roll = None
            elif new is None or now > self.roll.deadline:
                log.error("the new shard %d never became ready: keeping the old one, stopping the roll", self.roll.slot)
                if new is not None:
                    new.retiring = True
                    self._kill(new.pid, signal.SIGKILL)
                self.roll, self.rolling = None, deque()
            return
        if self.rolling:
            slot = self.rolling.popleft()
            old_pid = next(
                (c.pid for c in self.children.values() if c.role == "shard" and c.slot == slot and not c.retiring), None
            )
            self.roll = Roll(slot, self.spawn_shard(slot), old_pid, now + ROLL_READY_TIMEOUT_S)

    def reap_children(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            child = self.children.pop(pid, None)
            if child is None:
                continue
            self._metrics_dead(pid)
            code = os.waitstatus_to_exitcode(status)
            why = f"exit code {code}" if code >= 0 else f"killed by {signal.Signals(-code).name}"
            if child.role == "shard":
                self._notify(f"dead {child.slot} {pid} {why}\n")
            if child.heartbeat is not None:
                child.heartbeat.unlink(missing_ok=True)
            if self.stopping or child.retiring:
                if child.retiring and code == EXIT_RECYCLE:
                    log.info("shard %d (pid %d) recycled itself (exit code %d)", child.slot, pid, code)
                continue
            log.warning("%s %s (pid %d) exited: %s", child.role, "" if child.slot < 0 else child.slot, pid, why)
            self._schedule_respawn(child, code)

    def _schedule_respawn(self, child: Child, code: int) -> None:
        h = self.history.setdefault(child.slot, SlotHistory())
        now = time.monotonic()
        if code == EXIT_BOOT_ERROR:
            h.boot_errors += 1
            if h.boot_errors >= 2:
                log.error("%s cannot start (boot error twice): stopping the server", child.role)
                self.exit_code = EXIT_BOOT_ERROR
                self.handle_term()
                return
        if code == EXIT_PARENT_GONE:
            return
        if code in (EXIT_STUCK, EXIT_RECYCLE):  # replaced over one request / its memory: not a crash loop
            h.respawn_at = now
            return
        h.deaths.append(now)
        while h.deaths and now - h.deaths[0] > self.serve.respawn_window_s:
            h.deaths.popleft()
        if len(h.deaths) >= self.serve.respawn_burst:
            h.backoff = min(MAX_BACKOFF_S, max(0.5, h.backoff * 2))
            log.error(
                "slot %d died %d times in %gs: waiting %.1fs before respawning",
                child.slot,
                len(h.deaths),
                self.serve.respawn_window_s,
                h.backoff,
            )
        else:
            h.backoff = 0.0
        h.respawn_at = now + h.backoff

    def manage_children(self) -> None:
        """Start what is missing (router, shard slots) once its respawn time has come."""
        now = time.monotonic()
        self.manage_roll()
        roles = {(c.role, c.slot) for c in self.children.values() if not c.retiring}
        if ("router", -1) not in roles and now >= self.history.get(-1, SlotHistory()).respawn_at:
            self.spawn_router()
        for slot in range(self.serve.shards):
            if ("shard", slot) not in roles and now >= self.history.get(slot, SlotHistory()).respawn_at:
                self.spawn_shard(slot)
        for name in self.sources:
            slot = SOURCE_SLOTS[name]
            if ("source", slot) not in roles and now >= self.history.get(slot, SlotHistory()).respawn_at:
                self.spawn_source(name)

    def murder_stale(self) -> None:
        """Kill the router or a shard whose heartbeat file is older than the timeout: SIGABRT, then
        SIGKILL. A shard that marked its file draining gets its replacement started now."""
        now_wall, now = time.time(), time.monotonic()
        limit = self.serve.heartbeat_timeout_ms / 1000
        for c in list(self.children.values()):
            if c.heartbeat is None:
                continue
            if c.aborted_at is not None:
                if now - c.aborted_at > KILL_AFTER_ABORT_S:
                    self._kill(c.pid, signal.SIGKILL)
                continue
            try:
                st = c.heartbeat.stat()
            except FileNotFoundError:
                continue
            age = now_wall - st.st_mtime
            what = "router" if c.role == "router" else f"shard {c.slot}"
            if age > limit and now - c.started > (limit if st.st_mtime else max(limit, BOOT_GRACE_S)):
                log.error("%s (pid %d) missed heartbeats for %.1fs: aborting it", what, c.pid, age)
                c.aborted_at = now
                self._kill(c.pid, signal.SIGABRT)
            elif st.st_size and c.role == "shard" and not c.retiring:
                log.warning(
                    "%s (pid %d) is recycling itself (RSS over its ceiling): starting its replacement", what, c.pid
                )
                c.retiring = True  # manage_children starts the new one; the old one drains and exits

    def _metrics_dead(self, pid: int) -> None:
        """The live gauges of a dead process must not count any more."""
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid, str(self.metrics_dir))

    def _kill(self, pid: int, sig: int) -> None:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass

    def _notify(self, line: str) -> None:
        try:
            os.write(self.notify_w, line.encode())
        except (BlockingIOError, BrokenPipeError):
            log.warning("could not tell the router: %s", line.strip())

    def cleanup(self) -> None:
        for c in self.children.values():
            self._kill(c.pid, signal.SIGKILL)
        os.close(self.notify_r)
        os.close(self.notify_w)
        if self.own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)


# The children import their modules after fork: the supervisor never loads zmq or quickjs.
def _router_main(settings: Settings, backend: str, fd: int, parent: int) -> int:
    from shardrun.server.router import run_router

    return run_router(settings, backend, fd, parent)


def _source_main(settings: Settings, name: str, endpoint: str, parent: int) -> int:
    from shardrun.sources.process import run_source

    return run_source(settings, name, endpoint, parent)


def _shard_main(settings: Settings, slot: int, gen: int, backend: str, hb: Path, parent: int) -> int:
    from shardrun.server.shard import ShardPlace, run_shard

    return run_shard(settings, ShardPlace(slot, gen, backend, hb, parent))


def run_supervisor(settings: Settings, config: str | None = None, flags: dict[str, object] | None = None) -> int:
    """`shardrun serve`."""
    logs.configure("supervisor", settings.serve.log_level)
    from shardrun import tracing

    tracing.check(settings)  # traces on without OpenTelemetry installed: a usage error now, not in a child
    return Supervisor(settings, config, flags).run()
