"""Constants, the two error types and small helpers every part uses."""

import re
import secrets
import sys
import time


API_VERSION = "2016-11-15"
XMLNS = "http://ec2.amazonaws.com/doc/%s/" % API_VERSION
SKEW_LIMIT = 300        # seconds between X-Amz-Date and our clock
BODY_MAX = 1024 * 1024
IMDS_TTL_MAX = 21600
CONN_IDLE_TIMEOUT = 120     # seconds an idle keep-alive connection lives
HANG_DEFAULT_MS = 600000

# HTTP status EC2 uses per error code; anything else is a 400.
ERROR_STATUS = {
    "AuthFailure": 401,
    "MissingAuthenticationToken": 401,
    "UnauthorizedOperation": 403,
    "OptInRequired": 403,
    "Blocked": 403,
    "DryRunOperation": 412,
    "RequestLimitExceeded": 503,
    "ServiceUnavailable": 503,
    "Unavailable": 503,
    "InternalError": 500,
    "InsufficientInstanceCapacity": 500,
}

ERROR_MESSAGE = {
    "AuthFailure":
        "AWS was not able to validate the provided access credentials",
    "UnauthorizedOperation":
        "You are not authorized to perform this operation.",
    "RequestLimitExceeded": "Request limit exceeded.",
    "InternalError":
        "An internal error has occurred",
    "Unavailable": "The server is overloaded and can't handle the request.",
    "ServiceUnavailable":
        "The request has failed due to a temporary failure of the server.",
    "RequestExpired": "Request has expired.",
}


class EmuError(Exception):
    """An EC2 error answer: code, message and HTTP status."""

    def __init__(self, code, message=None, status=None):
        super().__init__(code)
        self.code = code
        self.message = message or ERROR_MESSAGE.get(code, code)
        self.status = status or ERROR_STATUS.get(code, 400)


class ControlError(Exception):
    """A bad request to the /_emu/ control API (HTTP 400, JSON body)."""


def log(fmt, *args):
    """One line to stderr; callers never pass secrets."""
    ts = time.strftime("%H:%M:%S")
    sys.stderr.write("ec2emu %s %s\n" % (ts, fmt % args if args else fmt))
    sys.stderr.flush()


def iso8601(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def amz_date(epoch):
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(epoch))


def hex_id(prefix, nbytes=9):
    return prefix + secrets.token_hex(nbytes)[:17]


def parse_hostport(text):
    """'127.0.0.1:0', '[::1]:8080', ':0' -> (host, port)."""
    m = re.fullmatch(r"\[([0-9a-fA-F:.]+)\]:(\d+)|([^:\[\]]*):(\d+)",
                     text.strip())
    if not m:
        raise ValueError("expected HOST:PORT or [V6]:PORT, got %r" % text)
    host = m.group(1) if m.group(1) is not None else (m.group(3) or
                                                      "127.0.0.1")
    port = int(m.group(2) or m.group(4))
    if port > 65535:
        raise ValueError("port out of range in %r" % text)
    return host, port


def url_for(scheme, host, port):
    if ":" in host:
        host = "[%s]" % host
    return "%s://%s:%d" % (scheme, host, port)
