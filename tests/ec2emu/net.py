"""Subnets, network interfaces' secondary private IPs, route tables and
the EC2 actions over them (AssignPrivateIpAddresses,
UnassignPrivateIpAddresses, DescribeNetworkInterfaces,
DescribeNetworkInterfaceAttribute, DescribeRouteTables, ReplaceRoute,
CreateRoute).

Reads are eventually consistent like DescribeAddresses: they answer with
the state of read_lag_ms ago (World.read_lag_ms), and show nothing for
empty_read_ms after each change. The data plane and IMDS follow the truth.
"""

import hashlib
import ipaddress
import re
import time

from .common import EmuError, log

HISTORY_KEEP_S = 600.0


class Lagged:
    """A value whose reads may lag behind its writes."""

    def __init__(self, value):
        self.value = value
        self.history = [(float("-inf"), value)]

    def set(self, value):
        now = time.monotonic()
        self.value = value
        self.history.append((now, value))
        while len(self.history) > 2 and \
            self.history[1][0] < now - HISTORY_KEEP_S:
            del self.history[0]

    def view(self, world, empty=None):
        """The value as a read sees it now (see World.read_view)."""
        return self.view_lagged(world.read_lag_ms, world.empty_read_ms,
                                empty)

    def view_lagged(self, lag_ms, empty_ms=0, empty=None):
        if not lag_ms and not empty_ms:
            return self.value
        at = time.monotonic() - lag_ms / 1000.0
        changed, val = self.history[0]
        for t, v in self.history[1:]:
            if t > at:
                break
            changed, val = t, v
        if at - changed < empty_ms / 1000.0:
            return empty
        return val


class RouteTable:
    def __init__(self, spec, net):
        self.id = spec.get("id", "")
        if not re.fullmatch(r"rtb-[0-9a-f]{8,17}", self.id):
            raise ValueError("route table id %r is not rtb-<hex>" %
                             self.id)
        self.vpc_id = spec.get("vpc_id", net.vpc_id)
        # destination -> target: {"eni": id} or {"gateway": id}
        routes = {}
        for r in spec.get("routes", []):
            dest = _cidr(r.get("destination", ""))
            if dest is None:
                raise ValueError("%s: bad route destination %r" %
                                 (self.id, r.get("destination")))
            if r.get("eni"):
                routes[dest] = {"eni": r["eni"]}
            elif r.get("gateway"):
                routes[dest] = {"gateway": r["gateway"]}
            else:
                raise ValueError("%s: route %s needs eni or gateway" %
                                 (self.id, dest))
        self.routes = Lagged(routes)


def _cidr(text):
    try:
        n = ipaddress.IPv4Network(text, strict=True)
    except ValueError:
        return None
    return str(n)


