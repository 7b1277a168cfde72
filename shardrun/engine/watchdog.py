"""The last line of the CPU limit: a thread that watches JS turns which will not yield.

The engine checks a turn's CPU deadline at its interrupt poll (every 100 interpreter
ticks), so a single native call that runs long (a huge `indexOf`, a regexp) can run past
it. The GIL is released while JS runs, so this thread keeps running: it reads the JS
thread's own CPU clock and, when an armed turn has used more than its allowance, first
calls the turn's `interrupt` (the engine stops at its next poll, the turn fails with
E_CPU_LIMIT) and, if the turn is still running `grace` seconds later, calls `on_stuck`,
which ends the process (the CLI reports E_CPU_LIMIT and exits; a shard exits and its
supervisor replaces it).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, NamedTuple

POLL_SECONDS = 0.01


class Watchdog:
    """Watches one thread's JS turns; calls on_stuck(subject) on an overrun."""

    def __init__(self, on_stuck: Callable[[Any], None], poll: float = POLL_SECONDS) -> None:
        self._on_stuck = on_stuck
        self._poll = poll
        self._armed: _Turn | None = None
        self._stop = threading.Event()
        self._clocks: dict[int, int] = {}
        self._thread = threading.Thread(target=self._run, name="shardrun-watchdog", daemon=True)
        self._thread.start()

    def arm(
        self, allowance: float, subject: Any, interrupt: Callable[[], None] | None = None, grace: float = 0.0
    ) -> None:
        """The calling thread starts a turn that may use `allowance` CPU seconds; past it the
        watchdog calls `interrupt` and, `grace` CPU seconds later, on_stuck(subject).

        Cheap on purpose (it runs once per turn): the watchdog thread reads the CPU clock
        when it first sees a turn, so a turn's first poll interval is not counted; the
        grace in the allowance covers that.
        """
        self._armed = _Turn(threading.get_ident(), allowance, subject, interrupt, grace)

    @property
    def busy(self) -> bool:
        """A turn is armed: the calling thread is running JS this watchdog bounds."""
        return self._armed is not None

    def disarm(self) -> None:
        """The turn ended."""
        self._armed = None

    def stop(self) -> None:
        """Stop the thread."""
        self._stop.set()
        self._thread.join(timeout=1)

    def _cpu(self, ident: int) -> float:
        clock = self._clocks.get(ident)
        if clock is None:
            clock = self._clocks[ident] = time.pthread_getcpuclockid(ident)
        return time.clock_gettime(clock)

    def _run(self) -> None:
        seen: _Turn | None = None
        start = 0.0
        interrupted = False
        while not self._stop.wait(self._poll):
            armed = self._armed
            if armed is None:
                seen = None
                continue
            try:
                now = self._cpu(armed.thread)
            except OSError:
                continue
            if armed is not seen:
                seen, start, interrupted = armed, now, False
                continue
            used = now - start
            if armed.interrupt is not None and not interrupted and used > armed.allowance:
                interrupted = True
                armed.interrupt()
            elif (
                used > armed.allowance + (armed.grace if armed.interrupt is not None else 0.0) and self._armed is armed
            ):
                self._armed = None
                self._on_stuck(armed.subject)


class _Turn(NamedTuple):
    thread: int
    allowance: float
    subject: Any
    interrupt: Callable[[], None] | None
    grace: float
