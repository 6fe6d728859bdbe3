#!/usr/bin/env python3
"""The Linux kernel's side of the interop tests: one TCP connection through the kernel's
socket API, with the same output as synack's examples/bulk so a script can compare them.

usage: kpeer.py send|recv|echo (--connect IP:PORT | --listen IP:PORT) [--bytes N]
                [--close first|wait|rst] [--ss] [--timeout S]

  send   sends --bytes of random data, then closes (first: shutdown(SHUT_WR) at once;
         wait: after the peer's FIN)
  recv   receives until the peer's FIN (or, with --close first|rst, until --bytes arrived)
  echo   sends back what it receives
  --close rst  ends with SO_LINGER {1, 0} + close(): the kernel sends a RST
  --ss   once connected, prints the kernel's view of the connection (`ss -tin`) as "ss: ..."

Prints: "connected L -> R", "sent N bytes sha256=H", "received N bytes sha256=H", "closed".
"""
import argparse
import hashlib
import os
import socket
import struct
import subprocess
import sys
import threading


def endpoint(text):
    host, _, port = text.rpartition(":")
    return host, int(port)


def size(text):
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:].upper(), 1)
    return int(text[:-1] if mult != 1 else text) * mult


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["send", "recv", "echo"])
    p.add_argument("--connect", type=endpoint)
    p.add_argument("--listen", type=endpoint)
    p.add_argument("--bytes", type=size)
    p.add_argument("--close", choices=["first", "wait", "rst"])
    p.add_argument("--ss", action="store_true")
    p.add_argument("--timeout", type=float, default=30)
    a = p.parse_args()
    close = a.close or ("first" if a.mode == "send" else "wait")

    if a.listen:
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # The address may not exist yet: synack creates the tun device when it starts.
        ls.setsockopt(socket.IPPROTO_IP, getattr(socket, "IP_FREEBIND", 15), 1)
        ls.bind(a.listen)
        ls.listen(1)
        ls.settimeout(a.timeout)
        print(f"listening on {a.listen[0]}:{a.listen[1]}", flush=True)
        s, _ = ls.accept()
        ls.close()
    else:
        s = socket.create_connection(a.connect, timeout=a.timeout)
    s.settimeout(a.timeout)
    local, remote = s.getsockname(), s.getpeername()
    print(f"connected {local[0]}:{local[1]} -> {remote[0]}:{remote[1]}", flush=True)
    if a.ss:
        out = subprocess.run(["ss", "-tinH", "state", "established", "src", f"{local[0]}:{local[1]}",
                              "dst", f"{remote[0]}:{remote[1]}"], capture_output=True, text=True).stdout
        print("ss: " + " ".join(out.split()), flush=True)
        # The same facts from getsockopt(TCP_INFO) (struct tcp_info, linux/tcp.h): some ss
        # versions do not print "ts" and "sack" on newer kernels.
        ti = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 24)
        opts = [n for bit, n in ((1, "ts"), (2, "sack"), (4, "wscale")) if ti[5] & bit]
        snd_mss, rcv_mss = struct.unpack_from("II", ti, 16)
        print(f"tcp_info: options={','.join(opts)} snd_wscale={ti[6] & 15} rcv_wscale={ti[6] >> 4} "
              f"snd_mss={snd_mss} rcv_mss={rcv_mss}", flush=True)

    tx, rx = hashlib.sha256(), hashlib.sha256()
    sent = received = 0
    fin_sent = False

    def end_our_side():
        nonlocal fin_sent
        if close == "first" and not fin_sent:
            s.shutdown(socket.SHUT_WR)
            fin_sent = True

    def sender():
        nonlocal sent
        total = a.bytes or 0
        while sent < total:
            chunk = os.urandom(min(1 << 20, total - sent))
            tx.update(chunk)
            s.sendall(chunk)
            sent += len(chunk)
        end_our_side()

    # Send from a thread while this one receives, so neither side's buffers can deadlock.
    thread = threading.Thread(target=sender) if a.mode == "send" else None
    if thread:
        thread.start()
        if close == "rst":
            thread.join()
    while not (a.mode == "send" and close == "rst"):
        if a.mode != "send" and close in ("first", "rst") and a.bytes is not None and received >= a.bytes:
            if close == "rst":
                break
            end_our_side()
        data = s.recv(1 << 20)
        if not data:
            break
        rx.update(data)
        received += len(data)
        if a.mode == "echo":
            tx.update(data)
            s.sendall(data)
            sent += len(data)
    if thread:
        thread.join()
    print(f"sent {sent} bytes sha256={tx.hexdigest()}", flush=True)
    print(f"received {received} bytes sha256={rx.hexdigest()}", flush=True)
    if close == "rst":
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
        print("closed with RST", flush=True)
        return 0
    s.close()
    print("closed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
