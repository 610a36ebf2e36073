"""Keep-alive clients split evenly between gunicorn's workers under bin/serve's defaults
(expense_api/ops/gunicorn_worker.py): the least loaded worker takes each new connection."""

from __future__ import annotations

import http.client
import os
import sys
from pathlib import Path

import pytest

from expense_api.ops.gunicorn_worker import VACANT, ConnectionBoard


class _Worker:
    pass


def test_a_worker_accepts_only_while_no_live_sibling_holds_fewer():
    board = ConnectionBoard(slots=4)
    first, second = _Worker(), _Worker()
    board.assign(first, [])
    board.assign(second, [first])
    assert (first.board_slot, second.board_slot) == (0, 1)
    assert board.may_accept(first.board_slot, 0)
    # The sibling still boots (it has not published yet): it counts as holding nothing.
    assert not board.may_accept(first.board_slot, 1)
    assert board.may_accept(second.board_slot, 0)
    assert not board.may_accept(first.board_slot, 1)  # 1 > 0: leave the next one to the sibling
    assert board.may_accept(second.board_slot, 1)  # equal: both may
    assert board.may_accept(first.board_slot, 1)


def test_an_exited_workers_slot_is_freed_and_no_longer_counted():
    board = ConnectionBoard(slots=2)
    first, second = _Worker(), _Worker()
    board.assign(first, [])
    board.assign(second, [first])
    board.may_accept(second.board_slot, 0)
    assert not board.may_accept(first.board_slot, 5)
    board.release(second)
    assert board.counts[second.board_slot] == VACANT
    assert board.may_accept(first.board_slot, 5)  # alone now
    replacement = _Worker()
    board.assign(replacement, [first])
    assert replacement.board_slot == second.board_slot
    third = _Worker()
    board.assign(third, [first, replacement])
    assert third.board_slot is None  # no slot left: it accepts like a plain gthread worker


def _established(port: int, client_ports: set[int]) -> set[str]:
    """Socket inodes of the server's ends of the established connections from `client_ports`."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if local_port == port and remote_port in client_ports and fields[3] == "01":
                inodes.add(fields[9])  # 01: ESTABLISHED
    return inodes


def _connections_per_worker(master: int, port: int, client_ports: set[int]) -> list[int]:
    workers = [
        int(entry.name) for entry in Path("/proc").glob("[0-9]*") if _parent(entry) == master
    ]
    served = _established(port, client_ports)
    counts = []
    for pid in workers:
        sockets = set()
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                sockets.add(target[len("socket:[") : -1])
        counts.append(len(sockets & served))
    return sorted(counts)


def _parent(entry: Path) -> int | None:
    try:
        stat = (entry / "stat").read_text()
    except OSError:
        return None
    return int(stat[stat.rindex(")") + 2 :].split()[1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_keep_alive_clients_split_evenly_between_the_workers(live_server):
    port = int(live_server.base.rsplit(":", 1)[1])
    clients = [http.client.HTTPConnection("127.0.0.1", port, timeout=30) for _ in range(16)]
    try:
        for client in clients:  # all connect first, as a pool of keep-alive clients does
            client.connect()
        for _ in range(3):
            for client in clients:
                client.request("GET", "/healthz")
                response = client.getresponse()
                response.read()
                assert response.status == 200
                assert not response.will_close
        # 2 workers: 8 each, give or take one.
        ports = {client.sock.getsockname()[1] for client in clients}
        counts = _connections_per_worker(live_server.process.pid, port, ports)
        assert len(counts) == 2 and sum(counts) == 16, counts
        assert counts[1] - counts[0] <= 2, counts
    finally:
        for client in clients:
            client.close()
