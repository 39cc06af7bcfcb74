"""The call log: one record per EC2 or IMDS request, for /_emu/calls."""

import re
import threading


class CallLog:
    def __init__(self):
        self.lock = threading.Lock()
        self.calls = []
        self.seq = 0

    def add(self, rec):
        with self.lock:
            self.seq += 1
            rec["seq"] = self.seq
            self.calls.append(rec)
            if len(self.calls) > 100000:
                del self.calls[:10000]

    def reset(self):
        with self.lock:
            self.calls = []

    def query(self, service="ec2", action=None, since=0, dry=None):
        """dry: None every call, False none with DryRun=true (a DryRun
        moves nothing, so it is no write), True only those."""
        with self.lock:
            out = []
            for c in self.calls:
                if c["seq"] <= since:
                    continue
                if dry is not None and is_dry(c) != dry:
                    continue
                if service != "all" and c["service"] != service:
                    continue
                if action and c.get("action") != action:
                    continue
                out.append(dict(c))
            return out


def is_dry(c):
    return str(c.get("params", {}).get("DryRun", "")).lower() == "true"


SECRET_PARAM_RE = re.compile(r"secret|token|password|signature", re.I)


def safe_params(params):
    return {k: ("<redacted>" if SECRET_PARAM_RE.search(k) else v)
        for k, v in params.items()}
