"""HTTP plumbing shared by the EC2 and IMDS handlers: bodies, answers,
network faults (delay, hang, drop, reset) and the threaded server."""

import select
import socket
import ssl
import struct
import sys
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .common import BODY_MAX, CONN_IDLE_TIMEOUT, HANG_DEFAULT_MS, log


class DropConnection(Exception):
    """Abort the exchange without an answer (fault injection)."""

    def __init__(self, reset=False):
        super().__init__("drop")
        self.reset = reset


class BaseHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = CONN_IDLE_TIMEOUT
    server_version = "ec2emu"
    sys_version = ""

    emu = None      # set on the subclass per server

    def setup(self):
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            try:
                self.connection.do_handshake()
            except (ssl.SSLError, OSError) as e:
                log("tls handshake from %s failed: %s",
                    self.client_address[0], e)
                self.close_connection = True
                raise

    def log_request(self, code="-", size="-"):
        pass        # we log one line per request ourselves

    def log_message(self, fmt, *args):
        log("http %s: %s", self.client_address[0], fmt % args)

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == \
            "chunked":
            return self._read_chunked()
        n = self.headers.get("Content-Length")
        if n is None:
            return b""
        try:
            n = int(n)
        except ValueError:
            n = -1
        if n < 0 or n > BODY_MAX:
            self.close_connection = True
            raise ValueError("bad Content-Length")
        return self.rfile.read(n)

    def _read_chunked(self):
        out = bytearray()
        while True:
            line = self.rfile.readline(1024)
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline(1024) not in (
                    b"\r\n", b"\n", b""):
                    pass
                return bytes(out)
            out += self.rfile.read(size)
            self.rfile.readline(8)
            if len(out) > BODY_MAX:
                self.close_connection = True
                raise ValueError("body too large")

    # The request's call record (set by the handler): it goes into the
    # call log before the answer leaves, so a client that reads
    # /_emu/calls right after its answer always finds its call there.
    call_rec = None

    def log_call_now(self):
        rec, self.call_rec = self.call_rec, None
        if rec is not None:
            rec["latency_ms"] = round(
                (time.monotonic() - rec["mono"]) * 1000, 3)
            self.emu.calls.add(rec)

    def send_body(self, status, body, ctype, extra=None):
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.log_call_now()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def drop(self, reset):
        """Close without an answer; reset sends a TCP RST."""
        self.close_connection = True
        try:
            if reset:
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER,
                    struct.pack("ii", 1, 0))
            else:
                self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def hang(self, fault):
        """Hold the request unanswered until the fault is cleared, the
        client gives up, the emulator stops or fault.ms passes."""
        limit = time.monotonic() + (fault.ms or HANG_DEFAULT_MS) / 1e3
        while time.monotonic() < limit:
            if fault.released.wait(0.05) or self.emu.stopping.is_set():
                break
            if self._peer_closed():
                break
        raise DropConnection()

    def _peer_closed(self):
        try:
            r, _, _ = select.select([self.connection], [], [], 0)
            if not r:
                return False
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError, ssl.SSLError):
            return True

    def apply_network_fault(self, fault):
        """delay sleeps then goes on; hang/drop/reset never answer."""
        if fault.mode == "delay":
            self.emu.stopping.wait(fault.ms / 1e3)
        elif fault.mode == "hang":
            self.hang(fault)
        elif fault.mode in ("drop", "reset"):
            raise DropConnection(fault.mode == "reset")

    def split_path(self):
        path, _, query = self.path.partition("?")
        return path, query


def make_server(host, port, handler, tls_ctx=None):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET

    class Server(ThreadingHTTPServer):
        address_family = family
        daemon_threads = True
        allow_reuse_address = True
        request_queue_size = 64

        def handle_error(self, request, client_address):
            # A client hanging up is not worth a traceback.
            exc = sys.exc_info()[1]
            if isinstance(exc, (OSError, ssl.SSLError)):
                return
            log("connection from %s: %s", client_address[0],
                traceback.format_exc())

    srv = Server((host, port), handler)
    if tls_ctx is not None:
        srv.socket = tls_ctx.wrap_socket(srv.socket, server_side=True,
                                         do_handshake_on_connect=False)
    return srv
