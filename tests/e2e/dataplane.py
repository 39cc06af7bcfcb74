#!/usr/bin/python3
"""tests/e2e/dataplane.py - the Elastic IP's data plane for the namespace
topology (tests/e2e/netns.sh).

EC2 reaches an instance through an Elastic IP by a 1:1 NAT from the public
address to the private IP the address is associated with, and a new
association reaches the packets some seconds after the API call returned
(NGINX measured 5-6 s for keepalived + an EIP, see tests/ec2emu.md). This
process follows the emulator's association state through its unsigned
control API (GET /_emu/state, every --poll-ms) and, --delay-ms after it saw
an association change, rewrites the nftables map that the API namespace's
DNAT rule reads (table ip DP_TABLE, map eip: public ip -> private ip). A
disassociated address leaves the map: the client's packets then have no
route. Each switch is one line on stdout:

    <epoch s> switch <public ip> <private ip or none> <instance or none>

Standard library only; run it inside the namespace that holds the map. It
stops on SIGTERM/SIGINT, after --max-seconds, or when the emulator has not
answered for --lost-seconds.
"""

import argparse
import json
import signal
import subprocess
import sys
import time
import urllib.request


def fetch(url, timeout):
    with urllib.request.urlopen(url + "/_emu/state", timeout=timeout) as r:
        state = json.load(r)
    return {a["public_ip"]: (a.get("private_ip"), a.get("instance_id"),
                             a.get("association_id"))
            for a in state.get("addresses", [])}


def apply(table, public_ip, private_ip):
    lines = ["delete element ip %s eip { %s }" % (table, public_ip)]
    if private_ip:
        lines.append("add element ip %s eip { %s : %s }" %
                     (table, public_ip, private_ip))
    # One transaction; a delete of an absent element would fail it, so
    # the delete is only there when the element is.
    cur = subprocess.run(["nft", "get", "element", "ip", table, "eip",
                          "{", public_ip, "}"], capture_output=True)
    if cur.returncode != 0:
        lines = lines[1:]
    if not lines:
        return
    subprocess.run(["nft", "-f", "-"], input="\n".join(lines) + "\n",
                   text=True, check=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--emu", required=True, help="emulator EC2 URL")
    ap.add_argument("--table", default="dataplane")
    ap.add_argument("--delay-ms", type=int, default=0,
                    help="propagation delay after an association change")
    ap.add_argument("--poll-ms", type=int, default=15)
    ap.add_argument("--max-seconds", type=float, default=7200)
    ap.add_argument("--lost-seconds", type=float, default=10)
    args = ap.parse_args()
    if not 1 <= args.poll_ms <= 1000 or args.delay_ms < 0:
        print("dataplane: bad --poll-ms or --delay-ms", file=sys.stderr)
        return 2
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    end = time.monotonic() + args.max_seconds
    last_ok = time.monotonic()
    seen = {}      # public ip -> association as last seen in the state
    live = {}      # public ip -> private ip in the map
    pending = []   # (due monotonic, public ip, private ip, instance)
    while not stop and time.monotonic() < end:
        now = time.monotonic()
        try:
            cur = fetch(args.emu, 2)
            last_ok = now
        except (OSError, ValueError) as e:
            if now - last_ok > args.lost_seconds:
                print("dataplane: the emulator is gone (%s)" % e,
                      file=sys.stderr)
                return 1
            cur = None
        if cur is not None:
            for ip, assoc in cur.items():
                if seen.get(ip) != assoc:
                    seen[ip] = assoc
                    pending.append((now + args.delay_ms / 1000.0, ip,
                                    assoc[0] if assoc[2] else None,
                                    assoc[1] if assoc[2] else None))
        due = [p for p in pending if p[0] <= time.monotonic()]
        pending = [p for p in pending if p[0] > time.monotonic()]
        for _, ip, priv, inst in due:
            if live.get(ip) != priv:
                # Stamped when the rewrite starts: the packets follow the
                # new map from somewhere inside the nft run (a few ms).
                t = time.time()
                apply(args.table, ip, priv)
                live[ip] = priv
                print("%.3f switch %s %s %s" % (t, ip,
                                               priv or "none",
                                               inst or "none"), flush=True)
        time.sleep(args.poll_ms / 1000.0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
