#!/usr/bin/env python3
"""Merges the traces of synack's tcp_server and tcp_client into one conversation and prints
the seed's table of the 11 TCP states with the ones this run visited marked.

usage: demo_report.py SERVER_LOG CLIENT_LOG

Each log holds the lines the examples print with --trace:
  <seconds>s <ifname> rx|tx <bytes>B <src> > <dst> [flags] seq=... ack=... win=... opts=[...] len=N
  <seconds>s <local> - <remote>  STATE -> STATE
and the programs' own output (received: ...). Times come from CLOCK_MONOTONIC in both
processes, so they merge.
"""
import re
import sys

STATES = [
    # (phase, side, state, meaning) -- the seed's table
    ("setup", "server/client", "CLOSED", "the initial state: no connection"),
    ("setup", "server", "LISTEN", "a socket is listening for SYNs"),
    ("setup", "client", "SYN_SENT", "sent a SYN, waiting for the SYN-ACK"),
    ("setup", "server", "SYN_RCVD", "got a SYN, answered SYN-ACK"),
    ("setup", "server/client", "ESTABLISHED", "the connection is open"),
    ("close", "client", "FIN_WAIT_1", "sent a FIN (asked to close)"),
    ("close", "server", "CLOSE_WAIT", "got the peer's FIN and ACKed it"),
    ("close", "client", "FIN_WAIT_2", "our FIN is ACKed, waiting for the peer's FIN"),
    ("close", "server", "LAST_ACK", "sent our FIN after the peer's, waiting for its ACK"),
    ("close", "client", "TIME_WAIT", "both FINs ACKed; waiting 2*MSL"),
    ("close", "client", "CLOSING", "both sent FIN at once; waiting for the ACK of ours"),
]

LINE = re.compile(r"^(\d+\.\d+)s (.*)$")
TRANSITION = re.compile(r"(\S+) - (\S+)\s+([A-Z_0-9]+) -> ([A-Z_0-9]+)")
PACKET = re.compile(r"^(\S+) (rx|tx) (\d+)B (.*)$")


def read(path, side):
    events, other = [], []
    with open(path, encoding="utf-8", errors="replace") as f:
        for raw in f:
            raw = raw.rstrip("\n")
            m = LINE.match(raw)
            if m:
                events.append((float(m.group(1)), side, m.group(2)))
            elif raw.strip():
                other.append((side, raw))
    return events, other


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    server, server_other = read(sys.argv[1], "server")
    client, client_other = read(sys.argv[2], "client")
    events = sorted(server + client, key=lambda e: e[0])
    if not events:
        print("no trace lines were recorded")
        return 1
    t0 = events[0][0]
    visited = {"server": [], "client": []}
    print(f"{'time':>10}  {'side':<6}  event")
    print(f"{'':->10}  {'':-<6}  {'':-<70}")
    for t, side, text in events:
        tr = TRANSITION.search(text)
        if tr:
            frm, to = tr.group(3), tr.group(4)
            if not visited[side]:
                visited[side].append(frm)
            visited[side].append(to)
            text = f"state  {frm} -> {to}"
        else:
            pk = PACKET.match(text)
            if pk:
                direction = "sends   " if pk.group(2) == "tx" else "receives"
                text = f"{direction} {pk.group(4)}"
        print(f"{t - t0:>9.6f}s  {side:<6}  {text}")
    print()
    for side, lines in (("server", server_other), ("client", client_other)):
        for s, line in lines:
            print(f"[{side}] {line}")
    print()
    for side in ("client", "server"):
        if visited[side]:
            print(f"{side} states: {' -> '.join(visited[side])}")
    seen = set(visited["server"]) | set(visited["client"])
    print()
    print("The 11 TCP states, as in the seed's table (its side column assumes the client closes first);")
    print("[x] = visited in this run")
    print(f"     {'phase':<6} {'side':<14} {'state':<12} meaning")
    for phase, side, state, meaning in STATES:
        mark = "[x]" if state in seen else "[ ]"
        print(f" {mark} {phase:<6} {side:<14} {state:<12} {meaning}")
    missing = [s for _, _, s, _ in STATES if s not in seen]
    if missing:
        print(f"\nNot visited here: {', '.join(missing)} "
              "(CLOSING needs both sides to close at the same moment; the tests cover it).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
