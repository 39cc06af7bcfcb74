"""The unsigned /_emu/ control API tests use to watch and steer."""

import json
import urllib.parse

from .common import ControlError, log
from .ec2 import STATE_CODES
from .limits import denied_actions


def _instance(w, iid):
    inst = w.instances.get(iid)
    if inst is None:
        raise ControlError("no such instance: %s" % iid)
    return inst


class ControlApi:
    """The unsigned /_emu/ endpoints tests use to watch and steer."""

    def __init__(self, emu):
        self.emu = emu

    def handle(self, h, path, query):
        q = dict(urllib.parse.parse_qsl(query))
        try:
            body = h.read_body()
            route = (h.command, path.rstrip("/"))
            fn = {
                ("GET", "/_emu/calls"): self.get_calls,
                ("POST", "/_emu/reset-calls"): self.reset_calls,
                ("GET", "/_emu/state"): self.get_state,
                ("GET", "/_emu/faults"): self.get_faults,
                ("POST", "/_emu/faults"): self.post_faults,
                ("DELETE", "/_emu/faults"): self.delete_faults,
                ("POST", "/_emu/set"): self.post_set,
            }.get(route)
            if fn is None and h.command == "DELETE" and \
                path.startswith("/_emu/faults/"):
                fn = self.delete_fault
            if fn is None:
                return self.reply(h, 404, {
                    "error": "no such control endpoint: %s %s"
                    % (h.command, path)})
            data = None
            if body:
                try:
                    data = json.loads(body)
                except ValueError as e:
                    raise ControlError("bad JSON: %s" % e)
            self.reply(h, 200, fn(q, data, path))
        except ControlError as e:
            self.reply(h, 400, {"error": str(e)})

    @staticmethod
    def reply(h, status, obj):
        h.send_body(status, json.dumps(obj, indent=1) + "\n",
                "application/json")

    def get_calls(self, q, data, path):
        try:
            since = int(q.get("since", 0))
        except ValueError:
            raise ControlError("since must be an integer")
        service = q.get("service", "ec2")
        if service not in ("ec2", "imds", "all"):
            raise ControlError("service must be ec2, imds or all")
        dry = {None: None, "0": False, "1": True}.get(q.get("dry"), "bad")
        if dry == "bad":
            raise ControlError("dry must be 0 or 1")
        return self.emu.calls.query(service, q.get("action"), since, dry)

    def reset_calls(self, q, data, path):
        self.emu.calls.reset()
        return {"ok": True}

    def get_state(self, q, data, path):
        with self.emu.world.lock:
            st = self.emu.world.state()
        st["faults"] = self.emu.faults.view()
        return st

    def get_faults(self, q, data, path):
        return self.emu.faults.view()

    def post_faults(self, q, data, path):
        specs = data if isinstance(data, list) else [data]
        ids = []
        for spec in specs:
            f = self.emu.faults.add(spec)
            log("fault %d added: %s %s %s", f.id, f.target,
                f.action if f.target == "ec2" else f.path or "*",
                f.describe())
            ids.append(f.id)
        return {"ids": ids, "id": ids[0] if ids else None}

    def delete_faults(self, q, data, path):
        self.emu.faults.clear()
        log("faults cleared")
        return {"ok": True}

    def delete_fault(self, q, data, path):
        try:
            fid = int(path.rsplit("/", 1)[1])
        except ValueError:
            raise ControlError("fault id must be an integer")
        return {"ok": self.emu.faults.clear(fid)}

    def post_set(self, q, data, path):
        if not isinstance(data, dict):
            raise ControlError("set takes a JSON object")
        w = self.emu.world
        handlers = {
            "associate": self._set_associate,
            "disassociate": self._set_disassociate,
            "credential_ttl": self._set_ttl,
            "credential_refresh_ahead": self._set_refresh,
            "expire_credentials": self._set_expire,
            "expire_imds_tokens": self._set_expire_tokens,
            "clock_offset": self._set_clock,
            "imds_v1": self._set_imds_v1,
            "read_lag_ms": self._set_read_lag,
            "empty_read_ms": self._set_empty_read,
            "buckets": self._set_buckets,
            "denied_actions": self._set_denied,
            "instance_state": self._set_instance_state,
            "private_ip": self._set_private_ip,
            "route": self._set_route,
            "source_dest_check": self._set_source_dest_check,
            "remap_ms": self._set_remap,
        }
        unknown = set(data) - set(handlers)
        if unknown:
            raise ControlError("unknown set keys: %s" %
                               ", ".join(sorted(unknown)))
        with w.lock:
            for k, v in data.items():
                handlers[k](w, v)
                log("set %s", k)
            st = w.state()
        return st

    @staticmethod
    def _addr(w, spec):
        if spec.get("allocation_id"):
            a = w.address_by_alloc(spec["allocation_id"])
        else:
            a = w.address_by_ip(spec.get("public_ip", ""))
        if a is None:
            raise ControlError("no such address: %r" % spec)
        return a

    def _set_associate(self, w, spec):
        if not isinstance(spec, dict):
            raise ControlError("associate takes an object")
        a = self._addr(w, spec)
        inst = None
        if spec.get("instance_id"):
            inst = w.instances.get(spec["instance_id"])
        elif spec.get("network_interface_id"):
            inst = w.instance_by_eni(spec["network_interface_id"])
        if inst is None:
            raise ControlError("no such instance/eni: %r" % spec)
        pip = spec.get("private_ip")
        if pip is not None and pip not in w.net.ips_of(inst):
            raise ControlError("%s is not an address of %s" %
                       (pip, inst.id))
        w.associate(a, inst, pip)

    def _set_disassociate(self, w, spec):
        if not isinstance(spec, dict):
            raise ControlError("disassociate takes an object")
        w.disassociate(self._addr(w, spec))

    @staticmethod
    def _num(v, what, lo):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or \
            v < lo:
            raise ControlError("%s must be a number >= %s" %
                       (what, lo))
        return v

    def _set_ttl(self, w, v):
        w.credential_ttl = int(self._num(v, "credential_ttl", 1))

    def _set_refresh(self, w, v):
        w.refresh_ahead = None if v is None else self._num(
            v, "credential_refresh_ahead", 0)

    @staticmethod
    def _set_expire(w, v):
        if v:
            w.expire_credentials()

    @staticmethod
    def _set_expire_tokens(w, v):
        if v:
            w.imds_tokens.clear()

    def _set_clock(self, w, v):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ControlError("clock_offset must be a number")
        w.clock_offset = float(v)

    @staticmethod
    def _set_imds_v1(w, v):
        w.imds_v1 = bool(v)

    def _set_read_lag(self, w, v):
        w.read_lag_ms = int(self._num(v, "read_lag_ms", 0))

    def _set_empty_read(self, w, v):
        w.empty_read_ms = int(self._num(v, "empty_read_ms", 0))

    @staticmethod
    def _set_buckets(w, v):
        w.buckets.set(v)

    @staticmethod
    def _set_instance_state(w, v):
        """{"i-0bbb...": {"state": "stopped", "instance_status":
        "impaired", "system_status": "ok"}}: what DescribeInstances and
        DescribeInstanceStatus report for that instance (any key may be
        left out)."""
        if not isinstance(v, dict):
            raise ControlError("instance_state takes {instance: {...}}")
        for iid, spec in v.items():
            inst = _instance(w, iid)
            if not isinstance(spec, dict) or set(spec) - {
                    "state", "instance_status", "system_status"}:
                raise ControlError("instance_state %s: keys are state, "
                                   "instance_status, system_status" % iid)
            if "state" in spec and spec["state"] not in STATE_CODES:
                raise ControlError("instance_state %s: state is one of %s"
                                   % (iid, ", ".join(sorted(STATE_CODES))))
            for k in ("instance_status", "system_status"):
                if k in spec and spec[k] not in (
                        "ok", "impaired", "initializing",
                        "insufficient-data"):
                    raise ControlError("instance_state %s: bad %s" % (iid, k))
            inst.state = spec.get("state", inst.state)
            inst.instance_status = spec.get("instance_status",
                                            inst.instance_status)
            inst.system_status = spec.get("system_status",
                                          inst.system_status)

    @staticmethod
    def _set_denied(w, v):
        """{"i-0bbb...": ["AssociateAddress"]}: that instance's role may
        no longer call those actions (an empty list allows all again)."""
        if not isinstance(v, dict):
            raise ControlError("denied_actions takes {instance: [action]}")
        for iid, actions in v.items():
            inst = _instance(w, iid)
            inst.denied_actions = denied_actions(actions, iid)

    @staticmethod
    def _target_instance(w, spec, what):
        if spec.get("instance_id"):
            return _instance(w, spec["instance_id"])
        if spec.get("network_interface_id"):
            inst = w.instance_by_eni(spec["network_interface_id"])
            if inst is None:
                raise ControlError("%s: no such interface %s" %
                                   (what, spec["network_interface_id"]))
            return inst
        return None

    def _set_private_ip(self, w, spec):
        """{"address": ip, "instance_id" | "network_interface_id": ...}
        moves a secondary IP as the console would; neither unassigns."""
        if not isinstance(spec, dict) or not spec.get("address"):
            raise ControlError("private_ip takes {address, instance_id "
                               "or network_interface_id}")
        inst = self._target_instance(w, spec, "private_ip")
        if inst is None:
            w.net.unassign(spec["address"])
        else:
            w.net.assign(inst, spec["address"])

    def _set_route(self, w, spec):
        """{"table": rtb, "destination": cidr, "instance_id" |
        "network_interface_id" | "gateway": ...}; no target deletes."""
        if not isinstance(spec, dict) or not spec.get("table") or \
            not spec.get("destination"):
            raise ControlError("route takes {table, destination, target}")
        t = w.net.tables.get(spec["table"])
        if t is None:
            raise ControlError("no such route table: %s" % spec["table"])
        inst = self._target_instance(w, spec, "route")
        target = {"eni": inst.eni_id} if inst else \
            {"gateway": spec["gateway"]} if spec.get("gateway") else None
        w.net.set_route(t, spec["destination"], target)

    def _set_remap(self, w, v):
        w.net.remap_ms = self._num(v, "remap_ms", 0)

    @staticmethod
    def _set_source_dest_check(w, v):
        """{"i-...": true|false}"""
        if not isinstance(v, dict):
            raise ControlError("source_dest_check takes {instance: bool}")
        for iid, on in v.items():
            _instance(w, iid).source_dest_check = bool(on)
