"""Fault rules: injected errors, delays, hangs, dropped or reset
connections, matched per target (ec2 or imds), action/path and instance."""

import threading

from .common import ERROR_STATUS, ControlError


class Fault:
    MODES = ("error", "delay", "hang", "drop", "reset")

    def __init__(self, spec, fid):
        if not isinstance(spec, dict):
            raise ControlError("a fault is a JSON object")
        known = {"target", "action", "path", "instance", "mode", "code",
                 "status", "message", "ms", "count", "after", "dry_run"}
        unknown = set(spec) - known
        if unknown:
            raise ControlError("unknown fault keys: %s" %
                               ", ".join(sorted(unknown)))
        self.id = fid
        self.target = spec.get("target", "ec2")
        if self.target not in ("ec2", "imds"):
            raise ControlError("target must be ec2 or imds")
        self.action = spec.get("action", "*")
        self.path = spec.get("path", "")
        self.instance = spec.get("instance")
        self.mode = spec.get("mode", "error")
        if self.mode not in self.MODES:
            raise ControlError("mode must be one of %s" %
                               ", ".join(self.MODES))
        default_code = "InternalError" if self.target == "ec2" else None
        self.code = spec.get("code", default_code)
        self.status = spec.get("status")
        if self.status is None:
            self.status = (ERROR_STATUS.get(self.code, 400)
                           if self.target == "ec2" else 500)
        self.message = spec.get("message")
        self.ms = spec.get("ms")
        if self.mode == "delay" and not isinstance(self.ms, (int, float)):
            raise ControlError("delay needs ms")
        self.count = spec.get("count")
        if self.count is not None and (not isinstance(self.count, int) or
                                       self.count < 1):
            raise ControlError("count must be a positive integer")
        self.after = bool(spec.get("after", False))
        # A DryRun moves nothing: faults meant for writes leave it alone
        # unless asked ("dry_run": true matches only DryRun calls).
        self.dry_run = bool(spec.get("dry_run", False))
        if self.after and self.mode == "error":
            raise ControlError("after applies to delay/hang/drop/"
                               "reset only")
        if not isinstance(self.status, int) or not 100 <= self.status < 600:
            raise ControlError("status must be an HTTP status")
        self.hits = 0
        self.released = threading.Event()

    def matches(self, target, what, instance_id, dry=False):
        if target != self.target or dry != self.dry_run:
            return False
        if self.instance is not None and self.instance != instance_id:
            return False
        if target == "ec2":
            return self.action == "*" or self.action == what
        return what.startswith(self.path)

    def view(self):
        return {
            "id": self.id, "target": self.target, "action": self.action,
            "path": self.path, "instance": self.instance,
            "mode": self.mode, "code": self.code, "status": self.status,
            "ms": self.ms, "remaining": self.count, "hits": self.hits,
            "after": self.after, "dry_run": self.dry_run,
        }

    def describe(self):
        if self.mode == "error":
            return "error %s/%d" % (self.code, self.status)
        if self.mode == "delay":
            return "delay %dms" % self.ms
        return self.mode + (" after" if self.after else "")


class Faults:
    """Active fault rules; the oldest matching rule wins and a counted
    rule disappears once used up."""

    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []
        self.next_id = 1

    def add(self, spec):
        with self.lock:
            f = Fault(spec, self.next_id)
            self.next_id += 1
            self.rules.append(f)
            return f

    def take(self, target, what, instance_id, errors_too=True, dry=False):
        with self.lock:
            for f in self.rules:
                if f.mode == "error" and not errors_too:
                    continue
                if f.matches(target, what, instance_id, dry):
                    f.hits += 1
                    if f.count is not None:
                        f.count -= 1
                        if f.count == 0:
                            self.rules.remove(f)
                    return f
        return None

    def clear(self, fid=None):
        with self.lock:
            keep = []
            for f in self.rules:
                if fid is None or f.id == fid:
                    f.released.set()
                else:
                    keep.append(f)
            found = len(keep) != len(self.rules)
            self.rules = keep
            return found

    def view(self):
        with self.lock:
            return [f.view() for f in self.rules]
