"""The account's request limits: EC2's token buckets per API category,
shared by every caller in the account, and IAM denials per instance."""

import threading
import time

from .common import ControlError, EmuError

# EC2's published defaults (bucket size, refill per second). Every caller
# of the account draws from the same buckets, as on AWS, where other
# pairs and tools in the account and Region share them too.
DEFAULT_BUCKETS = {
    "describe": (100, 20.0),    # non-mutating: Describe*
    "mutate": (50, 5.0),        # AssociateAddress and the other writes
}


def category(action):
    return "describe" if action.startswith("Describe") else "mutate"


class Bucket:
    """A token bucket refilled continuously at `rate` per second."""

    def __init__(self, size, rate):
        self.size = size
        self.rate = rate
        self.tokens = float(size)
        self.stamp = time.monotonic()
        self.throttled = 0

    def refill(self, now):
        self.tokens = min(float(self.size),
                          self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def view(self, now):
        self.refill(now)
        return {"size": self.size, "rate": self.rate,
                "tokens": round(self.tokens, 3),
                "throttled": self.throttled}


def _number(v, what, integer=False):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0 \
            or (integer and v != int(v)):
        raise ControlError("%s must be a %s >= 0" %
                           (what, "whole number" if integer else
                            "number"))
    return int(v) if integer else float(v)


class Buckets:
    """The account's buckets. A request that finds its bucket empty is
    refused with RequestLimitExceeded and takes no token."""

    def __init__(self, spec=None):
        self.lock = threading.Lock()
        self.buckets = {k: Bucket(*v) for k, v in DEFAULT_BUCKETS.items()}
        if spec is not None:
            self.set(spec)

    def take(self, action):
        cat = category(action)
        with self.lock:
            b = self.buckets[cat]
            b.refill(time.monotonic())
            if b.tokens >= 1:
                b.tokens -= 1
                return
            b.throttled += 1
        raise EmuError("RequestLimitExceeded", "Request limit exceeded.")

    def set(self, spec):
        """{"mutate": {"size": 5, "rate": 1, "tokens": 0}, "describe":
        null}: size and rate replace the bucket's (a new size fills it);
        tokens sets what is left now; null restores the default, full."""
        if not isinstance(spec, dict):
            raise ControlError("buckets takes an object")
        unknown = set(spec) - set(DEFAULT_BUCKETS)
        if unknown:
            raise ControlError("unknown buckets: %s (known: %s)" % (
                ", ".join(sorted(unknown)),
                ", ".join(sorted(DEFAULT_BUCKETS))))
        with self.lock:
            for cat, b in spec.items():
                if b is None:
                    self.buckets[cat] = Bucket(*DEFAULT_BUCKETS[cat])
                    continue
                if not isinstance(b, dict) or set(b) - {"size", "rate",
                                                         "tokens"}:
                    raise ControlError("bucket %s takes size, rate and "
                                       "tokens" % cat)
                cur = self.buckets[cat]
                cur.refill(time.monotonic())
                if "size" in b:
                    cur.size = _number(b["size"], cat + ".size", True)
                    cur.tokens = float(cur.size)
                if "rate" in b:
                    cur.rate = _number(b["rate"], cat + ".rate")
                if "tokens" in b:
                    cur.tokens = min(float(cur.size),
                                     _number(b["tokens"],
                                             cat + ".tokens"))

    def view(self):
        now = time.monotonic()
        with self.lock:
            return {k: b.view(now) for k, b in self.buckets.items()}


def denied_actions(v, where):
    """A list of EC2 action names IAM denies to an instance's role."""
    if not isinstance(v, list) or not all(isinstance(a, str) and a
                                          for a in v):
        raise ControlError("%s: denied_actions takes a list of action "
                           "names" % where)
    return set(v)


def unauthorized(world, inst, action, params):
    """EC2's UnauthorizedOperation for a role the IAM policy does not
    allow `action`, worded as AWS words it (minus the encoded part)."""
    if params.get("AllocationId"):
        res = "elastic-ip/" + params["AllocationId"]
    elif params.get("InstanceId"):
        res = "instance/" + params["InstanceId"]
    else:
        res = None
    res = "arn:aws:ec2:%s:%s:%s" % (world.region, world.account,
                                    res) if res else "*"
    return EmuError("UnauthorizedOperation",
        "You are not authorized to perform this operation. User: "
        "arn:aws:sts::%s:assumed-role/%s/%s is not authorized to "
        "perform: ec2:%s on resource: %s because no identity-based "
        "policy allows the ec2:%s action." % (
            world.account, inst.role, inst.id, action, res, action))
