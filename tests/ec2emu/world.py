"""The world: instances, addresses, keys, role credentials and the clock.

All mutable emulator state lives in one World, guarded by World.lock.
"""

import base64
import hashlib
import json
import secrets
import threading
import time

from .common import ControlError, hex_id, iso8601, log
from .limits import Buckets, denied_actions
from .net import NetWorld


class Instance:
    def __init__(self, spec, world):
        self.id = _req_str(spec, "id", "instance")
        if not self.id.startswith("i-"):
            raise ValueError("instance id %r must start with i-" %
                             self.id)
        self.private_ip = _req_str(spec, "private_ip", self.id)
        self.private_ips = [self.private_ip] + list(
            spec.get("secondary_private_ips", []))
        self.eni_id = spec.get("eni_id") or "eni-" + self.id[2:]
        self.az = spec.get("az") or world.region + "a"
        self.role = spec.get("role", world.role)
        self.imds_listen = spec.get("imds_listen")
        self.source_ips = list(spec.get("source_ips", []))
        self.imds_url = None
        # What DescribeInstances / DescribeInstanceStatus report.
        self.state = spec.get("state", "running")
        self.instance_status = spec.get("instance_status", "ok")
        self.system_status = spec.get("system_status", "ok")
        try:
            self.denied_actions = denied_actions(
                spec.get("denied_actions", []), self.id)
        except ControlError as e:
            raise ValueError(str(e))

    def mac(self):
        h = hashlib.sha256(self.id.encode()).digest()
        return "0a:" + ":".join("%02x" % b for b in h[:5])


class Address:
    def __init__(self, spec):
        self.allocation_id = _req_str(spec, "allocation_id", "address")
        self.public_ip = _req_str(spec, "public_ip",
                                  self.allocation_id)
        # The current association, or None.
        self.association_id = None
        self.instance_id = None
        self.eni_id = None
        self.private_ip = None
        # Successful associations (AssociateAddress or a console
        # change): AWS may bill each remap.
        self.remaps = 0
        # (monotonic time, association snapshot) per change, oldest
        # first, so that reads can lag behind writes (see read_view).
        self.history = [(float("-inf"), self.snapshot())]

    def snapshot(self):
        return (self.association_id, self.instance_id, self.eni_id,
                self.private_ip)


class AddressView:
    """An address as one DescribeAddresses read sees it: the
    association of some moment, not necessarily the current one."""

    def __init__(self, addr, snap):
        self.allocation_id = addr.allocation_id
        self.public_ip = addr.public_ip
        (self.association_id, self.instance_id, self.eni_id,
         self.private_ip) = snap


# Changes older than this are dropped from an address's history
# (reads never lag further).
HISTORY_KEEP_S = 600.0


class RoleCredential:
    """Temporary credentials issued through IMDS to one instance."""

    def __init__(self, instance_id, role, now, ttl):
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
        self.access_key_id = "ASIA" + "".join(
            secrets.choice(alphabet) for _ in range(16))
        self.secret = base64.b64encode(secrets.token_bytes(30)).decode()
        # Real tokens are long and full of '/', '+' and '=': clients
        # must carry them untouched.
        self.token = base64.b64encode(secrets.token_bytes(300)).decode()
        self.instance_id = instance_id
        self.role = role
        self.issued = now
        self.expiration = int(now) + ttl

    def public(self, now):
        return {
            "access_key_id": self.access_key_id,
            "instance_id": self.instance_id,
            "role": self.role,
            "issued": iso8601(self.issued),
            "expiration": iso8601(self.expiration),
            "expired": self.expiration <= now,
        }


def _req_str(spec, key, where):
    v = spec.get(key)
    if not isinstance(v, str) or not v:
        raise ValueError("%s: missing or empty %r" % (where, key))
    return v


