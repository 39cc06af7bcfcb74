"""The EC2 actions over a World: parameters in, response XML out."""

import fnmatch
import hashlib
import re
from xml.sax.saxutils import escape as xml_escape

from .common import EmuError, log
from .net import NetApi


def to_xml(name, value):
    """Python value -> EC2 XML: dicts nest, lists become <item>s, None is
    left out."""
    if value is None:
        return ""
    if isinstance(value, dict):
        inner = "".join(to_xml(k, v) for k, v in value.items())
        return "<%s>%s</%s>" % (name, inner, name)
    if isinstance(value, list):
        if not value:
            return "<%s/>" % name
        inner = "".join(to_xml("item", v) for v in value)
        return "<%s>%s</%s>" % (name, inner, name)
    if isinstance(value, bool):
        value = "true" if value else "false"
    return "<%s>%s</%s>" % (name, xml_escape(str(value)), name)


def indexed(params, prefix):
    """Prefix.1, Prefix.2, ... -> values in index order."""
    out = []
    rx = re.compile(re.escape(prefix) + r"\.(\d+)$")
    for k, v in params.items():
        m = rx.match(k)
        if m:
            out.append((int(m.group(1)), v))
    return [v for _, v in sorted(out)]


def parse_filters(params):
    """Filter.N.Name / Filter.N.Value.M -> [(name, [values])]."""
    filters = {}
    rx = re.compile(r"Filter\.(\d+)\.(Name|Value\.(\d+))$")
    for k, v in params.items():
        m = rx.match(k)
        if not m:
            continue
        f = filters.setdefault(int(m.group(1)), {"name": None,
                                                 "values": []})
        if m.group(2) == "Name":
            f["name"] = v
        else:
            f["values"].append((int(m.group(3)), v))
    out = []
    for n in sorted(filters):
        f = filters[n]
        if f["name"] is None:
            raise EmuError("InvalidParameterValue",
                "The filter 'null' is invalid")
        out.append((f["name"], [v for _, v in sorted(f["values"])]))
    return out


def parse_bool(params, key):
    v = params.get(key)
    if v is None:
        return False
    if v.lower() in ("true", "1"):
        return True
    if v.lower() in ("false", "0"):
        return False
    raise EmuError("InvalidParameterValue",
        "Invalid value '%s' for %s. Expected a boolean." % (v, key))


def check_params(params, allowed):
    common = ("Action", "Version", "DryRun")
    for k in params:
        if k in common:
            continue
        if not any(re.fullmatch(p, k) for p in allowed):
            raise EmuError("UnknownParameter",
                "The parameter %s is not recognized" % k)


STATE_CODES = {"pending": 0, "running": 16, "shutting-down": 32,
               "terminated": 48, "stopping": 64, "stopped": 80}


def instance_state(inst):
    return {"code": STATE_CODES[inst.state], "name": inst.state}


FILTER_PARAMS = (r"Filter\.\d+\.Name", r"Filter\.\d+\.Value\.\d+")


