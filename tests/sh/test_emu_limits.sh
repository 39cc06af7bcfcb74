#!/bin/sh
# test_emu_limits.sh - the emulator's account limits: token buckets per API
# category (describe 100 / 20 per s, mutate 50 / 5 per s) shared by every
# caller in the account and answered with RequestLimitExceeded (503); the
# buckets control key; DryRun answering DryRunOperation (412) or, for an
# action in the instance's denied_actions, UnauthorizedOperation (403).
# Standard library only (tests/emutest.py's SigV4 signer), 127.0.0.1 only.
# Exit 0 pass, 1 fail, 77 skip.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
[ -x "$PY" ] || { echo "SKIP: $PY not found"; exit 77; }
exec "$PY" - "$HERE/.." <<'EOF'
import sys, time, urllib.error
sys.path.insert(0, sys.argv[1])
import emutest

KEY, SECRET, REGION = "AKIAEMUTEST000000001", "emu/limits/secret", "eu-west-1"
IA, IB, IC = "i-0aaaaaaaaaaaaaaa1", "i-0bbbbbbbbbbbbbbb2", "i-0ccccccccccccccc3"
ALLOC = "eipalloc-0abc"
world = {
    "region": REGION,
    "instances": [{"id": IA, "private_ip": "10.0.0.20",
                   "imds_listen": "127.0.0.1:0"},
                  {"id": IB, "private_ip": "10.0.1.20",
                   "imds_listen": "127.0.0.1:0",
                   "denied_actions": ["AssociateAddress"]},
                  {"id": IC, "private_ip": "10.0.2.20",
                   "imds_listen": "127.0.0.1:0", "role": None}],
    "addresses": [{"allocation_id": ALLOC, "public_ip": "52.1.2.3",
                   "instance_id": IA}],
    "access_keys": [{"access_key_id": KEY, "secret": SECRET}],
}
t = emutest.Emu("test_emu_limits", world, KEY, SECRET)
check, control, refused, role_creds = t.check, t.control, t.refused, t.role_creds
STATIC = t.static

def ec2(action, creds=STATIC, **params):
    return t.ec2(action, creds, **params)

def associate(iid, creds=STATIC, **extra):
    return ec2("AssociateAddress", creds, AllocationId=ALLOC, InstanceId=iid,
               AllowReassociation="true", **extra)

def describe(creds=STATIC):
    return ec2("DescribeAddresses", creds, **{"AllocationId.1": ALLOC})

st = control("GET", "/_emu/state")["buckets"]
check("default_buckets_are_ec2s",
      (st["describe"]["size"], st["describe"]["rate"],
       st["mutate"]["size"], st["mutate"]["rate"]) == (100, 20, 50, 5), st)

# A drained bucket: every caller of the account is throttled.
CA = role_creds(IA)
control("POST", "/_emu/set", {"buckets": {"mutate": {"size": 3, "rate": 0}}})
r = [associate(IA)[0] for _ in range(3)]
check("mutate_bucket_admits_its_size", r == [200, 200, 200], r)
remaps = control("GET", "/_emu/state")["addresses"][0]["remaps"]
r = associate(IA)
check("empty_bucket_is_503_RequestLimitExceeded",
      r[:2] == (503, "RequestLimitExceeded"), r)
r = associate(IA, CA)
check("the_bucket_is_shared_by_every_caller",
      r[:2] == (503, "RequestLimitExceeded"), r)
check("a_throttled_write_changes_nothing",
      control("GET", "/_emu/state")["addresses"][0]["remaps"] == remaps)
calls = control("GET", "/_emu/calls?action=AssociateAddress")
check("throttled_calls_are_logged",
      [(c["status"], c["error_code"]) for c in calls[-2:]] ==
      [(503, "RequestLimitExceeded")] * 2, calls[-2:])
check("state_counts_throttled_requests",
      control("GET", "/_emu/state")["buckets"]["mutate"]["throttled"] == 2)
r = describe(CA)
check("describe_has_its_own_bucket", r[0] == 200, r)

# Refill at `rate` per second, never above `size` (the second call of
# each pair comes well within the time one token takes).
control("POST", "/_emu/set", {"buckets": {"mutate": {"rate": 1, "tokens": 0}}})
time.sleep(1.2)
r = [associate(IA)[0] for _ in range(2)]
check("bucket_refills_at_its_rate", r == [200, 503], r)
control("POST", "/_emu/set", {"buckets": {"mutate": {"size": 1, "rate": 2}}})
time.sleep(1.0)
r = [associate(IA)[0] for _ in range(2)]
check("bucket_never_holds_more_than_its_size", r == [200, 503], r)

# The describe default: 100 in a burst (no refill while we count).
control("POST", "/_emu/set", {"buckets": {"mutate": None,
                                          "describe": {"rate": 0,
                                                       "tokens": 100}}})
r = [describe()[0] for _ in range(101)]
check("describe_burst_is_100", r.count(200) == 100 and r[-1] == 503,
      (r.count(200), r[-1]))
st = control("POST", "/_emu/set", {"buckets": {"describe": None}})["buckets"]
check("null_restores_the_default_full",
      st["describe"]["size"] == 100 and st["describe"]["tokens"] >= 99 and
      st["mutate"]["size"] == 50, st)
check("bad_bucket_specs_are_refused",
      refused({"buckets": {"write": {"size": 1}}}) and
      refused({"buckets": {"mutate": {"size": -1}}}) and
      refused({"buckets": {"mutate": {"size": 1.5}}}) and
      refused({"buckets": {"mutate": {"burst": 1}}}) and
      refused({"buckets": 5}))

# DryRun and IAM denials per instance.
r = associate(IA, CA, DryRun="true")
check("dry_run_allowed_is_412_DryRunOperation",
      r[:2] == (412, "DryRunOperation"), r)
CB = role_creds(IB)
r = associate(IB, CB, DryRun="true")
check("dry_run_denied_is_403_UnauthorizedOperation",
      r[:2] == (403, "UnauthorizedOperation") and
      "ec2:AssociateAddress" in r[2] and IB in r[2] and
      "elastic-ip/" + ALLOC in r[2], r)
r = associate(IB, CB)
check("denied_action_is_refused_without_dry_run_too",
      r[:2] == (403, "UnauthorizedOperation"), r)
r = describe(CB)
check("other_actions_stay_allowed", r[0] == 200, r)
st = control("POST", "/_emu/set", {"denied_actions": {IA: ["AssociateAddress"],
                                                      IB: []}})
check("state_shows_denied_actions",
      [i["denied_actions"] for i in st["instances"]] ==
      [["AssociateAddress"], [], []], st["instances"])
r = associate(IA, CA, DryRun="true")
check("set_denied_actions_denies", r[:2] == (403, "UnauthorizedOperation"), r)
r = associate(IB, CB, DryRun="true")
check("an_empty_list_allows_again", r[:2] == (412, "DryRunOperation"), r)
r = associate(IA, DryRun="true")
check("static_keys_are_never_denied", r[:2] == (412, "DryRunOperation"), r)
check("bad_denied_actions_are_refused",
      refused({"denied_actions": {"i-0nope": []}}) and
      refused({"denied_actions": {IA: "AssociateAddress"}}))

# An instance without a role has no credentials to call with.
try:
    role_creds(IC)
    norole = False
except urllib.error.HTTPError as e:
    norole = e.code == 404
check("instance_without_role_has_no_credentials", norole)
t.done()
EOF
