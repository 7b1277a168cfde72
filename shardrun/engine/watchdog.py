"""The last line of the CPU limit: a thread that watches JS turns which will not yield.

The engine's time limit is checked only every ~10,000 interpreter ticks, so a loop of
native calls (`indexOf` on a huge array) can run far past it. The GIL is released while
JS runs, so this thread keeps running: it reads the JS thread's own CPU clock and, when
an armed turn has used more than its allowance, calls `on_stuck`. Nothing can stop the
engine from another thread without risking memory safety, so `on_stuck` ends the process
(the CLI reports E_CPU_LIMIT and exits; a shard exits and its supervisor replaces it).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

POLL_SECONDS = 0.01


class Watchdog:
    """Watches one thread's JS turns; calls on_stuck(subject) on an overrun."""

    def __init__(self, on_stuck: Callable[[Any], None], poll: float = POLL_SECONDS) -> None:
        self._on_stuck = on_stuck
        self._poll = poll
        self._armed: tuple[int, float, Any] | None = None  # thread id, allowance, subject
        self._stop = threading.Event()
        self._clocks: dict[int, int] = {}
        self._thread = threading.Thread(target=self._run, name="shardrun-watchdog", daemon=True)
        self._thread.start()

    def arm(self, allowance: float, subject: Any) -> None:
        """The calling thread starts a turn that may use `allowance` CPU seconds.

        Cheap on purpose (it runs once per turn): the watchdog thread reads the CPU clock
        when it first sees a turn, so a turn's first poll interval is not counted; the
        grace in the allowance covers that.
        """
        self._armed = (threading.get_ident(), allowance, subject)

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
        seen: tuple[int, float, Any] | None = None
        start = 0.0
        while not self._stop.wait(self._poll):
            armed = self._armed
            if armed is None:
                seen = None
                continue
            try:
                now = self._cpu(armed[0])
            except OSError:
                continue
            if armed is not seen:
                seen, start = armed, now
                continue
            if now - start > armed[1] and self._armed is armed:
                self._armed = None
                self._on_stuck(armed[2])
