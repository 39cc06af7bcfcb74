#!/usr/bin/python3
"""bench/rttproxy.py - a TCP proxy that adds a round-trip time, for a kernel
without netem: every chunk waits half the RTT in each direction, and the
first chunk from the client also waits for the TCP handshake a real network
would have charged (one RTT after the accept), so TCP, TLS and HTTP all pay.

    rttproxy.py LISTEN_HOST:PORT UPSTREAM_HOST:PORT RTT_MS [--idle-close S]
                [--max-seconds N]

--idle-close closes a connection that carried nothing for S seconds, as a
server or a middlebox does with idle keep-alive connections: a client that
was quiet that long then pays a new TCP and TLS handshake.

Standard library (asyncio) only; stops on SIGTERM or after --max-seconds.
"""

import argparse
import asyncio
import signal
import sys


async def pump(reader, writer, half, first_due, seen):
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def send():
        while True:
            due, data = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if data is None:
                try:
                    writer.write_eof()
                except OSError:
                    pass
                return
            writer.write(data)
            await writer.drain()

    sender = asyncio.ensure_future(send())
    try:
        while True:
            data = await reader.read(65536)
            now = loop.time()
            seen[0] = now
            due = max(now, first_due) + half
            first_due = 0
            queue.put_nowait((due, data or None))
            if not data:
                break
        await sender
    except (OSError, asyncio.IncompleteReadError):
        sender.cancel()
    finally:
        try:
            writer.close()
        except OSError:
            pass


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("listen")
    ap.add_argument("upstream")
    ap.add_argument("rtt_ms", type=float)
    ap.add_argument("--max-seconds", type=float, default=7200)
    ap.add_argument("--idle-close", type=float, default=0)
    a = ap.parse_args()
    half = a.rtt_ms / 2000.0
    lh, lp = a.listen.rsplit(":", 1)
    uh, up = a.upstream.rsplit(":", 1)
    loop = asyncio.get_running_loop()

    async def handle(creader, cwriter):
        accepted = loop.time()
        try:
            ureader, uwriter = await asyncio.open_connection(uh, int(up))
        except OSError:
            cwriter.close()
            return
        seen = [accepted]
        pumps = asyncio.gather(
            pump(creader, uwriter, half, accepted + 2 * half, seen),
            pump(ureader, cwriter, half, 0, seen),
            return_exceptions=True)
        while a.idle_close > 0 and not pumps.done():
            await asyncio.wait([pumps], timeout=a.idle_close / 4)
            if loop.time() - seen[0] > a.idle_close:
                for w in (cwriter, uwriter):
                    w.close()
        await pumps

    srv = await asyncio.start_server(handle, lh, int(lp))
    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, lambda: stop.done() or
                            stop.set_result(0))
    loop.call_later(a.max_seconds, lambda: stop.done() or stop.set_result(0))
    print("rttproxy ready %s -> %s, rtt %g ms" % (a.listen, a.upstream,
                                                   a.rtt_ms), flush=True)
    await stop
    srv.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
