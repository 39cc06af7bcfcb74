#!/usr/bin/python3
"""emuctl - talk to ec2emu's /_emu/ control API for the shell tests.

  emuctl.py URL get PATH             print the JSON answer
  emuctl.py URL post PATH [JSON]     POST (JSON body), print the answer
  emuctl.py URL delete PATH          DELETE
  emuctl.py URL eval EXPR            print EXPR evaluated with helpers:
      calls(service="ec2", action=None, since=0, dry=False)  call records;
                     DryRun calls left out (dry=True: only them, None: all)
      state()                                     the world
      owner(alloc)   instance holding the address, or "none"
      remaps(alloc)  associations made to the address so far
      seq()          the newest call's sequence number (0 when none)
      writes(since)  the moving writes: Associate/DisassociateAddress,
                     Assign/UnassignPrivateIpAddresses, Replace/CreateRoute
                     (no DryRun)
      route(table, destination)  the instance a route points to, or none
      secondary(ip)  the instance holding a secondary private IP, or none
  emuctl.py URL wait SECONDS EXPR    poll EXPR until true (exit 1 on timeout)

Standard library only; the tests run it inside a network namespace.
"""

import json
import sys
import time
import urllib.request


def request(base, method, path, body=None):
    data = None if body is None else body.encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"null")


def helpers(base):
    def calls(service="ec2", action=None, since=0, dry=False):
        q = "/_emu/calls?service=%s&since=%d" % (service, since)
        if action:
            q += "&action=" + action
        if dry is not None:
            q += "&dry=%d" % dry
        return request(base, "GET", q)

    def state():
        return request(base, "GET", "/_emu/state")

    def owner(alloc):
        for a in state()["addresses"]:
            if a["allocation_id"] == alloc:
                return a["instance_id"] or "none"
        return "unknown"

    def remaps(alloc):
        for a in state()["addresses"]:
            if a["allocation_id"] == alloc:
                return a["remaps"]
        return -1

    def seq():
        c = calls("all", dry=None)
        return c[-1]["seq"] if c else 0

    def writes(since=0):
        return [c for c in calls(since=since)
                if c["action"] in ("AssociateAddress",
                                   "DisassociateAddress",
                                   "AssignPrivateIpAddresses",
                                   "UnassignPrivateIpAddresses",
                                   "ReplaceRoute", "CreateRoute")]

    def route(table, dest):
        """The instance a route table's route points to, or none."""
        for t in state()["network"]["route_tables"]:
            if t["id"] == table:
                for r in t["routes"]:
                    if r["destination"] == dest:
                        return r.get("instance_id") or "none"
        return "none"

    def secondary(ip):
        """The instance holding a secondary private IP, or none."""
        o = state()["network"]["secondary_ips"].get(ip) or {}
        return o.get("instance_id") or "none"

    return {"calls": calls, "state": state, "owner": owner,
            "remaps": remaps, "seq": seq, "writes": writes,
            "route": route, "secondary": secondary,
            "json": json, "time": time}


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    base, cmd, args = argv[1].rstrip("/"), argv[2], argv[3:]
    if cmd in ("get", "post", "delete"):
        out = request(base, cmd.upper(), args[0],
                      args[1] if len(args) > 1 else
                      ("{}" if cmd == "post" else None))
        print(json.dumps(out, indent=1))
        return 0
    if cmd == "eval":
        v = eval(args[0], helpers(base))
        print(v if isinstance(v, str) else json.dumps(v))
        return 0
    if cmd == "wait":
        limit = time.monotonic() + float(args[0])
        env = helpers(base)
        while True:
            try:
                if eval(args[1], env):
                    return 0
            except OSError:
                pass
            if time.monotonic() >= limit:
                return 1
            time.sleep(0.1)
    sys.stderr.write("emuctl: unknown command %s\n" % cmd)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
