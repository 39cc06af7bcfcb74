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

With --routes it is also the VPC router for private addresses: each route
table's routes to an instance's interface and each secondary private IP
become a kernel route in this namespace to the holder's address on the
link (its first source_ips entry), after the same delay:

    <epoch s> route <destination> <via or none> <instance or none>

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


def fetch(url, timeout, routes):
    with urllib.request.urlopen(url + "/_emu/state", timeout=timeout) as r:
        state = json.load(r)
    out = {a["public_ip"]: (a.get("private_ip"), a.get("instance_id"),
                            a.get("association_id"))
           for a in state.get("addresses", [])}
    if routes:
        out.update(private_routes(state))
    return out


def private_routes(state):
    """"route <dest>" -> (via, instance, tag): where the VPC sends it."""
    via = {i["id"]: (i.get("source_ips") or [i["private_ip"]])[0]
           for i in state.get("instances", [])}
    net = state.get("network", {})
    out = {}
    for t in net.get("route_tables", []):
        for r in t.get("routes", []):
            iid = r.get("instance_id")
            key = "route " + r["destination"]
            if key not in out or iid:
                out[key] = (via.get(iid), iid, iid)
    for ip, o in net.get("secondary_ips", {}).items():
        iid = o.get("instance_id")
        out["route %s/32" % ip] = (via.get(iid), iid, iid)
    return out


def apply_route(dest, via):
    if via:
        subprocess.run(["ip", "route", "replace", dest, "via", via],
                       check=True)
    else:
        subprocess.run(["ip", "route", "del", dest], capture_output=True)


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
    ap.add_argument("--routes", action="store_true",
                    help="also route private destinations (see above)")
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
            cur = fetch(args.emu, 2, args.routes)
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
                if ip.startswith("route "):
                    apply_route(ip[6:], priv)
                    what = ip
                else:
                    apply(args.table, ip, priv)
                    what = "switch " + ip
                live[ip] = priv
                print("%.3f %s %s %s" % (t, what, priv or "none",
                                         inst or "none"), flush=True)
        time.sleep(args.poll_ms / 1000.0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
