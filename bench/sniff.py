#!/usr/bin/python3
"""bench/sniff.py - heartbeat timestamps for the bench's timeline picture:
one line per IPv4 packet arriving on IFACE that is UDP to one of PORTS or
VRRP (protocol 112), "<epoch s> <source ip> udp|vrrp".

    sniff.py IFACE PORT... [--max-seconds N]
"""

import socket
import struct
import sys
import time


def main():
    ifc, ports, limit = sys.argv[1], set(), 600.0
    args = sys.argv[2:]
    if "--max-seconds" in args:
        i = args.index("--max-seconds")
        limit = float(args[i + 1])
        args = args[:i] + args[i + 2:]
    ports = {int(p) for p in args}
    s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM,
                      socket.htons(0x0800))
    s.bind((ifc, 0))
    s.settimeout(0.5)
    end = time.monotonic() + limit
    while time.monotonic() < end:
        try:
            pkt, addr = s.recvfrom(2048)
        except socket.timeout:
            continue
        if addr[2] == socket.PACKET_OUTGOING or len(pkt) < 24:
            continue
        ihl = (pkt[0] & 15) * 4
        proto = pkt[9]
        src = socket.inet_ntoa(pkt[12:16])
        if proto == 112:
            kind = "vrrp"
        elif proto == 17 and struct.unpack("!H", pkt[ihl + 2:ihl + 4])[0] in ports:
            kind = "udp"
        else:
            continue
        print("%.4f %s %s" % (time.time(), src, kind), flush=True)


if __name__ == "__main__":
    main()
