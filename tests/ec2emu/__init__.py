"""ec2emu - a local EC2 Query API + IMDSv2 emulator for eipfloatd's tests.

Python 3 standard library only (Debian 12's /usr/bin/python3).  One process,
threaded HTTP servers:

  * an EC2 endpoint (plain HTTP, optionally also HTTPS) speaking the Query
    API, version 2016-11-15, with AWS's XML and error format.  Every request
    is checked like AWS checks it: SigV4 (recomputed here with hmac/hashlib),
    credential scope, clock skew, session token, expiry of role credentials.
  * IMDSv2 listeners (one per instance, or shared and keyed by the client's
    source address): session tokens, instance identity, placement and
    expiring, rotating role credentials.
  * a control API under /_emu/ on the EC2 listener (not signed): call log,
    world state, fault injection (errors, throttling, delays, hangs, dropped
    or reset connections), and "console" changes to the world.

The parts, each readable alone:

  common.py    constants, EmuError/ControlError, log and time helpers
  world.py     World: instances, addresses, keys, role credentials, clock
  sigv4.py     SigV4Verifier: an EC2 request's signature, scope and clock
  faults.py    Faults: injected errors and network failures
  limits.py    Buckets: the account's token buckets; IAM denials
  calllog.py   CallLog: one record per request, for /_emu/calls
  ec2.py       Ec2Api: the EC2 actions (parameters -> XML)
  httpbase.py  HTTP plumbing both endpoints share, the threaded server
  endpoint.py  Ec2Handler: one EC2 request from bytes to answer
  imds.py      ImdsHandler: the instance metadata service
  control.py   ControlApi: the /_emu/ endpoints
  main.py      Emulator (the listeners) and the command line

Run `python3 tests/ec2emu.py --help` (or `python3 -m ec2emu` from tests/);
tests/ec2emu.md documents the world file and the control API.  Nothing here
ever sends traffic: it only listens.
"""