class World:
    """All mutable emulator state, guarded by one lock.

    The emulator clock is the wall clock plus clock_offset, so tests can
    make the client look skewed without touching either host clock.
    """

    def __init__(self, spec):
        self.lock = threading.RLock()
        self.region = spec.get("region", "eu-west-1")
        self.account = str(spec.get("account", "123456789012"))
        self.role = spec.get("role", "eipfloatd-role")
        self.credential_ttl = int(spec.get("credential_ttl", 21600))
        self.refresh_ahead = spec.get("credential_refresh_ahead")
        self.clock_offset = float(spec.get("clock_offset", 0))
        self.imds_v1 = bool(spec.get("imds_v1", False))
        try:
            self.buckets = Buckets(spec.get("buckets"))
        except ControlError as e:
            raise ValueError("buckets: %s" % e)
        # Eventual consistency (POST /_emu/set): reads answer with the
        # association of read_lag_ms ago, and show no association for
        # empty_read_ms after each change.
        self.read_lag_ms = 0
        self.empty_read_ms = 0
        self.instances = {}
        for ispec in spec.get("instances", []):
            inst = Instance(ispec, self)
            if inst.id in self.instances:
                raise ValueError("duplicate instance %s" %
                                 inst.id)
            self.instances[inst.id] = inst
        try:
            self.net = NetWorld(spec, self)
        except (KeyError, ValueError, TypeError) as e:
            raise ValueError("network: %s" % e)
        self.addresses = []
        for aspec in spec.get("addresses", []):
            self.addresses.append(Address(aspec))
        for addr, aspec in zip(self.addresses,
                               spec.get("addresses", [])):
            iid = aspec.get("instance_id")
            if iid:
                if iid not in self.instances:
                    raise ValueError(
                        "address %s: unknown instance %s" %
                        (addr.allocation_id, iid))
                inst = self.instances[iid]
                self._bind(addr, inst, inst.eni_id,
                           inst.private_ip,
                           aspec.get("association_id"))
                # The initial association is no change a read can miss.
                addr.history = [(float("-inf"), addr.snapshot())]
        self.static_keys = {}
        for k in spec.get("access_keys", []):
            self.static_keys[_req_str(k, "access_key_id",
                                      "access_keys")] = _req_str(
                                          k, "secret", "access_keys")
        self.role_creds = {}    # access key id -> RoleCredential
        self.current_cred = {}  # instance id -> RoleCredential
        self.imds_tokens = {}   # token -> (instance id, mono expiry)
        if self.credential_ttl < 1:
            raise ValueError("credential_ttl must be >= 1")

    def now(self):
        return time.time() + self.clock_offset

    # -- lookups (caller holds the lock) --

    def address_by_alloc(self, alloc):
        for a in self.addresses:
            if a.allocation_id == alloc:
                return a
        return None

    def address_by_ip(self, ip):
        for a in self.addresses:
            if a.public_ip == ip:
                return a
        return None

    def instance_by_eni(self, eni):
        for i in self.instances.values():
            if i.eni_id == eni:
                return i
        return None

    def instance_by_source(self, ip):
        if ip.startswith("::ffff:"):
            ip = ip[7:]
        for i in self.instances.values():
            if ip in i.source_ips:
                return i
        for i in self.instances.values():
            if ip == i.private_ip:
                return i
        return None

    # -- associations --

    def _bind(self, addr, inst, eni, private_ip, assoc_id=None):
        # One EIP per private address: AWS silently detaches the
        # address that was there before.
        for other in self.addresses:
            if (other is not addr and other.eni_id == eni and
                other.private_ip == private_ip):
                self._unbind(other)
        addr.association_id = assoc_id or hex_id("eipassoc-")
        addr.instance_id = inst.id
        addr.eni_id = eni
        addr.private_ip = private_ip
        self._record(addr)
        return addr.association_id

    def _unbind(self, addr):
        addr.association_id = None
        addr.instance_id = None
        addr.eni_id = None
        addr.private_ip = None
        self._record(addr)

    @staticmethod
    def _record(addr):
        now = time.monotonic()
        addr.history.append((now, addr.snapshot()))
        while len(addr.history) > 2 and \
            addr.history[1][0] < now - HISTORY_KEEP_S:
            del addr.history[0]

    def associate(self, addr, inst, private_ip=None):
        assoc = self._bind(addr, inst, inst.eni_id,
                           private_ip or inst.private_ip)
        addr.remaps += 1
        return assoc

    def read_view(self, addr):
        """The address as a DescribeAddresses read sees it now: the
        association as it was read_lag_ms ago, and none at all while
        that moment is within empty_read_ms of a change. Monotonic
        time, so clock_offset does not move it."""
        if not self.read_lag_ms and not self.empty_read_ms:
            return addr
        at = time.monotonic() - self.read_lag_ms / 1000.0
        changed, snap = addr.history[0]
        for t, s in addr.history[1:]:
            if t > at:
                break
            changed, snap = t, s
        if at - changed < self.empty_read_ms / 1000.0:
            snap = (None, None, None, None)
        return AddressView(addr, snap)

    def disassociate(self, addr):
        self._unbind(addr)

    # -- role credentials --

    def _refresh_ahead(self):
        if self.refresh_ahead is not None:
            return float(self.refresh_ahead)
        return min(300.0, self.credential_ttl / 2.0)

    def role_credential_for(self, inst):
        """The instance's current credentials, rotated ahead of expiry
        as AWS does; older ones stay valid until they expire."""
        now = self.now()
        cur = self.current_cred.get(inst.id)
        if cur is None or cur.expiration - now <= self._refresh_ahead():
            cur = RoleCredential(inst.id, inst.role, now,
                                 self.credential_ttl)
            self.role_creds[cur.access_key_id] = cur
            self.current_cred[inst.id] = cur
            log("imds: issued role credentials %s to %s, expire %s",
                cur.access_key_id, inst.id, iso8601(cur.expiration))
        return cur

    def expire_credentials(self):
        now = self.now()
        for c in self.role_creds.values():
            c.expiration = min(c.expiration, int(now) - 1)
        self.current_cred.clear()

    # -- IMDS tokens (real time: they are not part of the skew game) --

    def new_imds_token(self, inst, ttl):
        tok = base64.urlsafe_b64encode(secrets.token_bytes(42)).decode()
        self.imds_tokens[tok] = (inst.id, time.monotonic() + ttl)
        mono = time.monotonic()
        for t, (_, exp) in list(self.imds_tokens.items()):
            if exp <= mono:
                del self.imds_tokens[t]
        return tok

    def imds_token_valid(self, tok, inst):
        ent = self.imds_tokens.get(tok)
        return (ent is not None and ent[0] == inst.id and
            ent[1] > time.monotonic())

    # -- views --

    def address_view(self, a):
        return {
            "allocation_id": a.allocation_id,
            "public_ip": a.public_ip,
            "association_id": a.association_id,
            "instance_id": a.instance_id,
            "network_interface_id": a.eni_id,
            "private_ip": a.private_ip,
            "remaps": a.remaps,
        }

    def state(self):
        now = self.now()
        return {
            "region": self.region,
            "account": self.account,
            "clock": iso8601(now),
            "clock_offset": self.clock_offset,
            "credential_ttl": self.credential_ttl,
            "credential_refresh_ahead": self._refresh_ahead(),
            "imds_v1": self.imds_v1,
            "read_lag_ms": self.read_lag_ms,
            "empty_read_ms": self.empty_read_ms,
            "addresses": [self.address_view(a) for a in self.addresses],
            "instances": [{
                "id": i.id,
                "private_ip": i.private_ip,
                "eni_id": i.eni_id,
                "az": i.az,
                "role": i.role,
                "imds_url": i.imds_url,
                "source_ips": i.source_ips,
                "denied_actions": sorted(i.denied_actions),
                "state": i.state,
                "instance_status": i.instance_status,
                "system_status": i.system_status,
                "subnet_id": i.subnet_id,
                "source_dest_check": i.source_dest_check,
                "private_ips": self.net.ips_of(i),
            } for i in self.instances.values()],
            "network": self.net.state(),
            "buckets": self.buckets.view(),
            "credentials": [c.public(now)
                    for c in self.role_creds.values()],
        }


def load_world(path):
    try:
        with open(path) as f:
            spec = json.load(f)
    except (OSError, ValueError) as e:
        raise ValueError("cannot read world %s: %s" % (path, e))
    if not isinstance(spec, dict):
        raise ValueError("world %s: top level must be an object" % path)
    known = {"region", "account", "role", "credential_ttl",
             "credential_refresh_ahead", "clock_offset", "imds_v1",
             "instances", "addresses", "access_keys", "comment",
             "buckets", "subnets", "route_tables", "vpc_id", "vpc_cidr"}
    unknown = set(spec) - known
    if unknown:
        raise ValueError("world %s: unknown keys %s" %
                 (path, ", ".join(sorted(unknown))))
    return World(spec)
