#!/usr/bin/python3
"""GetStatus latency of migrated's control socket under many pollers.

Opens CLIENTS connections to the Varlink socket, each calling
io.migrated.GetStatus every INTERVAL seconds over the raw protocol (one JSON
object and a NUL byte each way), until DURATION has passed or SIGTERM/SIGINT
arrives. Then prints the number of calls, errors and the latency
percentiles, measured from the first byte written to the last byte read.
With several --socket NAME=PATH, CLIENTS clients poll each socket at once,
in the same process, and each socket gets its own lines: the daemon next to
a bare server (bench_epoll.py) under the same load and the same client.

    bench_latency.py --socket [NAME=]PATH ... [--clients 50]
                     [--interval 0.1] [--duration SECONDS]

Used by scripts/bench.sh; see docs/BENCHMARKS.md.
"""

import argparse
import asyncio
import json
import random
import signal
import sys
import time

CALL = json.dumps({"method": "io.migrated.GetStatus"}).encode() + b"\0"


class Stats:
    def __init__(self):
        self.latencies = []     # seconds
        self.errors = []        # reasons, as text

    def percentile(self, p):
        """The p-th percentile (nearest rank) of the latencies."""
        ordered = sorted(self.latencies)
        rank = max(1, -(-len(ordered) * p // 100))
        return ordered[int(rank) - 1]


async def poll(path, interval, stop, stats):
    """One client: connect, then call GetStatus every interval until stop."""
    try:
        reader, writer = await asyncio.open_unix_connection(path)
    except OSError as e:
        stats.errors.append(f"connect: {e}")
        return
    # spread the clients over the interval instead of calling in step
    await asyncio.sleep(random.uniform(0, interval))
    try:
        while not stop.is_set():
            start = time.perf_counter()
            writer.write(CALL)
            await writer.drain()
            reply = await reader.readuntil(b"\0")
            took = time.perf_counter() - start
            message = json.loads(reply[:-1])
            if "error" in message or "status" not in message.get(
                    "parameters", {}):
                stats.errors.append(f"reply: {message.get('error', message)}")
            else:
                stats.latencies.append(took)
            try:
                await asyncio.wait_for(stop.wait(),
                                       max(0.0, interval - took))
            except asyncio.TimeoutError:
                pass
    except (OSError, asyncio.IncompleteReadError, ValueError) as e:
        stats.errors.append(f"call: {e!r}")
    finally:
        writer.close()


async def run(args):
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if args.duration is not None:
        loop.call_later(args.duration, stop.set)
    stats = {name: Stats() for name, _ in args.socket}
    started = time.perf_counter()
    await asyncio.gather(*(poll(path, args.interval, stop, stats[name])
                           for name, path in args.socket
                           for _ in range(args.clients)))
    return stats, time.perf_counter() - started


def report(args, all_stats, seconds):
    print(f"GetStatus latency: {args.clients} clients per socket, one call "
          f"every {args.interval:g} s each, for {seconds:.1f} s")
    rc = 0
    for name, _ in args.socket:
        stats = all_stats[name]
        label = f"  {name}: " if len(args.socket) > 1 else "  "
        print(f"{label}calls {len(stats.latencies)}, errors "
              f"{len(stats.errors)}")
        for reason in sorted(set(stats.errors))[:5]:
            print(f"  error: {reason}")
        if not stats.latencies:
            rc = 1
            continue
        ms = {p: stats.percentile(p) * 1000 for p in (50, 90, 99)}
        print(f"{label}p50 {ms[50]:.2f} ms, p90 {ms[90]:.2f} ms, "
              f"p99 {ms[99]:.2f} ms, "
              f"max {max(stats.latencies) * 1000:.2f} ms")
        if stats.errors:
            rc = 1
    return rc


def socket_arg(value):
    """NAME=PATH, or PATH named after itself."""
    name, sep, path = value.partition("=")
    return (name, path) if sep else (value, value)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--socket", required=True, action="append",
                        type=socket_arg,
                        help="a Varlink socket, as [NAME=]PATH; repeatable")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--interval", type=float, default=0.1,
                        help="seconds between one client's calls")
    parser.add_argument("--duration", type=float,
                        help="stop after this many seconds (default: at "
                             "SIGTERM or SIGINT)")
    args = parser.parse_args()
    if args.clients < 1 or args.interval < 0:
        parser.error("--clients must be at least 1, --interval not negative")
    stats, seconds = asyncio.run(run(args))
    return report(args, stats, seconds)


if __name__ == "__main__":
    sys.exit(main())
