#!/usr/bin/python3
"""udpsend - a hostile third host for the heartbeat links (tests only).

  udpsend.py capture --iface IF --src IP --port P --count N --out FILE
        record N heartbeat payloads from IP to port P seen on IF
        (AF_PACKET, so run it inside the receiving node's namespace)
  udpsend.py send --to IP:PORT [--spoof IP:PORT] --kind KIND [--count N]
                  [--cluster NAME] [--node NAME] [--link I] [--file FILE]
        KIND garbage   random bytes of random lengths
             forged    well-formed packets, fresh stamps and sequences,
                       signed with a random key (no authkey to steal);
                       with --file, they name the key id of the first
                       captured packet, so they meet the MAC check
                       (bad-mac) instead of the key id check (unknown-key)
             other     well-formed, but for another cluster name
             replay    the payloads of a capture file, unchanged
        --leave makes the forged packets LEAVE messages (a forged "I am
        stopping, take over" must not move anything).
        --spoof sends from that address and port with a raw socket, so the
        packet passes the receiver's source check and meets the next one.

Standard library only.  The layout is eipfloatd-protocol(7).
"""

import argparse
import hashlib
import hmac
import os
import random
import socket
import struct
import sys
import time

PACKET_LEN = 208
MAC_OFF = 176
KEY_ID_OFF = 72
ETH_P_IP = 0x0800


def encode(cluster, key, node, link, seq, stamp_ms, incarnation,
           state=2, term=1, priority=100, instance="i-0forged000000000",
           mtype=1, key_id=0):
    head = b"EIPF" + bytes([2, mtype, 0, state, priority, 1, link, 0])
    head += struct.pack(">I", 0)
    head += hashlib.sha256(cluster.encode()).digest()[:8]
    head += struct.pack(">QQQQQ", incarnation, seq, stamp_ms, term, 0)
    head += struct.pack(">QII", 0, key_id, 0)  # echo incarnation, key id
    head += node.encode().ljust(64, b"\0")
    head += instance.encode().ljust(32, b"\0")
    assert len(head) == MAC_OFF
    name = cluster.encode()
    mac = hmac.new(key, struct.pack(">H", len(name)) + name + head,
                   hashlib.sha256).digest()
    return head + mac


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def raw_udp(src, dst, payload):
    sip, sport = src
    dip, dport = dst
    ulen = 8 + len(payload)
    pseudo = (socket.inet_aton(sip) + socket.inet_aton(dip) +
              struct.pack("!BBH", 0, 17, ulen))
    udp = struct.pack("!HHHH", sport, dport, ulen, 0) + payload
    c = csum(pseudo + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, 0, 0, 64, 17, 0,
                     socket.inet_aton(sip), socket.inet_aton(dip))
    return ip + udp


def hostport(text):
    host, _, port = text.rpartition(":")
    return host, int(port)


def payloads(args):
    rnd = random.Random()
    inc = rnd.getrandbits(64) | 1
    recs = []
    if args.file:
        with open(args.file) as f:
            recs = [bytes.fromhex(l.strip()) for l in f if l.strip()]
    key_id = 0
    if recs and len(recs[0]) == PACKET_LEN:
        key_id = struct.unpack(">I", recs[0][KEY_ID_OFF:KEY_ID_OFF + 4])[0]
    if args.kind == "replay":
        for i in range(args.count):
            yield recs[i % len(recs)]
        return
    for i in range(args.count):
        if args.kind == "garbage":
            n = rnd.choice([0, 1, 4, 12, 100, 207, 209, 400,
                            rnd.randrange(1, 600)])
            b = bytes(rnd.getrandbits(8) for _ in range(n))
            if n >= 4 and i % 3 == 0:
                b = b"EIPF" + b[4:]  # magic right, the rest noise
            yield b
        elif args.kind == "forged":
            yield encode(args.cluster, os.urandom(64), args.node,
                         args.link, i + 1, int(time.time() * 1000), inc,
                         term=1000 + i, mtype=2 if args.leave else 1,
                         key_id=key_id)
        elif args.kind == "other":
            yield encode(args.cluster + "-other", os.urandom(64),
                         args.node, args.link, i + 1,
                         int(time.time() * 1000), inc)


def send(args):
    dst = hostport(args.to)
    if args.spoof:
        src = hostport(args.spoof)
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW,
                          socket.IPPROTO_RAW)
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    n = 0
    for p in payloads(args):
        if args.spoof:
            s.sendto(raw_udp(src, dst, p), (dst[0], 0))
        else:
            s.sendto(p, dst)
        n += 1
        time.sleep(args.gap)
    print("sent %d %s packets to %s%s" % (n, args.kind, args.to,
          " as " + args.spoof if args.spoof else ""))
    return 0


def capture(args):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                      socket.htons(ETH_P_IP))
    s.bind((args.iface, 0))
    s.settimeout(0.5)
    want_src = socket.inet_aton(args.src)
    got = []
    limit = time.monotonic() + args.timeout
    while len(got) < args.count and time.monotonic() < limit:
        try:
            frame = s.recv(65535)
        except socket.timeout:
            continue
        ip = frame[14:]
        if len(ip) < 28 or ip[9] != 17 or ip[12:16] != want_src:
            continue
        ihl = (ip[0] & 0x0F) * 4
        dport = struct.unpack("!H", ip[ihl + 2:ihl + 4])[0]
        if dport != args.port:
            continue
        got.append(ip[ihl + 8:])
    with open(args.out, "w") as f:
        for p in got:
            f.write(p.hex() + "\n")
    print("captured %d packets" % len(got))
    return 0 if len(got) == args.count else 1


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("capture")
    c.add_argument("--iface", required=True)
    c.add_argument("--src", required=True)
    c.add_argument("--port", type=int, required=True)
    c.add_argument("--count", type=int, default=10)
    c.add_argument("--timeout", type=float, default=10)
    c.add_argument("--out", required=True)
    s = sub.add_parser("send")
    s.add_argument("--to", required=True)
    s.add_argument("--spoof")
    s.add_argument("--kind", required=True,
                   choices=("garbage", "forged", "other", "replay"))
    s.add_argument("--count", type=int, default=50)
    s.add_argument("--cluster", default="e2e")
    s.add_argument("--node", default="node-a")
    s.add_argument("--link", type=int, default=0)
    s.add_argument("--file")
    s.add_argument("--leave", action="store_true",
                   help="forged packets are LEAVE messages")
    s.add_argument("--gap", type=float, default=0.005)
    args = ap.parse_args(argv[1:])
    return capture(args) if args.cmd == "capture" else send(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
