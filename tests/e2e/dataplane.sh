# tests/e2e/dataplane.sh - what a client sees: the Elastic IP's data plane,
# a web service on each node and a client probing the EIP. Source it after
# tests/e2e/netns.sh, once topo_up and emu_start have run.
#
# dp_start [DELAY_MS]   the API namespace forwards the client's traffic and
#                       DNATs the EIP to the holder's private IP (nft map),
#                       tests/e2e/dataplane.py follows the emulator and
#                       switches the map DELAY_MS (default $DP_DELAY_MS, 0)
#                       after each association change. Switches are logged
#                       to $T/dp.log ("<epoch> switch <eip> <ip> <instance>").
#                       DP_ROUTES=1: also routes and secondary IPs, to the
#                       holder's api address ("<epoch> route <dest> ...").
# web_start a|b         the node's web service on :80, answering node-a/b.
# probe_start [MS]      the client GETs http://$EIP/ every MS (50) ms into
#                       $T/probe.log; probe_stop ends it.
# probe_gap FROM TO [SINCE]   webprobe.py gap: sets GAP, LAST_FROM,
#                       FIRST_TO, BETWEEN, ANSWERS from $T/probe.log.
#
# A realistic propagation delay is 5000 ms: NGINX's guide "Active-Passive
# HA for NGINX Plus on AWS Using Elastic IP Addresses" (keepalived + an
# EIP, https://docs.nginx.com/nginx/deployment-guides/amazon-web-services/
# high-availability-keepalived/) measured 5-6 s from the reassociation to
# traffic reaching the new instance.

DP_DELAY_MS=${DP_DELAY_MS:-0}
WEBPROBE=$top_srcdir/tests/e2e/webprobe.py

dp_start() {
	_delay=${1:-$DP_DELAY_MS}
	ip netns exec "$NS_X" sysctl -q -w net.ipv4.ip_forward=1 || return 1
	# Only the client's flows are forwarded: the nodes still cannot
	# reach each other through the API namespace.
	ip netns exec "$NS_X" nft -f - <<EOF || return 1
table ip dataplane {
 map eip { type ipv4_addr : ipv4_addr; }
 chain natpre { type nat hook prerouting priority dstnat; policy accept;
  iifname "vc" dnat ip to ip daddr map @eip
 }
 chain forwarding { type filter hook forward priority filter; policy drop;
  iifname "vc" ip saddr 10.203.0.0/30 accept
  oifname "vc" ct state established,related accept
 }
}
EOF
	ip netns exec "$NS_X" "$PYTHON3" "$top_srcdir/tests/e2e/dataplane.py" \
		--emu "$EC2_URL" --delay-ms "$_delay" ${DP_ROUTES:+--routes} \
		>"$T/dp.log" 2>>"$T/emu.log" &
	DP_PID=$!
	track "$DP_PID"
}

# dp_target: the private IP the EIP is NATed to now ("none" when unmapped).
dp_target() {
	ip netns exec "$NS_X" nft get element ip dataplane eip "{ $EIP }" 2>/dev/null |
		sed -n "s/.*$EIP : \([0-9.]*\).*/\1/p" | grep . || echo none
}

web_start() {
	ip netns exec "$(ns_of "$1")" "$PYTHON3" "$WEBPROBE" serve "node-$1" \
		>/dev/null 2>>"$T/web-$1.log" &
	eval "WEB_PID_$1=$!"
	track "$!"
	wait_for 5 ip netns exec "$(ns_of "$1")" "$PYTHON3" -c "
import socket; socket.create_connection(('127.0.0.1', 80), 1)"
}

probe_start() {
	: >"$T/probe.log"
	ip netns exec "$NS_C" "$PYTHON3" "$WEBPROBE" poll "${PROBE_URL:-http://$EIP/}" \
		--interval-ms "${1:-50}" --timeout-ms "${PROBE_TIMEOUT_MS:-300}" \
		>>"$T/probe.log" 2>/dev/null &
	PROBE_PID=$!
	track "$PROBE_PID"
}

# Stopped and reaped here, so the shell prints no job notice later.
probe_stop() {
	[ -n "${PROBE_PID:-}" ] || return 0
	kill -TERM "$PROBE_PID" 2>/dev/null
	wait "$PROBE_PID" 2>/dev/null
	PROBE_PID=
}

# probe_answers: the last probe's answer.
probe_last() { tail -n 1 "$T/probe.log" | awk '{ print $3 }'; }

probe_gap() {
	eval "$("$PYTHON3" "$WEBPROBE" gap "$T/probe.log" "$1" "$2" \
		--since "${3:-0}" | sed -n 's/^\([a-z_]*\)=\(.*\)$/DP_\1="\2"/p')"
	GAP=$DP_gap LAST_FROM=$DP_last_from FIRST_TO=$DP_first_to
	BETWEEN=$DP_between ANSWERS=$DP_answers
}
