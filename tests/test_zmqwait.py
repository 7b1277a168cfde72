"""ZeroMQ sockets in a loop's own epoll set (shardrun/server/zmqwait.py), with real sockets."""

from __future__ import annotations

import select
import time

import zmq

from shardrun.server.zmqwait import ZmqWaits


def test_a_message_is_seen_before_the_wait_and_through_the_fd_after_it(tmp_path):
    ctx = zmq.Context()
    ep = select.epoll()
    a, b = ctx.socket(zmq.PAIR), ctx.socket(zmq.PAIR)
    quiet = ctx.socket(zmq.PAIR)
    try:
        a.bind(f"ipc://{tmp_path}/a")
        b.connect(f"ipc://{tmp_path}/a")
        quiet.bind(f"ipc://{tmp_path}/q")
        zw = ZmqWaits(ep, a, quiet)
        assert zw.all == 3 and zw.readable(3) == 0
        b.send(b"x")
        end = time.monotonic() + 5
        while not zw.readable(1) and time.monotonic() < end:
            time.sleep(0.01)
        assert zw.readable(3) == 1  # only the socket with a message, and only those asked for
        assert zw.readable(2) == 0
        assert a.recv() == b"x" and zw.readable(1) == 0
        b.send(b"y")  # nothing was asked since: the FD says so, and after() reads that socket
        events = ep.poll(5, 16)
        assert zw.after(events, 0) == 1
        assert zw.after([], 0) == 0 and zw.after(events, 3) == 3
    finally:
        for s in (a, b, quiet):
            s.close(0)
        ctx.term()
        ep.close()
