# tests/e2e/private.sh - the private-address types (secondary_ip, route) in
# the namespace topology. Source it after tests/e2e/netns.sh and
# tests/e2e/dataplane.sh, before emu_start.
#
#   route:        OVERLAY/32 in route tables RTB1 (no such route at start)
#                 and RTB2 (pointing at node b), outside the VPC range; the
#                 client reaches it through the API namespace, which routes
#                 it (dataplane.py --routes) to the node the tables name.
#   secondary_ip: SECIP in the nodes' shared subnet 10.200.0.0/24 (the
#                 heartbeat link 0 is that subnet's wire); routed the same
#                 way to the node whose interface holds it.
#
# private_world [same|split]  the world's subnets and route tables: both
#                 nodes in one subnet (same AZ; the default) or each in its
#                 own (split).
# host_has a|b IP   the address is on the node's interfaces.
# client_sees NAME URL  the client's GET of URL answers NAME (node-a, node-b).

RTB1=rtb-0e2e0000000000001
RTB2=rtb-0e2e0000000000002
OVERLAY=192.168.100.10
SECIP=10.200.0.50
ENI_A=eni-0aaaaaaaaaaaaaaa1
ENI_B=eni-0bbbbbbbbbbbbbbb2
SUBNET=subnet-0e2e0000000000001
SUBNET_B=subnet-0e2e0000000000002

private_world() {
	if [ "${1:-same}" = split ]; then
		_sb=$SUBNET_B
		_subnets="{\"id\": \"$SUBNET\", \"cidr\": \"10.200.0.0/25\", \"az\": \"${REGION}a\"},
    {\"id\": \"$SUBNET_B\", \"cidr\": \"10.200.0.128/25\", \"az\": \"${REGION}b\"}"
	else
		_sb=$SUBNET
		_subnets="{\"id\": \"$SUBNET\", \"cidr\": \"10.200.0.0/24\", \"az\": \"${REGION}a\"}"
	fi
	INST_A_EXTRA=", \"subnet_id\": \"$SUBNET\", \"source_dest_check\": ${SDC_A:-false}"
	INST_B_EXTRA=", \"subnet_id\": \"$_sb\", \"source_dest_check\": ${SDC_B:-false}"
	WORLD_EXTRA="
  \"subnets\": [ $_subnets ],
  \"route_tables\": [
    {\"id\": \"$RTB1\"},
    {\"id\": \"$RTB2\", \"routes\": [
      {\"destination\": \"$OVERLAY/32\", \"eni\": \"$ENI_B\"}]}
  ],"
	# The client's way to both private destinations is the API namespace.
	ip -n "$NS_C" route add 192.168.100.0/24 via 10.203.0.1
	ip -n "$NS_C" route add "$SECIP/32" via 10.203.0.1
}

ROUTE_RES="{ type = \"route\"; destination = \"$OVERLAY/32\";
    route_tables = [ \"$RTB1\", \"$RTB2\" ]; local_address = true; }"
SECIP_RES="{ type = \"secondary_ip\"; address = \"$SECIP\"; }"

host_has() {
	ip -n "$(ns_of "$1")" -4 addr show | grep -q "inet $2/"
}

# Only the node named has the address (the other node's namespace not).
host_only() {
	_o=b
	[ "$1" = b ] && _o=a
	host_has "$1" "$2" && ! host_has "$_o" "$2"
}

client_sees() {
	[ "$(ip netns exec "$NS_C" "$PYTHON3" -c "
import urllib.request, sys
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=1).read().decode())
except Exception as e:
    print('error', e)" "$2")" = "$1" ]
}

# imds_get a|b PATH: an IMDSv2 GET from the node's namespace (the emulator
# knows the instance by the source address).
imds_get() {
	ip netns exec "$(ns_of "$1")" "$PYTHON3" -c "
import urllib.request, sys
b = sys.argv[1]
t = urllib.request.urlopen(urllib.request.Request(b + '/latest/api/token',
    method='PUT', headers={'X-aws-ec2-metadata-token-ttl-seconds': '60'}),
    timeout=2).read().decode()
print(urllib.request.urlopen(urllib.request.Request(b + sys.argv[2],
    headers={'X-aws-ec2-metadata-token': t}), timeout=2).read().decode())
" "$IMDS_URL" "$2"
}

# imds_has a|b IP: the node's IMDS local-ipv4s lists IP.
imds_has() {
	_mac=$(imds_get "$1" /latest/meta-data/mac) &&
		imds_get "$1" "/latest/meta-data/network/interfaces/macs/$_mac/local-ipv4s" |
		grep -q -x "$2"
}
