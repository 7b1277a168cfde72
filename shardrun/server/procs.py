"""How shardrun starts processes: fork, and the rules that make forking safe.

Only the supervisor calls `fork_child`. At the moment of fork the parent must hold no
ZeroMQ context, no thread but the main one and no isolate (a zmq context or a QuickJS
runtime does not survive fork; a thread would vanish mid-work). `fork_safety_problems()`
says what is wrong, and `fork_child` refuses to fork while anything is. Each child
creates its own zmq context, event loop, logging and isolates after it starts.
"""

from __future__ import annotations

import ctypes
import gc
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path

# Named exit codes: the supervisor decides by them whether to respawn.
EXIT_OK = 0
EXIT_CRASH = 1  # an unexpected exception: respawn
EXIT_BOOT_ERROR = 3  # the child could not start (bad config): halt instead of looping
EXIT_STUCK = 5  # the watchdog found JS that would not yield: respawn
EXIT_PARENT_GONE = 6  # the supervisor died: do not come back
EXIT_RECYCLE = 7  # a shard handed its slot over (RSS over its ceiling): respawn, not a crash

# Liveness: a child proves it is alive by touching its heartbeat file (the supervisor kills
# one whose file went stale); a shard recycling itself writes DRAINING into it.
ROUTER_HEARTBEAT = "router.hb"  # in the runtime dir
DRAINING = b"draining\n"
STALL_BEATS = 3  # a loop silent this many intervals (and not in a guarded JS turn) is stuck

_PR_SET_PDEATHSIG = 1
PR_SET_NO_NEW_PRIVS = 38


def fork_safety_problems() -> list[str]:
    """What in this process would make a fork unsafe (empty when it is safe)."""
    problems = []
    others = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    if others:
        problems.append(f"threads running: {others}")
    if "zmq" in sys.modules:
        import zmq

        live = [o for o in gc.get_objects() if isinstance(o, zmq.Context) and not o.closed]
        if live:
            problems.append(f"{len(live)} live zmq context(s)")
    engine = sys.modules.get("shardrun.engine.adapter")
    if engine is not None and engine.live_isolates():
        problems.append(f"{engine.live_isolates()} live isolate(s)")
    return problems


def fork_child(target: Callable[[], int], title: str) -> int:
    """Fork a child that runs target() and exits with its return code; returns the pid."""
    problems = fork_safety_problems()
    if problems:
        raise RuntimeError("refusing to fork: " + "; ".join(problems))
    parent = os.getpid()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        return pid
    code = EXIT_CRASH
    try:
        _die_with_parent(parent)
        set_title(title)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGCHLD):
            signal.signal(sig, signal.SIG_DFL)
        code = target()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else EXIT_CRASH
    except BaseException:
        traceback.print_exc()
        code = EXIT_CRASH
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def harden(max_address_mb: int, max_open_files: int) -> None:
    """Limits for a process that runs tenants' code: address space (0: unchanged), open files,
    and no new privileges (no setuid gain through exec, which JS cannot reach anyway)."""
    import resource

    if max_address_mb:
        cap = max_address_mb << 20
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    n = max_open_files if hard == resource.RLIM_INFINITY else min(max_open_files, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))
    try:
        ctypes.CDLL(None).prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - non-Linux
        pass


def trim_heap() -> None:
    """Return the free memory at the top of malloc's heaps to the system (glibc's malloc_trim)."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        pass


def set_title(title: str) -> None:
    """Process title, as ps shows it (`shardrun: shard 3`)."""
    try:
        import setproctitle

        setproctitle.setproctitle(title)
    except ImportError:  # pragma: no cover - the dependency is declared
        pass


def parent_alive(parent: int) -> bool:
    """False once the process that forked us is gone (we were re-parented)."""
    return os.getppid() == parent


def _die_with_parent(parent: int) -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # pragma: no cover - non-Linux
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(EXIT_PARENT_GONE)


def touch_heartbeat(path: Path) -> None:
    """Say "alive" through a heartbeat file (gone: the supervisor is cleaning up, nothing to say)."""
    try:
        os.utime(path)
    except FileNotFoundError:
        pass


class HeartbeatFile:
    """Touches a heartbeat file from a thread of its own, so a long JS turn does not look like death.

    It touches only while the main loop is alive in a way that counts: it called `alive()`
    within the last STALL_BEATS intervals, or `busy()` says it is inside a JS turn that the
    watchdog bounds (the watchdog ends the process if that turn overruns). A loop wedged
    anywhere else stops the touches, and the supervisor replaces the process.
    """

    def __init__(self, fd: int, every: float, busy: Callable[[], bool]) -> None:
        self.fd = fd
        self.every = every
        self.busy = busy
        self.progress = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="shardrun-heartbeat", daemon=True)

    def start(self) -> None:
        os.utime(self.fd)  # the first beat: the supervisor counts the process as ready from now
        self._thread.start()

    def alive(self, now: float | None = None) -> None:
        """The main loop made progress (cheap: one assignment; `now`, when the caller has the time)."""
        self.progress = time.monotonic() if now is None else now

    def mark_draining(self) -> None:
        """Tell the supervisor this process is handing its slot to a replacement."""
        os.pwrite(self.fd, DRAINING, 0)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=1)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            if time.monotonic() - self.progress <= STALL_BEATS * self.every or self.busy():
                os.utime(self.fd)