class NetWorld:
    """The network part of the World; the World's lock guards it."""

    def __init__(self, spec, world):
        self.world = world
        # AssignPrivateIpAddresses is asynchronous: IMDS local-ipv4s
        # shows a remap remap_ms after the call (POST /_emu/set).
        self.remap_ms = 0
        self.vpc_id = spec.get("vpc_id", "vpc-0e2e0000000000001")
        self.vpc_cidr = spec.get("vpc_cidr", "10.0.0.0/8")
        self.subnets = {}
        for s in spec.get("subnets", []):
            net = ipaddress.IPv4Network(s["cidr"], strict=True)
            self.subnets[s["id"]] = {"cidr": net, "az": s.get("az")}
        for inst in world.instances.values():
            ispec = next(i for i in spec.get("instances", [])
                         if i.get("id") == inst.id)
            inst.subnet_id = ispec.get("subnet_id") or self._subnet_for(
                inst)
            inst.source_dest_check = bool(ispec.get("source_dest_check",
                                                    True))
        # secondary private IP -> Lagged(eni id or None)
        self.secondary = {}
        for inst in world.instances.values():
            for ip in inst.private_ips[1:]:
                self.secondary[ip] = Lagged(inst.eni_id)
        self.tables = {}
        for t in spec.get("route_tables", []):
            rt = RouteTable(t, self)
            self.tables[rt.id] = rt

    def _subnet_for(self, inst):
        """A /24 around the primary address, one per AZ and /24."""
        net = ipaddress.IPv4Network(inst.private_ip + "/24", strict=False)
        for sid, s in self.subnets.items():
            if ipaddress.IPv4Address(inst.private_ip) in s["cidr"]:
                return sid
        sid = "subnet-" + hashlib.sha256(
            ("%s %s" % (net, inst.az)).encode()).hexdigest()[:17]
        self.subnets[sid] = {"cidr": net, "az": inst.az}
        return sid

    # -- truth (for the data plane, IMDS and the control API) --

    def ips_of(self, inst, view=False, imds=False):
        """The instance's addresses: now, as a read sees them (view), or
        as its IMDS does (after remap_ms)."""
        ips = [inst.private_ip]
        for ip, owner in self.secondary.items():
            v = owner.view(self.world) if view else \
                owner.view_lagged(self.remap_ms) if imds else owner.value
            if v == inst.eni_id:
                ips.append(ip)
        return ips

    def state(self):
        w = self.world
        by_eni = {i.eni_id: i.id for i in w.instances.values()}
        return {
            "secondary_ips": {ip: {"network_interface_id": o.value,
                                   "instance_id": by_eni.get(o.value)}
                              for ip, o in self.secondary.items()},
            "route_tables": [{
                "id": t.id,
                "routes": [dict(destination=d, instance_id=by_eni.get(
                    r.get("eni")), **r)
                           for d, r in sorted(t.routes.value.items())],
            } for t in self.tables.values()],
            "subnets": {sid: {"cidr": str(s["cidr"]), "az": s["az"]}
                        for sid, s in self.subnets.items()},
            "remap_ms": self.remap_ms,
        }

    # -- changes (the API and the control endpoint) --

    def assign(self, inst, ip):
        cur = self.secondary.get(ip)
        if cur is None:
            self.secondary[ip] = Lagged(None)
            cur = self.secondary[ip]
        cur.set(inst.eni_id)
        # Moving a secondary IP moves the EIP associated with it.
        for a in self.world.addresses:
            if a.private_ip == ip and a.eni_id != inst.eni_id and \
                a.association_id:
                self.world._bind(a, inst, inst.eni_id, ip,
                                 a.association_id)

    def unassign(self, ip):
        if ip in self.secondary:
            self.secondary[ip].set(None)

    def set_route(self, table, dest, target):
        routes = dict(table.routes.value)
        if target is None:
            routes.pop(dest, None)
        else:
            routes[dest] = target
        table.routes.set(routes)


