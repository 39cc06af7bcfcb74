"""The process: the Emulator (servers per listener), options, signals
and the ready line."""

import argparse
import json
import os
import signal
import ssl
import sys
import threading

from .calllog import CallLog
from .common import ControlError, log, parse_hostport, url_for
from .control import ControlApi
from .ec2 import Ec2Api
from .endpoint import Ec2Handler
from .faults import Faults
from .httpbase import make_server
from .imds import ImdsHandler
from .sigv4 import SigV4Verifier
from .world import load_world


class Emulator:
    def __init__(self, world, imds_shared=(), listen="127.0.0.1", port=0,
                 tls=None, tls_port=0):
        self.world = world
        self.verifier = SigV4Verifier(world)
        self.api = Ec2Api(world)
        self.faults = Faults()
        self.calls = CallLog()
        self.control = ControlApi(self)
        self.stopping = threading.Event()
        self.servers = []
        self.urls = {}
        emu = self

        class Ec2(Ec2Handler):
            pass
        Ec2.emu = emu

        srv = make_server(listen, port, Ec2)
        self._add("ec2", srv, "http")
        if tls is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(tls[0], tls[1])
            srv = make_server(listen, tls_port, Ec2, ctx)
            self._add("ec2_tls", srv, "https")

        for inst in world.instances.values():
            if not inst.imds_listen:
                continue
            host, p = parse_hostport(inst.imds_listen)

            class Imds(ImdsHandler):
                pass
            Imds.emu = emu
            Imds.fixed_instance = inst.id
            srv = make_server(host, p, Imds)
            inst.imds_url = self._add("imds." + inst.id, srv,
                                      "http")
        for i, spec in enumerate(imds_shared):
            host, p = parse_hostport(spec)

            class SharedImds(ImdsHandler):
                pass
            SharedImds.emu = emu
            srv = make_server(host, p, SharedImds)
            self._add("imds" if i == 0 else "imds%d" % i, srv,
                      "http")

    def _add(self, name, srv, scheme):
        host, port = srv.server_address[:2]
        url = url_for(scheme, host, port)
        self.urls[name] = url
        self.servers.append(srv)
        return url

    def start(self):
        for srv in self.servers:
            t = threading.Thread(target=srv.serve_forever,
                                 kwargs={"poll_interval": 0.1},
                                 daemon=True)
            t.start()

    def stop(self):
        self.stopping.set()
        self.faults.clear()
        # Each shutdown() waits for its serve loop to notice: do them
        # all at once so SIGTERM ends the process promptly.
        ts = [threading.Thread(target=srv.shutdown) for srv in self.servers]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        for srv in self.servers:
            srv.server_close()

    def ready_line(self):
        return "ec2emu ready " + " ".join(
            "%s=%s" % kv for kv in self.urls.items())



def main(argv=None):
    ap = argparse.ArgumentParser(prog="ec2emu.py",
        description="Local EC2 Query API + IMDSv2 emulator for tests.")
    ap.add_argument("--world", required=True, help="world JSON file")
    ap.add_argument("--listen", default="127.0.0.1",
            help="EC2 listen address (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=0,
            help="EC2 HTTP port (0: pick a free one)")
    ap.add_argument("--tls-cert", help="PEM certificate: also serve EC2 "
            "over HTTPS")
    ap.add_argument("--tls-key", help="PEM private key for --tls-cert")
    ap.add_argument("--tls-port", type=int, default=0,
            help="EC2 HTTPS port (0: pick a free one)")
    ap.add_argument("--imds", action="append", default=[],
            metavar="HOST:PORT", help="shared IMDS listener that "
            "finds the instance by source address (repeatable)")
    ap.add_argument("--imds-v1", action="store_true",
            help="IMDS optional mode: allow token-less GETs")
    ap.add_argument("--fault", action="append", default=[],
            metavar="JSON", help="install a fault at start "
            "(repeatable), same JSON as POST /_emu/faults")
    ap.add_argument("--ready-file", help="write the listener URLs here "
            "(JSON) once listening")
    args = ap.parse_args(argv)

    try:
        world = load_world(args.world)
        if args.imds_v1:
            world.imds_v1 = True
        if bool(args.tls_cert) != bool(args.tls_key):
            raise ValueError("--tls-cert and --tls-key go together")
        tls = (args.tls_cert, args.tls_key) if args.tls_cert else None
        emu = Emulator(world, args.imds, args.listen, args.port, tls,
                       args.tls_port)
        for fj in args.fault:
            emu.faults.add(json.loads(fj))
    except (ValueError, ControlError, OSError, ssl.SSLError) as e:
        sys.stderr.write("ec2emu: %s\n" % e)
        return 2

    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    emu.start()
    if args.ready_file:
        tmp = args.ready_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump(dict(emu.urls, pid=os.getpid()), f, indent=1)
        os.rename(tmp, args.ready_file)
    sys.stdout.write(emu.ready_line() + "\n")
    sys.stdout.flush()
    log("%s", emu.ready_line())
    while not stop.wait(0.1):
        pass
    log("stopping")
    emu.stop()
    return 0
