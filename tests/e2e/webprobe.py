#!/usr/bin/python3
"""tests/e2e/webprobe.py - the service behind the Elastic IP and the client
that watches it, for the namespace topology (tests/e2e/netns.sh).

  webprobe.py serve NAME [--port 80]
      a tiny HTTP server: every GET answers NAME (the node's name).
  webprobe.py poll URL [--interval-ms 50] [--timeout-ms 300]
                   [--max-seconds 600]
      GET URL every interval (a new TCP connection each time, as a browser
      after a failover would), one line per probe on stdout:
          <epoch s sent> <epoch s done> <answer or !error>
  webprobe.py gap LOG FROM TO [--since EPOCH]
      from the poll log: the last answer FROM (before the first probe
      that did not answer FROM), the first answer TO after it, the gap
      between them and what came back in between. Prints shell-readable
      key=value lines.

Standard library only; stops on SIGTERM or after --max-seconds.
"""

import argparse
import http.server
import signal
import socket
import sys
import time
import urllib.error
import urllib.request


def serve(args):
    body = (args.name + "\n").encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("0.0.0.0", args.port), Handler)
    srv.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    srv.serve_forever()


def poll(args):
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    step = args.interval_ms / 1000.0
    end = time.monotonic() + args.max_seconds
    nxt = time.monotonic()
    while not stop and time.monotonic() < end:
        sent = time.time()
        try:
            with urllib.request.urlopen(args.url,
                                        timeout=args.timeout_ms / 1000.0) as r:
                ans = r.read(200).decode("ascii", "replace").strip() or "!empty"
        except urllib.error.URLError as e:
            reason = e.reason
            ans = "!" + (type(reason).__name__ if not isinstance(reason, str)
                         else "url")
        except (socket.timeout, TimeoutError):
            ans = "!timeout"
        except (OSError, ValueError) as e:
            ans = "!" + type(e).__name__
        print("%.4f %.4f %s" % (sent, time.time(), ans.replace(" ", "_")),
              flush=True)
        nxt += step
        pause = nxt - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        else:
            nxt = time.monotonic()
    return 0


def gap(args):
    probes = []
    for line in open(args.log):
        f = line.split()
        if len(f) == 3:
            probes.append((float(f[0]), float(f[1]), f[2]))
    probes = [p for p in probes if p[0] >= args.since]
    last_from = first_to = None
    for i, (sent, done, ans) in enumerate(probes):
        if ans == args.src:
            last_from = (sent, done)
            continue
        break
    else:
        i = len(probes)
    between = {}
    for sent, done, ans in probes[i:]:
        if ans == args.dst:
            first_to = (sent, done)
            break
        between[ans] = between.get(ans, 0) + 1
    counts = {}
    for _, _, ans in probes:
        counts[ans] = counts.get(ans, 0) + 1
    out = {
        "probes": len(probes),
        "last_from": "%.4f" % last_from[1] if last_from else "none",
        "first_to": "%.4f" % first_to[1] if first_to else "none",
        "gap": ("%.3f" % (first_to[1] - last_from[1])
                if last_from and first_to else "none"),
        "between": ",".join("%s:%d" % kv for kv in sorted(between.items()))
                   or "nothing",
        "answers": ",".join("%s:%d" % kv for kv in sorted(counts.items())),
    }
    for k, v in out.items():
        print("%s=%s" % (k, v))
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("name")
    s.add_argument("--port", type=int, default=80)
    p = sub.add_parser("poll")
    p.add_argument("url")
    p.add_argument("--interval-ms", type=int, default=50)
    p.add_argument("--timeout-ms", type=int, default=300)
    p.add_argument("--max-seconds", type=float, default=600)
    g = sub.add_parser("gap")
    g.add_argument("log")
    g.add_argument("src")
    g.add_argument("dst")
    g.add_argument("--since", type=float, default=0)
    args = ap.parse_args()
    return {"serve": serve, "poll": poll, "gap": gap}[args.cmd](args) or 0


if __name__ == "__main__":
    sys.exit(main())
