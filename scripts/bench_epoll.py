#!/usr/bin/python3
"""A bare epoll server answering GetStatus, the floor for migrated's latency.

Listens on a Unix socket and answers every Varlink frame (a JSON object and
a NUL byte) with one fixed reply: the reply migrated itself gave to
io.migrated.GetStatus, fetched once from --reply-from at start, so that both
sockets send the same bytes. One process, one thread, non-blocking sockets
on epoll and nothing else: what a client measures against it is the cost of
the machine (scheduler, socket, client), not of a daemon.

    bench_epoll.py --socket PATH --reply-from DAEMON_SOCKET

Runs until SIGTERM or SIGINT. Used by scripts/bench.sh next to
bench_latency.py; see docs/BENCHMARKS.md.
"""

import argparse
import json
import os
import select
import signal
import socket
import sys

CALL = json.dumps({"method": "io.migrated.GetStatus"}).encode() + b"\0"


def fetch_reply(path):
    """The daemon's own GetStatus reply frame, NUL included."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(path)
        s.sendall(CALL)
        data = b""
        while not data.endswith(b"\0"):
            chunk = s.recv(65536)
            if not chunk:
                raise OSError(f"{path}: closed before the reply ended")
            data += chunk
    if "status" not in json.loads(data[:-1]).get("parameters", {}):
        raise OSError(f"{path}: not a GetStatus reply: {data[:200]!r}")
    return data


def serve(path, reply):
    """Answers every frame on path with reply until a signal arrives."""
    if os.path.exists(path):
        os.unlink(path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1024)
    listener.setblocking(False)
    ep = select.epoll()
    ep.register(listener.fileno(), select.EPOLLIN)
    clients = {}  # fd -> [socket, bytes read, bytes to write]
    stop = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.append(True))

    def close(fd):
        ep.unregister(fd)
        clients.pop(fd)[0].close()

    while not stop:
        try:
            events = ep.poll(0.5)
        except InterruptedError:
            continue
        for fd, what in events:
            if fd == listener.fileno():
                try:
                    conn, _ = listener.accept()
                except BlockingIOError:
                    continue
                conn.setblocking(False)
                clients[conn.fileno()] = [conn, b"", b""]
                ep.register(conn.fileno(), select.EPOLLIN)
                continue
            client = clients.get(fd)
            if client is None:
                continue
            conn = client[0]
            if what & select.EPOLLIN:
                try:
                    data = conn.recv(65536)
                except BlockingIOError:
                    data = None
                except OSError:
                    close(fd)
                    continue
                if data == b"":
                    close(fd)
                    continue
                if data:
                    client[1] += data
                    calls = client[1].count(b"\0")
                    client[1] = client[1][client[1].rfind(b"\0") + 1:]
                    client[2] += reply * calls
            if client[2]:
                try:
                    sent = conn.send(client[2])
                except BlockingIOError:
                    sent = 0
                except OSError:
                    close(fd)
                    continue
                client[2] = client[2][sent:]
            ep.modify(fd, select.EPOLLIN |
                      (select.EPOLLOUT if client[2] else 0))
    for fd in list(clients):
        close(fd)
    listener.close()
    os.unlink(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--socket", required=True, help="where to listen")
    parser.add_argument("--reply-from", required=True,
                        help="migrated's socket, asked once for the reply")
    args = parser.parse_args()
    try:
        reply = fetch_reply(args.reply_from)
    except (OSError, ValueError) as e:
        print(f"bench_epoll.py: {e}", file=sys.stderr)
        return 1
    serve(args.socket, reply)
    return 0


if __name__ == "__main__":
    sys.exit(main())
