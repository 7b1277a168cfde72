"""Workloops: a node's task capacity split into groups, each with its own queue preferences.

    --workloops "fast_lane:1 manual>*:4"

Groups are separated by spaces; `a>b>*` is a preference chain (left first), `*` (last only)
accepts any queue, `:N` is the group's slot count. A group without `*` is strict: it only
takes tasks from the queues it names. `--capacity N` is the same as `"*:N"`.

Each group claims on its own (its own loop and backoff in the sources). A claim takes slots
*before* the work completes: `reserve(n)` hands out at most the free slots, `release()`
gives one back when its task is finished.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from shardrun.errors import UsageError

QUEUE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
DEFAULT_QUEUE = "default"
DEFAULT_CAPACITY = 5


@dataclass
class Group:
    """One workloop: preferred queues (left first), whether it takes any queue, and its slots."""

    queues: tuple[str, ...]
    wildcard: bool
    slots: int
    busy: int = field(default=0, compare=False)

    @property
    def strict(self) -> bool:
        return not self.wildcard

    @property
    def name(self) -> str:
        return ">".join(self.queues + (("*",) if self.wildcard else ())) + f":{self.slots}"

    @property
    def free(self) -> int:
        return self.slots - self.busy

    def accepts(self, queue: str) -> bool:
        return self.wildcard or queue in self.queues

    def rank(self, queue: str) -> int:
        """Preference of a queue in this group: 0 is best; named queues before the wildcard."""
        return self.queues.index(queue) if queue in self.queues else len(self.queues)

    def reserve(self, n: int) -> int:
        """Take up to n free slots now (for a claim); returns how many were taken."""
        n = max(0, min(n, self.free))
        self.busy += n
        return n

    def release(self, n: int = 1) -> None:
        if n < 0 or n > self.busy:
            raise ValueError(f"workloop {self.name}: releasing {n} slots but only {self.busy} are taken")
        self.busy -= n


def parse(spec: str) -> list[Group]:
    """Groups from a --workloops string; UsageError (E_USAGE) names what is wrong."""
    groups: list[Group] = []
    parts = spec.split()
    if not parts:
        raise UsageError("--workloops is empty: give groups like 'fast_lane:1 manual>*:4'")
    for part in parts:
        queues_s, sep, slots_s = part.rpartition(":")
        if not sep or not queues_s:
            raise UsageError(f"workloop {part!r} needs '<queues>:<slots>', like 'manual>*:4'")
        try:
            slots = int(slots_s)
        except ValueError:
            raise UsageError(f"workloop {part!r}: slots must be a whole number, got {slots_s!r}") from None
        if slots < 1:
            raise UsageError(f"workloop {part!r}: slots must be at least 1")
        names = queues_s.split(">")
        wildcard = names[-1] == "*"
        named = names[:-1] if wildcard else names
        for q in named:
            if q == "*":
                raise UsageError(f"workloop {part!r}: the wildcard '*' may only come last")
            if not QUEUE.fullmatch(q):
                raise UsageError(f"workloop {part!r}: bad queue name {q!r} (1-64 of A-Z a-z 0-9 _ -)")
        if len(set(named)) != len(named):
            raise UsageError(f"workloop {part!r} names a queue twice")
        groups.append(Group(tuple(named), wildcard, slots))
    return groups


def from_flags(workloops: str | None, capacity: int | None) -> list[Group]:
    """The groups for --workloops / --capacity (mutually exclusive); default `*:5`."""
    if workloops is not None and capacity is not None:
        raise UsageError("--workloops and --capacity are mutually exclusive (capacity N is the same as '*:N')")
    if workloops is not None:
        return parse(workloops)
    n = DEFAULT_CAPACITY if capacity is None else capacity
    if n < 1:
        raise UsageError("--capacity must be at least 1")
    return [Group((), True, n)]


def named_queues(groups: list[Group]) -> list[str]:
    """Every queue some group names, plus the default queue, in first-mention order."""
    seen: dict[str, None] = {}
    for g in groups:
        for q in g.queues:
            seen.setdefault(q, None)
    seen.setdefault(DEFAULT_QUEUE, None)
    return list(seen)


def capacity(groups: list[Group]) -> int:
    return sum(g.slots for g in groups)
