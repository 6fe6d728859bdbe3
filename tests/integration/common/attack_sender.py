#!/usr/bin/env python3
"""tests/integration/common/attack_sender.py: bounded floods of hand-made frames on an AF_PACKET
socket, for attack_synflood.sh and attack_malformed.sh (docs/examples.md, "The integration
tests": run it only inside a network namespace the test created; targets are 192.0.2.0/24;
spoofed sources 198.51.100.0/24).

  attack_sender.py synflood  --ifname B --dst-mac MAC --dst 192.0.2.2 --port 8080 --count 100000 --seconds 20
  attack_sender.py malformed --ifname B --dst-mac MAC --dst 192.0.2.2 --port 8080 --src 192.0.2.1 --rounds 50

Every loop is bounded by --count (or --rounds) and by --seconds; it prints one summary line.
"""
import argparse
import random
import socket
import struct
import sys
import time


def csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip_header(src: bytes, dst: bytes, payload_len: int, proto: int = 6, ident: int = 0) -> bytearray:
    h = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + payload_len, ident, 0, 64, proto, 0, src, dst))
    struct.pack_into("!H", h, 10, csum(bytes(h)))
    return h


def tcp_segment(src: bytes, dst: bytes, sport: int, dport: int, seq: int, ack: int, flags: int,
                options: bytes = b"", payload: bytes = b"", window: int = 64240) -> bytearray:
    options = options + b"\0" * (-len(options) % 4)
    off = (20 + len(options)) // 4
    t = bytearray(struct.pack("!HHIIBBHHH", sport, dport, seq, ack, off << 4, flags, window, 0, 0) + options + payload)
    pseudo = struct.pack("!4s4sBBH", src, dst, 0, 6, len(t))
    struct.pack_into("!H", t, 16, csum(pseudo + bytes(t)))
    return t


def mac(s: str) -> bytes:
    return bytes(int(x, 16) for x in s.split(":"))


class sender:
    def __init__(self, ifname: str, dst_mac: str):
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        self.sock.bind((ifname, 0))
        src_mac = self.sock.getsockname()[4]  # (ifname, proto, pkttype, hatype, addr)
        self.eth = mac(dst_mac) + src_mac[:6] + b"\x08\x00"
        self.sent = 0

    def send(self, ip_packet: bytes) -> None:
        try:
            self.sock.send(self.eth + ip_packet)
            self.sent += 1
        except BlockingIOError:
            pass
        except OSError as e:  # ENOBUFS: the qdisc is full; the frame is dropped, the loop goes on
            if e.errno != 105:
                raise


def synflood(a) -> None:
    s = sender(a.ifname, a.dst_mac)
    dst = socket.inet_aton(a.dst)
    rng = random.Random(a.seed)
    mss = b"\x02\x04\x05\xb4"
    deadline = time.monotonic() + a.seconds
    for i in range(a.count):
        if (i & 255) == 0 and time.monotonic() > deadline:
            break
        src = bytes([198, 51, 100, rng.randrange(1, 255)])  # 198.51.100.0/24 (TEST-NET-2)
        seg = tcp_segment(src, dst, rng.randrange(1024, 65536), a.port, rng.getrandbits(32), 0, 0x02, mss)
        s.send(bytes(ip_header(src, dst, len(seg), ident=i & 0xFFFF)) + bytes(seg))
    print(f"synflood: sent {s.sent} SYNs from 198.51.100.0/24 to {a.dst}:{a.port}")


