#!/bin/sh
# test_emu_consistency.sh - the emulator's eventual consistency: with
# read_lag_ms DescribeAddresses answers with the association of N ms ago,
# with empty_read_ms it shows no association for N ms after each change;
# AssociateAddress issues a fresh eipassoc- id every time and the state
# counts remaps per allocation. Standard library only (tests/emutest.py's
# SigV4 signer), 127.0.0.1 only. Exit 0 pass, 1 fail, 77 skip.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
[ -x "$PY" ] || { echo "SKIP: $PY not found"; exit 77; }
exec "$PY" - "$HERE/.." <<'EOF'
import sys, time
sys.path.insert(0, sys.argv[1])
import emutest
from emutest import tag

KEY, SECRET, REGION = "AKIAEMUTEST000000001", "emu/consistency/secret", "eu-west-1"
IA, IB, ALLOC = "i-0aaaaaaaaaaaaaaa1", "i-0bbbbbbbbbbbbbbb2", "eipalloc-0abc"
world = {
    "region": REGION,
    "instances": [{"id": IA, "private_ip": "10.0.0.20"},
                  {"id": IB, "private_ip": "10.0.1.20"}],
    "addresses": [{"allocation_id": ALLOC, "public_ip": "52.1.2.3",
                   "instance_id": IA, "association_id": "eipassoc-0first"}],
    "access_keys": [{"access_key_id": KEY, "secret": SECRET}],
}
t = emutest.Emu("test_emu_consistency", world, KEY, SECRET)
check, control = t.check, t.control

def read():
    x = t.call("DescribeAddresses", **{"AllocationId.1": ALLOC})[1]
    return tag(x, "instanceId"), tag(x, "associationId")

def associate(iid):
    x = t.call("AssociateAddress", AllocationId=ALLOC, InstanceId=iid,
               AllowReassociation="true")[1]
    return tag(x, "associationId")

def addr_state():
    return control("GET", "/_emu/state")["addresses"][0]

# Consistent by default; every AssociateAddress is a fresh association.
st = addr_state()
check("state_shows_association_id_and_zero_remaps",
      st["association_id"] == "eipassoc-0first" and st["remaps"] == 0, st)
a1 = associate(IB)
a2 = associate(IB)
check("associate_returns_fresh_association_ids",
      a1.startswith("eipassoc-") and a2.startswith("eipassoc-") and
      len({a1, a2, "eipassoc-0first"}) == 3, (a1, a2))
check("consistent_read_shows_the_latest_write", read() == (IB, a2), read())
st = addr_state()
check("remaps_count_every_association",
      st["remaps"] == 2 and st["association_id"] == a2, st)

# read_lag_ms: reads answer with the association of N ms ago.
st = control("POST", "/_emu/set", {"read_lag_ms": 1500})
check("set_read_lag_shows_in_state", st["read_lag_ms"] == 1500, st)
time.sleep(1.6)  # a2 is older than the lag now
r = read()
check("lagging_read_shows_an_old_enough_write", r == (IB, a2), r)
a3 = associate(IA)
r = read()
check("lagging_read_shows_the_previous_association", r == (IB, a2), r)
check("state_is_current_while_reads_lag",
      addr_state()["association_id"] == a3)
time.sleep(1.7)
r = read()
check("lagging_read_catches_up_after_the_lag", r == (IA, a3), r)

# empty_read_ms: no association at all for N ms after each change.
control("POST", "/_emu/set", {"read_lag_ms": 0, "empty_read_ms": 1000})
a4 = associate(IB)
r = read()
check("empty_read_right_after_a_change", r == (None, None), r)
time.sleep(1.2)
r = read()
check("empty_read_ends_after_the_window", r == (IB, a4), r)

# Both: the empty window follows the lagged change.
control("POST", "/_emu/set", {"read_lag_ms": 1000, "empty_read_ms": 1000})
time.sleep(1.0)  # a4 is out of both windows now
a5 = associate(IA)
r1 = read()
time.sleep(1.3)
r2 = read()
time.sleep(1.0)
r3 = read()
check("lag_then_empty_then_new",
      r1 == (IB, a4) and r2 == (None, None) and r3 == (IA, a5),
      (r1, r2, r3))

# A console change is a remap too; bad values are refused.
control("POST", "/_emu/set", {"read_lag_ms": 0, "empty_read_ms": 0,
                              "associate": {"allocation_id": ALLOC,
                                            "instance_id": IB}})
check("console_associate_counts_a_remap", addr_state()["remaps"] == 6,
      addr_state())
check("negative_read_lag_is_refused", t.refused({"read_lag_ms": -1}))
t.done()
EOF
