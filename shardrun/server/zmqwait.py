"""ZeroMQ sockets in a process loop's own epoll set (the router's and a shard's).

A ZeroMQ socket's FD only signals that the socket's state may have changed: a send or a
receive on it can take in messages without the FD firing again. So a loop reads a socket's
EVENTS before it waits (for the sockets it used since its last look) and after the wait (for
those whose FD fired), and reads a socket until it would block. An EVENTS read costs two system
calls in libzmq (a `getpid` and a `poll` of its mailbox): only the sockets asked for are read.
"""

from __future__ import annotations

import select
from typing import Any

import zmq

EVENTS, POLLIN = int(zmq.EVENTS), int(zmq.POLLIN)  # plain ints: the flag enums' operators cost a Python call each


class ZmqWaits:
    """A loop's ZeroMQ sockets, registered in its epoll set; socket i is bit 1 << i."""

    def __init__(self, ep: select.epoll, *socks: Any) -> None:
        self.socks = socks
        self.fds = {int(s.getsockopt(zmq.FD)): 1 << i for i, s in enumerate(socks)}
        for fd in self.fds:
            ep.register(fd, select.EPOLLIN)
        self.all = (1 << len(socks)) - 1

    def readable(self, which: int) -> int:
        """Which of the sockets in `which` have messages to read."""
        out = 0
        for i, s in enumerate(self.socks):
            bit = 1 << i
            if which & bit and int(s.getsockopt(EVENTS)) & POLLIN:
                out |= bit
        return out

    def after(self, events: list[tuple[int, int]], waiting: int) -> int:
        """`waiting` and the sockets whose FD is among a wait's events and that have messages."""
        if not events or waiting == self.all:
            return waiting
        fired = 0
        fds = self.fds
        for fd, _ in events:
            fired |= fds.get(fd, 0)
        return waiting | self.readable(fired & ~waiting) if fired & ~waiting else waiting