class Ec2Api:
    """The EC2 actions over a World.  Each returns the response's inner
    XML (after requestId) or raises EmuError."""

    def __init__(self, world):
        self.world = world
        self.actions = {
            "DescribeAddresses": self.describe_addresses,
            "AssociateAddress": self.associate_address,
            "DisassociateAddress": self.disassociate_address,
            "DescribeInstances": self.describe_instances,
            "DescribeInstanceStatus": self.describe_instance_status,
        }
        self.actions.update(NetApi(world, self).actions)

    # The helpers the other action modules (net.py) use.
    FILTERS = FILTER_PARAMS
    check = staticmethod(check_params)
    bool = staticmethod(parse_bool)
    indexed = staticmethod(indexed)
    filters = staticmethod(parse_filters)
    xml = staticmethod(to_xml)

    def dry(self, dry):
        self._dry_run(dry)

    def instance(self, iid):
        return self._find_instance(iid)

    def run(self, action, params):
        fn = self.actions.get(action)
        if fn is None:
            raise EmuError("InvalidAction",
                "The action %s is not valid for this web service."
                % action)
        with self.world.lock:
            return fn(params, parse_bool(params, "DryRun"))

    @staticmethod
    def _dry_run(dry):
        if dry:
            raise EmuError("DryRunOperation",
                "Request would have succeeded, but DryRun flag is "
                "set.")

    def _address_item(self, a):
        w = self.world
        item = {
            "publicIp": a.public_ip,
            "allocationId": a.allocation_id,
            "domain": "vpc",
        }
        if a.association_id:
            item.update({
                "instanceId": a.instance_id,
                "associationId": a.association_id,
                "networkInterfaceId": a.eni_id,
                "networkInterfaceOwnerId": w.account,
                "privateIpAddress": a.private_ip,
            })
        item["tagSet"] = []
        item["publicIpv4Pool"] = "amazon"
        item["networkBorderGroup"] = w.region
        return item

    ADDRESS_FILTERS = {
        "allocation-id": lambda a: a.allocation_id,
        "association-id": lambda a: a.association_id,
        "instance-id": lambda a: a.instance_id,
        "network-interface-id": lambda a: a.eni_id,
        "network-interface-owner-id": None, # filled in below
        "private-ip-address": lambda a: a.private_ip,
        "public-ip": lambda a: a.public_ip,
        "domain": lambda a: "vpc",
        "network-border-group": None,
    }

    def _address_field(self, name, a):
        if name == "network-interface-owner-id":
            return self.world.account if a.association_id else None
        if name == "network-border-group":
            return self.world.region
        return self.ADDRESS_FILTERS[name](a)

    def describe_addresses(self, params, dry):
        check_params(params, (r"AllocationId\.\d+", r"PublicIp\.\d+") +
                     FILTER_PARAMS)
        w = self.world
        filters = parse_filters(params)
        for name, _ in filters:
            if name not in self.ADDRESS_FILTERS:
                raise EmuError("InvalidParameterValue",
                    "The filter '%s' is invalid" % name)
        allocs = indexed(params, "AllocationId")
        ips = indexed(params, "PublicIp")
        for alloc in allocs:
            if not alloc.startswith("eipalloc-"):
                raise EmuError("InvalidAllocationID.Malformed",
                    "Invalid id: \"%s\" (expecting "
                    "\"eipalloc-...\")" % alloc)
            if w.address_by_alloc(alloc) is None:
                raise EmuError("InvalidAllocationID.NotFound",
                    "The allocation ID '%s' does not exist" %
                    alloc)
        for ip in ips:
            if w.address_by_ip(ip) is None:
                raise EmuError("InvalidAddress.NotFound",
                    "Address '%s' not found." % ip)
        self._dry_run(dry)
        items = []
        for a in w.addresses:
            if allocs and a.allocation_id not in allocs:
                continue
            if ips and a.public_ip not in ips:
                continue
            a = w.read_view(a) # eventually consistent, like EC2
            if not all(self._filter_ok(name, vals, a)
                       for name, vals in filters):
                continue
            items.append(self._address_item(a))
        return to_xml("addressesSet", items)

    def _filter_ok(self, name, vals, a):
        v = self._address_field(name, a)
        if v is None:
            return False
        return any(fnmatch.fnmatchcase(v, pat) for pat in vals)

    def _find_instance(self, iid):
        inst = self.world.instances.get(iid)
        if inst is None:
            if not re.fullmatch(r"i-[0-9a-f]{8,17}", iid):
                raise EmuError("InvalidInstanceID.Malformed",
                    "Invalid id: \"%s\"" % iid)
            raise EmuError("InvalidInstanceID.NotFound",
                "The instance ID '%s' does not exist" % iid)
        return inst

    def associate_address(self, params, dry):
        check_params(params, ("AllocationId", "PublicIp", "InstanceId",
                              "NetworkInterfaceId", "PrivateIpAddress",
                              "AllowReassociation"))
        w = self.world
        alloc = params.get("AllocationId")
        pub = params.get("PublicIp")
        if alloc is None and pub is None:
            raise EmuError("MissingParameter",
                "The request must contain the parameter "
                "AllocationId")
        iid = params.get("InstanceId")
        eni = params.get("NetworkInterfaceId")
        if iid is None and eni is None:
            raise EmuError("MissingParameter",
                "Either an instance ID or a network interface ID "
                "must be specified")
        if iid is not None and eni is not None:
            raise EmuError("InvalidParameterCombination",
                "Only one of instance ID or network interface ID "
                "may be specified")
        reassoc = parse_bool(params, "AllowReassociation")
        if alloc is not None:
            addr = w.address_by_alloc(alloc)
            if addr is None:
                raise EmuError("InvalidAllocationID.NotFound",
                    "The allocation ID '%s' does not exist" %
                    alloc)
        else:
            addr = w.address_by_ip(pub)
            if addr is None:
                raise EmuError("InvalidAddress.NotFound",
                    "Address '%s' not found." % pub)
        if iid is not None:
            inst = self._find_instance(iid)
        else:
            inst = w.instance_by_eni(eni)
            if inst is None:
                raise EmuError(
                    "InvalidNetworkInterfaceID.NotFound",
                    "The networkInterface ID '%s' does not "
                    "exist" % eni)
        pip = params.get("PrivateIpAddress")
        if pip is not None and pip not in w.net.ips_of(inst):
            raise EmuError("InvalidParameterValue",
                "The private IP address %s is not assigned to "
                "network interface %s" % (pip, inst.eni_id))
        if addr.association_id and not reassoc:
            raise EmuError("Resource.AlreadyAssociated",
                "resource %s is already associated with "
                "associate-id %s" % (addr.allocation_id,
                                     addr.association_id))
        self._dry_run(dry)
        assoc = w.associate(addr, inst, pip)
        log("ec2: %s (%s) -> %s (%s)", addr.allocation_id,
            addr.public_ip, inst.id, assoc)
        return to_xml("return", True) + to_xml("associationId", assoc)

    def disassociate_address(self, params, dry):
        check_params(params, ("AssociationId", "PublicIp"))
        w = self.world
        assoc = params.get("AssociationId")
        pub = params.get("PublicIp")
        if assoc is None and pub is None:
            raise EmuError("MissingParameter",
                "The request must contain the parameter "
                "AssociationId")
        if assoc is not None:
            addr = None
            for a in w.addresses:
                if a.association_id == assoc:
                    addr = a
            if addr is None:
                raise EmuError("InvalidAssociationID.NotFound",
                    "The association ID '%s' does not exist" %
                    assoc)
        else:
            addr = w.address_by_ip(pub)
            if addr is None:
                raise EmuError("InvalidAddress.NotFound",
                    "Address '%s' not found." % pub)
        self._dry_run(dry)
        if addr.association_id:
            log("ec2: %s (%s) disassociated from %s",
                addr.allocation_id, addr.public_ip,
                addr.instance_id)
        w.disassociate(addr)
        return to_xml("return", True)

    def describe_instances(self, params, dry):
        check_params(params, (r"InstanceId\.\d+", "MaxResults",
                              "NextToken") + FILTER_PARAMS)
        w = self.world
        ids = indexed(params, "InstanceId")
        for iid in ids:
            self._find_instance(iid)
        filters = parse_filters(params)
        for name, _ in filters:
            if name not in ("instance-id", "private-ip-address",
                    "availability-zone",
                    "network-interface.network-interface-id"):
                raise EmuError("InvalidParameterValue",
                    "The filter '%s' is invalid" % name)
        self._dry_run(dry)
        items = []
        for inst in w.instances.values():
            if ids and inst.id not in ids:
                continue
            fields = {
                "instance-id": inst.id,
                "private-ip-address": inst.private_ip,
                "availability-zone": inst.az,
                "network-interface.network-interface-id":
                inst.eni_id,
            }
            if not all(any(fnmatch.fnmatchcase(fields[n], p)
                           for p in vals) for n, vals in filters):
                continue
            items.append(self._reservation(inst))
        return to_xml("reservationSet", items)

    def describe_instance_status(self, params, dry):
        """AWS: only running instances unless IncludeAllInstances=true;
        the reachability checks are "not-applicable" when not running."""
        check_params(params, (r"InstanceId\.\d+", "MaxResults",
                              "NextToken", "IncludeAllInstances")
                     + FILTER_PARAMS)
        ids = indexed(params, "InstanceId")
        for iid in ids:
            self._find_instance(iid)
        if parse_filters(params):
            raise EmuError("InvalidParameterValue",
                "This emulator supports no DescribeInstanceStatus filter")
        include_all = parse_bool(params, "IncludeAllInstances")
        self._dry_run(dry)
        items = []
        for inst in self.world.instances.values():
            if ids and inst.id not in ids:
                continue
            running = inst.state == "running"
            if not running and not include_all:
                continue

            def check(status):
                if not running:
                    status = "not-applicable"
                return {"status": status, "details": [{
                    "name": "reachability",
                    "status": {"ok": "passed", "impaired": "failed"}.get(
                        status, status)}]}
            items.append({
                "instanceId": inst.id,
                "availabilityZone": inst.az,
                "instanceState": instance_state(inst),
                "systemStatus": check(inst.system_status),
                "instanceStatus": check(inst.instance_status),
            })
        return to_xml("instanceStatusSet", items)

    def _reservation(self, inst):
        w = self.world
        pub = None
        for a in w.addresses:
            if a.instance_id == inst.id and \
                a.private_ip == inst.private_ip:
                pub = a.public_ip
        eni = {
            "networkInterfaceId": inst.eni_id,
            "ownerId": w.account,
            "status": "in-use",
            "macAddress": inst.mac(),
            "privateIpAddress": inst.private_ip,
        }
        if pub:
            eni["association"] = {"publicIp": pub,
                                  "ipOwnerId": w.account}
        desc = {
            "instanceId": inst.id,
            "imageId": "ami-0e0e0e0e0e0e0e0e0",
            "instanceState": instance_state(inst),
            "privateIpAddress": inst.private_ip,
            "ipAddress": pub,
            "instanceType": "t3.micro",
            "placement": {"availabilityZone": inst.az,
                          "tenancy": "default"},
            "networkInterfaceSet": [eni],
        }
        return {
            "reservationId": "r-" + hashlib.sha256(
                inst.id.encode()).hexdigest()[:17],
            "ownerId": w.account,
            "groupSet": [],
            "instancesSet": [desc],
        }