def malformed_kinds(src: bytes, dst: bytes, port: int) -> list:
    """(name, IPv4 packet) for every kind of malformed packet the test sends."""
    kinds = []
    good_tcp = tcp_segment(src, dst, 40000, port, 1000, 2000, 0x10, b"\x02\x04\x05\xb4\x01\x01\x08\x0a" + b"\0" * 8,
                           b"0123456789")
    good = bytes(ip_header(src, dst, len(good_tcp))) + bytes(good_tcp)
    for n in range(len(good)):
        kinds.append((f"truncated to {n}", good[:n]))

    def ip_tweak(name, f, fix=True):
        p = bytearray(good)
        f(p)
        if fix:
            p[10:12] = b"\0\0"
            struct.pack_into("!H", p, 10, csum(bytes(p[: (p[0] & 15) * 4 if (p[0] & 15) >= 5 else 20])))
        kinds.append((name, bytes(p)))

    for v in (0, 5, 6, 15):
        ip_tweak(f"IP version {v}", lambda p, v=v: p.__setitem__(0, (v << 4) | 5))
    for ihl in range(5):
        ip_tweak(f"IHL {ihl}", lambda p, ihl=ihl: p.__setitem__(0, 0x40 | ihl))
    ip_tweak("total length < header", lambda p: struct.pack_into("!H", p, 2, 12))
    ip_tweak("total length past the packet", lambda p: struct.pack_into("!H", p, 2, 1500))
    ip_tweak("bad IP checksum", lambda p: p.__setitem__(10, p[10] ^ 0x55), fix=False)
    ip_tweak("fragment past 65535", lambda p: struct.pack_into("!H", p, 6, 0x1FFF))
    ip_tweak("bad TCP checksum", lambda p: p.__setitem__(36, p[36] ^ 1))
    for off in range(5):
        ip_tweak(f"TCP data offset {off}", lambda p, off=off: p.__setitem__(32, off << 4))
    ip_tweak("TCP data offset past the segment", lambda p: p.__setitem__(32, 0xF0))
    bad_options = {
        "option length 0": b"\x1e\x00",
        "option length 1": b"\x1e\x01",
        "option past the header": b"\x1e\x0c\x01\x01",
        "MSS length 3": b"\x02\x03\x05\x01",
        "window scale length 4": b"\x03\x04\x07\x00",
        "SACK length 9": b"\x05\x09" + b"\0" * 9,
        "timestamps length 8": b"\x08\x08" + b"\0" * 6,
    }
    for name, opts in bad_options.items():
        seg = tcp_segment(src, dst, 40000, port, 1000, 2000, 0x10, opts, b"x")
        kinds.append((name, bytes(ip_header(src, dst, len(seg))) + bytes(seg)))
    # Martians and packets that are not for us.
    seg = tcp_segment(bytes([127, 0, 0, 1]), dst, 40000, port, 1, 0, 0x02)
    kinds.append(("source 127.0.0.1", bytes(ip_header(bytes([127, 0, 0, 1]), dst, len(seg))) + bytes(seg)))
    other = bytes([192, 0, 2, 77])
    seg = tcp_segment(src, other, 40000, port, 1, 0, 0x02)
    kinds.append(("not for us", bytes(ip_header(src, other, len(seg))) + bytes(seg)))
    return kinds


def malformed(a) -> None:
    s = sender(a.ifname, a.dst_mac)
    kinds = malformed_kinds(socket.inet_aton(a.src), socket.inet_aton(a.dst), a.port)
    deadline = time.monotonic() + a.seconds
    for r in range(a.rounds):
        if time.monotonic() > deadline:
            break
        for _, p in kinds:
            s.send(p)
        time.sleep(0.01)  # a few ms between rounds: the legitimate traffic interleaves
    print(f"malformed: {len(kinds)} kinds, sent {s.sent} packets")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode", choices=["synflood", "malformed"])
    p.add_argument("--ifname", required=True)
    p.add_argument("--dst-mac", required=True)
    p.add_argument("--dst", default="192.0.2.2")
    p.add_argument("--src", default="192.0.2.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--count", type=int, default=100000)
    p.add_argument("--rounds", type=int, default=50)
    p.add_argument("--seconds", type=float, default=30)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    for addr in (a.dst, a.src):
        if not (addr.startswith("192.0.2.") or addr.startswith("198.51.100.")):
            print(f"refusing {addr}: only 192.0.2.0/24 and 198.51.100.0/24 (docs/examples.md, \"The integration tests\")", file=sys.stderr)
            return 2
    if a.count > 200000 or a.rounds > 1000 or a.seconds > 120:
        print("refusing: floods are bounded (count <= 200000, rounds <= 1000, seconds <= 120)", file=sys.stderr)
        return 2
    (synflood if a.mode == "synflood" else malformed)(a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