class NetApi:
    """The network actions; Ec2Api registers them (same lock, same
    parameter rules, same DryRun handling)."""

    def __init__(self, world, api):
        self.world = world
        self.api = api
        self.actions = {
            "AssignPrivateIpAddresses": self.assign_private_ip_addresses,
            "UnassignPrivateIpAddresses":
                self.unassign_private_ip_addresses,
            "DescribeNetworkInterfaces": self.describe_network_interfaces,
            "DescribeNetworkInterfaceAttribute":
                self.describe_network_interface_attribute,
            "DescribeRouteTables": self.describe_route_tables,
            "ReplaceRoute": self.replace_route,
            "CreateRoute": self.create_route,
        }

    @property
    def net(self):
        return self.world.net

    def _eni(self, eni):
        if eni is None:
            raise EmuError("MissingParameter",
                "The request must contain the parameter "
                "networkInterfaceId")
        if not re.fullmatch(r"eni-[0-9a-z]{4,17}", eni):
            raise EmuError("InvalidNetworkInterfaceID.Malformed",
                "Invalid id: \"%s\" (expecting \"eni-...\")" % eni)
        inst = self.world.instance_by_eni(eni)
        if inst is None:
            raise EmuError("InvalidNetworkInterfaceID.NotFound",
                "The networkInterface ID '%s' does not exist" % eni)
        return inst

    def _table(self, tid):
        if tid is None:
            raise EmuError("MissingParameter",
                "The request must contain the parameter routeTableId")
        if not re.fullmatch(r"rtb-[0-9a-f]{8,17}", tid):
            raise EmuError("InvalidRouteTableID.Malformed",
                "Invalid id: \"%s\" (expecting \"rtb-...\")" % tid)
        t = self.net.tables.get(tid)
        if t is None:
            raise EmuError("InvalidRouteTableID.NotFound",
                "The routeTable ID '%s' does not exist" % tid)
        return t

    # -- secondary private IPs --

    def assign_private_ip_addresses(self, params, dry):
        self.api.check(params, ("NetworkInterfaceId",
                                r"PrivateIpAddress\.\d+",
                                "SecondaryPrivateIpAddressCount",
                                "AllowReassignment"))
        inst = self._eni(params.get("NetworkInterfaceId"))
        if "SecondaryPrivateIpAddressCount" in params:
            raise EmuError("InvalidParameterValue",
                "This emulator assigns named addresses only")
        ips = self.api.indexed(params, "PrivateIpAddress")
        if not ips:
            raise EmuError("MissingParameter",
                "Either PrivateIpAddresses or "
                "SecondaryPrivateIpAddressCount must be specified")
        reassign = self.api.bool(params, "AllowReassignment")
        subnet = self.net.subnets[inst.subnet_id]["cidr"]
        for ip in ips:
            try:
                addr = ipaddress.IPv4Address(ip)
            except ValueError:
                raise EmuError("InvalidParameterValue",
                    "Invalid private IP address %s" % ip)
            if addr not in subnet:
                raise EmuError("InvalidParameterValue",
                    "Address %s does not fall within the subnet's "
                    "address range" % ip)
            for other in self.world.instances.values():
                if other.private_ip == ip:
                    raise EmuError("InvalidParameterValue",
                        "Address %s is the primary address of %s" %
                        (ip, other.eni_id))
            cur = self.net.secondary.get(ip)
            if cur is not None and cur.value not in (None, inst.eni_id) \
                and not reassign:
                raise EmuError("PrivateIpAddressInUse",
                    "Address %s is in use." % ip)
        self.api.dry(dry)
        for ip in ips:
            self.net.assign(inst, ip)
            log("ec2: secondary %s -> %s (%s)", ip, inst.eni_id, inst.id)
        return (self.api.xml("return", True) +
                self.api.xml("networkInterfaceId", inst.eni_id) +
                self.api.xml("assignedPrivateIpAddressesSet",
                             [{"privateIpAddress": ip} for ip in ips]))

    def unassign_private_ip_addresses(self, params, dry):
        self.api.check(params, ("NetworkInterfaceId",
                                r"PrivateIpAddress\.\d+"))
        inst = self._eni(params.get("NetworkInterfaceId"))
        ips = self.api.indexed(params, "PrivateIpAddress")
        for ip in ips:
            cur = self.net.secondary.get(ip)
            if cur is None or cur.value != inst.eni_id:
                raise EmuError("InvalidParameterValue",
                    "Some of the specified addresses are not assigned "
                    "to interface %s" % inst.eni_id)
        self.api.dry(dry)
        for ip in ips:
            self.net.unassign(ip)
        return self.api.xml("return", True)

    ENI_FILTERS = ("attachment.instance-id", "network-interface-id",
                   "addresses.private-ip-address", "private-ip-address",
                   "subnet-id", "availability-zone")

    def describe_network_interfaces(self, params, dry):
        self.api.check(params, (r"NetworkInterfaceId\.\d+", "MaxResults",
                                "NextToken") + self.api.FILTERS)
        w = self.world
        ids = self.api.indexed(params, "NetworkInterfaceId")
        for eni in ids:
            self._eni(eni)
        filters = self.api.filters(params)
        for name, _ in filters:
            if name not in self.ENI_FILTERS:
                raise EmuError("InvalidParameterValue",
                    "The filter '%s' is invalid" % name)
        self.api.dry(dry)
        items = []
        for inst in w.instances.values():
            if ids and inst.eni_id not in ids:
                continue
            ips = self.net.ips_of(inst, view=True)
            fields = {
                "attachment.instance-id": [inst.id],
                "network-interface-id": [inst.eni_id],
                "addresses.private-ip-address": ips,
                "private-ip-address": [inst.private_ip],
                "subnet-id": [inst.subnet_id],
                "availability-zone": [inst.az],
            }
            if not all(any(v in vals for v in fields[n])
                       for n, vals in filters):
                continue
            items.append(self._eni_item(inst, ips))
        return self.api.xml("networkInterfaceSet", items)

    def _eni_item(self, inst, ips):
        w = self.world
        return {
            "networkInterfaceId": inst.eni_id,
            "subnetId": inst.subnet_id,
            "vpcId": self.net.vpc_id,
            "availabilityZone": inst.az,
            "description": None,
            "ownerId": w.account,
            "requesterManaged": False,
            "status": "in-use",
            "macAddress": inst.mac(),
            "privateIpAddress": inst.private_ip,
            "sourceDestCheck": inst.source_dest_check,
            "groupSet": [],
            "attachment": {
                "attachmentId": "eni-attach-" + inst.eni_id[4:],
                "instanceId": inst.id,
                "instanceOwnerId": w.account,
                "deviceIndex": 0,
                "status": "attached",
                "deleteOnTermination": True,
            },
            "privateIpAddressesSet": [
                {"privateIpAddress": ip, "primary": ip == inst.private_ip}
                for ip in ips],
            "interfaceType": "interface",
        }

    def describe_network_interface_attribute(self, params, dry):
        self.api.check(params, ("NetworkInterfaceId", "Attribute"))
        inst = self._eni(params.get("NetworkInterfaceId"))
        attr = params.get("Attribute")
        if attr != "sourceDestCheck":
            raise EmuError("InvalidParameterValue",
                "Value (%s) for parameter attribute is invalid; this "
                "emulator knows sourceDestCheck" % attr)
        self.api.dry(dry)
        return (self.api.xml("networkInterfaceId", inst.eni_id) +
                self.api.xml("sourceDestCheck",
                             {"value": inst.source_dest_check}))

    # -- route tables --

    def describe_route_tables(self, params, dry):
        self.api.check(params, (r"RouteTableId\.\d+", "MaxResults",
                                "NextToken") + self.api.FILTERS)
        ids = self.api.indexed(params, "RouteTableId")
        for tid in ids:
            self._table(tid)
        if self.api.filters(params):
            raise EmuError("InvalidParameterValue",
                "This emulator supports no DescribeRouteTables filter")
        self.api.dry(dry)
        items = []
        for t in self.net.tables.values():
            if ids and t.id not in ids:
                continue
            items.append(self._table_item(t))
        return self.api.xml("routeTableSet", items)

    def _table_item(self, t):
        w = self.world
        routes = [{"destinationCidrBlock": self.net.vpc_cidr,
                   "gatewayId": "local", "state": "active",
                   "origin": "CreateRouteTable"}]
        for dest, r in sorted(t.routes.view(w, {}).items()):
            item = {"destinationCidrBlock": dest}
            if "eni" in r:
                inst = w.instance_by_eni(r["eni"])
                if inst is not None:
                    item["instanceId"] = inst.id
                    item["instanceOwnerId"] = w.account
                item["networkInterfaceId"] = r["eni"]
                item["state"] = "active" if inst is not None and \
                    inst.state == "running" else "blackhole"
            else:
                item["gatewayId"] = r["gateway"]
                item["state"] = "active"
            item["origin"] = "CreateRoute"
            routes.append(item)
        return {
            "routeTableId": t.id,
            "vpcId": t.vpc_id,
            "ownerId": w.account,
            "routeSet": routes,
            "associationSet": [],
            "propagatingVgwSet": [],
            "tagSet": [],
        }

    def _route_args(self, params):
        self.api.check(params, ("RouteTableId", "DestinationCidrBlock",
                                "NetworkInterfaceId", "InstanceId",
                                "GatewayId"))
        t = self._table(params.get("RouteTableId"))
        raw = params.get("DestinationCidrBlock")
        if raw is None:
            raise EmuError("MissingParameter",
                "The request must contain the parameter "
                "destinationCidrBlock")
        dest = _cidr(raw)
        if dest is None:
            raise EmuError("InvalidParameterValue",
                "Value (%s) for parameter destinationCidrBlock is "
                "invalid. This is not a valid CIDR block." % raw)
        targets = [k for k in ("NetworkInterfaceId", "InstanceId",
                               "GatewayId") if k in params]
        if len(targets) != 1:
            raise EmuError("InvalidParameterCombination",
                "Exactly one target must be specified")
        if "NetworkInterfaceId" in params:
            target = {"eni": self._eni(params["NetworkInterfaceId"]).eni_id}
        elif "InstanceId" in params:
            target = {"eni": self.api.instance(params["InstanceId"]).eni_id}
        else:
            target = {"gateway": params["GatewayId"]}
        return t, dest, target

    def replace_route(self, params, dry):
        t, dest, target = self._route_args(params)
        if dest not in t.routes.value:
            raise EmuError("InvalidParameterValue",
                "There is no route defined for '%s' in the route table. "
                "Use CreateRoute instead." % dest)
        self.api.dry(dry)
        self.net.set_route(t, dest, target)
        log("ec2: route %s in %s -> %s", dest, t.id,
            target.get("eni") or target.get("gateway"))
        return self.api.xml("return", True)

    def create_route(self, params, dry):
        t, dest, target = self._route_args(params)
        if dest in t.routes.value:
            raise EmuError("RouteAlreadyExists",
                "The route identified by %s already exists." % dest)
        self.api.dry(dry)
        self.net.set_route(t, dest, target)
        log("ec2: route %s in %s created -> %s", dest, t.id,
            target.get("eni") or target.get("gateway"))
        return self.api.xml("return", True)
