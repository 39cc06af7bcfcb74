"""IMDSv2: session tokens, identity, placement and role credentials."""

import hashlib
import json
import socket
import time
import traceback

from .common import IMDS_TTL_MAX, iso8601, log
from .httpbase import BaseHandler, DropConnection


class ImdsHandler(BaseHandler):
    """IMDSv2 in "required" mode (or "optional" with imds_v1).

    fixed_instance is set for a per-instance listener; a shared listener
    finds the instance from the client's source address."""

    fixed_instance = None

    def do_GET(self):
        self.dispatch()

    def do_PUT(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def do_DELETE(self):
        self.dispatch()

    def dispatch(self):
        t0 = time.monotonic()
        path, _ = self.split_path()
        rec = {
            "service": "imds",
            "wall": time.time(),
            "time": iso8601(time.time()),
            "mono": t0,
            "client": self.client_address[0],
            "method": self.command,
            "path": path,
            "action": None,
            "instance": None,
            "token_valid": None,
            "status": None,
            "error_code": None,
            "fault": None,
        }
        self.call_rec = rec
        try:
            self.read_body()
            self._serve(rec, path)
        except DropConnection as d:
            rec["status"] = 0
            rec["error_code"] = "(no answer)"
            self.drop(d.reset)
        except (ConnectionError, BrokenPipeError, socket.timeout):
            self.close_connection = True
        except ValueError:
            self.close_connection = True
            self._text(rec, 400, "Bad Request")
        except Exception:
            log("imds internal error: %s", traceback.format_exc())
            self.close_connection = True
            try:
                self._text(rec, 500, "Internal Server Error")
            except OSError:
                pass
        finally:
            self.log_call_now() # no answer sent: logged now
            log("imds %s %s %s inst=%s -> %s%s %.1fms", rec["client"],
                self.command, path, rec["instance"], rec["status"],
                " fault=" + rec["fault"] if rec["fault"] else "",
                rec["latency_ms"])

    def _text(self, rec, status, text, extra=None):
        rec["status"] = status
        if status >= 400:
            rec["error_code"] = text
        self.send_body(status, text, "text/plain", extra)

    def _instance(self):
        w = self.emu.world
        if self.fixed_instance is not None:
            return w.instances.get(self.fixed_instance)
        return w.instance_by_source(self.client_address[0])

    def _serve(self, rec, path):
        w = self.emu.world
        with w.lock:
            inst = self._instance()
        if inst is None:
            return self._text(rec, 403, "Forbidden: ec2emu knows no "
                              "instance with source address %s" %
                              self.client_address[0])
        rec["instance"] = inst.id
        fault = self.emu.faults.take("imds", path, inst.id)
        if fault:
            rec["fault"] = fault.describe()
            if fault.mode == "error":
                return self._text(rec, fault.status,
                                  fault.message or
                                  "Injected error")
            if not fault.after:
                self.apply_network_fault(fault)
        self._answer(rec, path, inst, w)
        if fault and fault.after:
            self.apply_network_fault(fault)

    def _answer(self, rec, path, inst, w):
        if path == "/latest/api/token":
            return self._token(rec, inst, w)
        if self.command != "GET":
            return self._text(rec, 405, "Method Not Allowed",
                      {"Allow": "GET, PUT"})
        tok = self.headers.get("X-aws-ec2-metadata-token")
        with w.lock:
            if tok is not None:
                rec["token_valid"] = w.imds_token_valid(tok, inst)
                if not rec["token_valid"]:
                    return self._text(rec, 401,
                                      "Unauthorized")
            elif not w.imds_v1:
                return self._text(rec, 401, "Unauthorized")
            body = self._lookup(path, inst, w)
        if body is None:
            return self._text(rec, 404, "Not Found")
        self._text(rec, 200, body)

    def _token(self, rec, inst, w):
        if self.command != "PUT":
            return self._text(rec, 405, "Method Not Allowed",
                      {"Allow": "PUT"})
        if self.headers.get("X-Forwarded-For") is not None:
            return self._text(rec, 403, "Forbidden")
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
        try:
            ttl = int(ttl)
        except (TypeError, ValueError):
            return self._text(rec, 400, "Bad Request")
        if not 1 <= ttl <= IMDS_TTL_MAX:
            return self._text(rec, 400, "Bad Request")
        with w.lock:
            tok = w.new_imds_token(inst, ttl)
        self._text(rec, 200, tok,
               {"X-aws-ec2-metadata-token-ttl-seconds": str(ttl)})

    def _lookup(self, path, inst, w):
        """Metadata for path: a str, or None for 404.  Directories
        list their entries, subdirectories with a trailing '/'."""
        tree = self._tree(inst, w)
        node = tree
        for seg in [s for s in path.split("/") if s]:
            if not isinstance(node, dict) or seg not in node:
                return None
            node = node[seg]
            if callable(node):
                node = node()
        if isinstance(node, dict):
            return "\n".join(k + "/" if isinstance(v, dict) else k
                             for k, v in node.items())
        return node

    def _tree(self, inst, w):
        now = w.now()
        pub = None
        for a in w.addresses:
            if a.instance_id == inst.id and \
                a.private_ip == inst.private_ip:
                pub = a.public_ip
        ident = json.dumps({
            "accountId": w.account,
            "architecture": "x86_64",
            "availabilityZone": inst.az,
            "imageId": "ami-0e0e0e0e0e0e0e0e0",
            "instanceId": inst.id,
            "instanceType": "t3.micro",
            "pendingTime": iso8601(now - 3600),
            "privateIp": inst.private_ip,
            "region": w.region,
            "version": "2017-09-30",
        }, indent=2)
        iam = {}
        if inst.role:
            def creds():
                c = w.role_credential_for(inst)
                return json.dumps({
                    "Code": "Success",
                    "LastUpdated": iso8601(c.issued),
                    "Type": "AWS-HMAC",
                    "AccessKeyId": c.access_key_id,
                    "SecretAccessKey": c.secret,
                    "Token": c.token,
                    "Expiration": iso8601(c.expiration),
                }, indent=2)
            iam = {
                "info": json.dumps({
                    "Code": "Success",
                    "LastUpdated": iso8601(now),
                    "InstanceProfileArn":
                        "arn:aws:iam::%s:instance-profile/%s" % (
                            w.account, inst.role),
                    "InstanceProfileId": "AIPA" + hashlib.sha256(
                        inst.role.encode()).hexdigest()[:16].upper(),
                }, indent=2),
                "security-credentials": {inst.role: creds},
            }
        hostname = "ip-%s.%s.compute.internal" % (
            inst.private_ip.replace(".", "-"), w.region)
        meta = {
            "ami-id": "ami-0e0e0e0e0e0e0e0e0",
            "hostname": hostname,
            "instance-id": inst.id,
            "instance-type": "t3.micro",
            "local-hostname": hostname,
            "local-ipv4": inst.private_ip,
            "mac": inst.mac(),
            "network": {"interfaces": {"macs": {inst.mac(): {
                "device-number": "0",
                "interface-id": inst.eni_id,
                # Follows AssignPrivateIpAddresses as it completes.
                "local-ipv4s": "\n".join(w.net.ips_of(inst, imds=True)),
                "mac": inst.mac(),
                "subnet-id": inst.subnet_id,
            }}}},
            "placement": {
                "availability-zone": inst.az,
                "region": w.region,
            },
        }
        if pub:
            meta["public-ipv4"] = pub
        if iam:
            meta["iam"] = iam
        return {
            "latest": {
                "meta-data": meta,
                "dynamic": {"instance-identity": {"document": ident}},
            },
        }
