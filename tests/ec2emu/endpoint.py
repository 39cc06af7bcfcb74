"""The EC2 endpoint: one request through signature check, request
validation, faults and the action, answered in AWS's XML; /_emu/ goes to
the control API."""

import email.utils
import socket
import time
import traceback
import urllib.parse
import uuid
from xml.sax.saxutils import escape as xml_escape

from .calllog import is_dry, safe_params
from .common import API_VERSION, XMLNS, EmuError, iso8601, log
from .httpbase import BaseHandler, DropConnection
from .limits import unauthorized
from .sigv4 import canonical_uri


class Ec2Handler(BaseHandler):
    def date_time_string(self, timestamp=None):
        """Every answer's Date, control API included, reads EC2's clock
        (host clock + clock_offset), as SDKs correcting skew expect."""
        if timestamp is None:
            timestamp = self.emu.world.now()
        return email.utils.formatdate(timestamp, usegmt=True)

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def do_DELETE(self):
        self.dispatch()

    def do_PUT(self):
        self.dispatch()

    def dispatch(self):
        t0 = time.monotonic()
        try:
            path, query = self.split_path()
            if path.startswith("/_emu/") or path == "/_emu":
                self.emu.control.handle(self, path, query)
            else:
                self.handle_ec2(path, query, t0)
        except DropConnection as d:
            self.drop(d.reset)
        except (ConnectionError, BrokenPipeError, socket.timeout):
            self.close_connection = True
        except Exception:   # never a traceback to the client
            log("internal error: %s", traceback.format_exc())
            self.close_connection = True
            try:
                self.send_ec2_error(EmuError("InternalError"),
                                    str(uuid.uuid4()))
            except OSError:
                pass

    def send_ec2_error(self, err, rid):
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            "<Response><Errors><Error><Code>%s</Code>"
            "<Message>%s</Message></Error></Errors>"
            "<RequestID>%s</RequestID></Response>" % (
                xml_escape(err.code), xml_escape(err.message), rid))
        self.send_body(err.status, body, "text/xml;charset=UTF-8",
                   {"x-amzn-RequestId": rid, "Server": "AmazonEC2"})

    def send_ec2_ok(self, action, inner, rid):
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<%sResponse xmlns="%s"><requestId>%s</requestId>%s'
            "</%sResponse>" % (action, XMLNS, rid, inner, action))
        self.send_body(200, body, "text/xml;charset=UTF-8",
                   {"x-amzn-RequestId": rid, "Server": "AmazonEC2"})

    def _account_limits(self, action, params, instance_id):
        """The account's token bucket for the action's category, then the
        caller's IAM policy (DryRun or not): an EmuError or None."""
        w = self.emu.world
        try:
            w.buckets.take(action)
        except EmuError as e:
            return e
        with w.lock:
            inst = w.instances.get(instance_id) if instance_id else None
            if inst is not None and action in inst.denied_actions:
                return unauthorized(w, inst, action, params)
        return None

    def handle_ec2(self, path, query, t0):
        emu = self.emu
        rid = str(uuid.uuid4())
        rec = {
            "service": "ec2",
            "wall": time.time(),
            "time": iso8601(time.time()),
            "mono": t0,
            "client": self.client_address[0],
            "method": self.command,
            "path": path,
            "action": None,
            "params": {},
            "access_key_id": None,
            "instance": None,
            "signature_valid": False,
            "auth_error": None,
            "status": None,
            "error_code": None,
            "fault": None,
            "request_id": rid,
        }
        self.call_rec = rec
        try:
            self._ec2(rec, path, query, rid)
        except DropConnection as d:
            rec["status"] = 0
            rec["error_code"] = "(no answer)"
            raise d
        finally:
            self.log_call_now() # no answer sent: logged now
            log("ec2 %s %s %s -> %s %s key=%s inst=%s sig=%s%s %.1fms",
                rec["client"], self.command, rec["action"],
                rec["status"], rec["error_code"] or "",
                rec["access_key_id"], rec["instance"],
                "ok" if rec["signature_valid"] else "BAD",
                " fault=" + rec["fault"] if rec["fault"] else "",
                rec["latency_ms"])

    def _ec2(self, rec, path, query, rid):
        emu = self.emu
        try:
            body = self.read_body()
        except ValueError as e:
            err = EmuError("MalformedQueryString", str(e))
            rec["status"], rec["error_code"] = err.status, err.code
            self.send_ec2_error(err, rid)
            return
        if self.command not in ("GET", "POST"):
            err = EmuError("UnsupportedOperation",
                "HTTP method %s is not supported" % self.command,
                405)
            rec["status"], rec["error_code"] = err.status, err.code
            self.send_ec2_error(err, rid)
            return
        auth = emu.verifier.verify(self.command, path, query,
                                   self.headers, body)
        rec["access_key_id"] = auth.access_key_id
        rec["instance"] = auth.instance_id
        rec["signature_valid"] = auth.signature_valid
        if auth.error:
            rec["auth_error"] = auth.error.code
            if auth.detail:
                rec["signature_detail"] = auth.detail
        params = {}
        err = None
        try:
            for src in (query, body.decode("utf-8")):
                for k, v in urllib.parse.parse_qsl(
                    src, keep_blank_values=True,
                    errors="strict"):
                    params.setdefault(k, v)
        except (UnicodeDecodeError, ValueError):
            err = EmuError("MalformedQueryString",
                "The query string is malformed")
        action = params.get("Action")
        rec["action"] = action
        rec["params"] = safe_params(params)
        if err is None and auth.error:
            err = auth.error
        if err is None and canonical_uri(path) != "/":
            err = EmuError("InvalidAction",
                "The path %s is not valid for this web service." %
                path)
        if err is None and not action:
            err = EmuError("MissingAction",
                "The request must contain the parameter Action")
        if err is None and "Version" not in params:
            err = EmuError("MissingParameter",
                "The request must contain the parameter Version")
        if err is None and params["Version"] != API_VERSION:
            err = EmuError("NoSuchVersion",
                "The requested version (%s) of service AmazonEC2 "
                "does not exist" % params["Version"])
        # The network fails whatever the request says; an injected API
        # error only answers a request EC2 would otherwise have accepted.
        fault = emu.faults.take("ec2", action, auth.instance_id,
                                errors_too=err is None,
                                dry=is_dry({"params": params}))
        if fault:
            rec["fault"] = fault.describe()
            if fault.mode == "error":
                err = EmuError(fault.code, fault.message,
                               fault.status)
            elif not fault.after:
                self.apply_network_fault(fault)
        if err is None and action in emu.api.actions:
            err = self._account_limits(action, params, auth.instance_id)
        if err is not None:
            rec["status"], rec["error_code"] = err.status, err.code
            self.send_ec2_error(err, rid)
            return
        try:
            inner = emu.api.run(action, params)
        except EmuError as e:
            rec["status"], rec["error_code"] = e.status, e.code
            self.send_ec2_error(e, rid)
            return
        if fault and fault.after:
            self.apply_network_fault(fault)
        rec["status"] = 200
        self.send_ec2_ok(action, inner, rid)
