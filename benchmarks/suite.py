#!/usr/bin/env python3
"""The benchmark suite: runs bench_net, wrk, http_server and bench_link in network namespaces it
creates, and writes the raw results to docs/benchmarks/results.json (report.py turns them into
docs/benchmarks.md and the SVG charts). Called by benchmarks/run.sh, which builds first.

Namespaces (all created here, removed at the end, also on failure or Ctrl-C):
  tun  synack opens its tun device here: kernel 192.0.2.1, synack 192.0.2.2
  k1   kernel 198.51.100.1 --veth-- k2 kernel 198.51.100.2   (the kernel reference)
  p1   kernel 192.0.2.1    --veth-- p2 synack on AF_PACKET 192.0.2.2 (p2's kernel has no address)
Every process is started by us, bounded by its own time-out and ours, and ended by its pid.
"""
import argparse
import json
import os
import platform
import re
import signal
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SERVER_CPU, CLIENT_CPU = 0, 1


class Fail(Exception):
    pass


class Suite:
    def __init__(self, build, quick, out, only):
        self.build = build
        self.quick = quick
        self.out = out
        self.only = only
        self.bench = os.path.join(build, "benchmarks/net/bench_net")
        self.http_server = os.path.join(build, "examples/http_server")
        self.bench_link = os.path.join(build, "benchmarks/link/bench_link")
        self.tcp_sink = os.path.join(build, "benchmarks/link/bench_tcp_sink")
        self.tcp_source = os.path.join(build, "benchmarks/link/bench_tcp_source")
        tag = f"sb{os.getpid()}"
        self.ns = {n: f"{tag}-{n}" for n in ("tun", "k1", "k2", "p1", "p2")}
        self.procs = []
        self.results = []
        self.rounds = 1 if quick else 5
        self.t_bulk = 1.0 if quick else 4.0
        self.t_pp = 1.0 if quick else 2.0
        self.t_conn = 1.0 if quick else 2.0
        self.t_sim = 1.0 if quick else 3.0
        self.hold = 2000 if quick else 10000
        self.log = open(os.path.join(build, "benchmarks-run.log"), "w")

    # --- plumbing -----------------------------------------------------------------------------
    def sh(self, cmd, check=True):
        self.log.write("$ " + cmd + "\n")
        r = subprocess.run(cmd, shell=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30)
        self.log.write(r.stdout)
        if check and r.returncode != 0:
            raise Fail(f"command failed: {cmd}\n{r.stdout}")
        return r

    def setup(self):
        for n in self.ns.values():
            self.sh(f"ip netns add {n}")
        for key, n in self.ns.items():
            self.sh(f"ip -n {n} link set lo up")
            self.sh(f"ip netns exec {n} sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1")
            # The connect loops make many connections: reuse TIME_WAIT ports, use the whole range.
            self.sh(f"ip netns exec {n} sysctl -qw net.ipv4.tcp_tw_reuse=1")
            self.sh(f"ip netns exec {n} sysctl -qw net.ipv4.ip_local_port_range='1024 65535'")
        k1, k2, p1, p2 = self.ns["k1"], self.ns["k2"], self.ns["p1"], self.ns["p2"]
        self.sh(f"ip -n {k1} link add kv1 type veth peer name kv2 netns {k2}")
        self.sh(f"ip -n {k1} addr add 198.51.100.1/24 dev kv1")
        self.sh(f"ip -n {k2} addr add 198.51.100.2/24 dev kv2")
        self.sh(f"ip -n {k1} link set kv1 up")
        self.sh(f"ip -n {k2} link set kv2 up")
        self.sh(f"ip -n {p1} link add pv1 type veth peer name pv2 netns {p2}")
        self.sh(f"ip -n {p1} addr add 192.0.2.1/24 dev pv1")
        self.sh(f"ip -n {p1} link set pv1 up")
        self.sh(f"ip -n {p2} link set pv2 up")

    def cleanup(self):
        for p in self.procs:
            if p.poll() is None:
                try:
                    os.kill(p.pid, signal.SIGKILL)
                    p.wait(timeout=5)
                except Exception:
                    pass
        for n in self.ns.values():
            subprocess.run(["ip", "netns", "del", n], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def cmd(self, ns, cpu, args):
        return ["ip", "netns", "exec", self.ns[ns], "taskset", "-c", str(cpu)] + args

    def start(self, ns, cpu, args):
        """Starts a server; returns (process, lines list filled by a reader thread)."""
        argv = self.cmd(ns, cpu, args)
        self.log.write("& " + " ".join(argv) + "\n")
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.procs.append(p)
        lines = []
        err = []

        def reader(stream, sink):
            for line in stream:
                sink.append(line)

        threading.Thread(target=reader, args=(p.stdout, lines), daemon=True).start()
        threading.Thread(target=reader, args=(p.stderr, err), daemon=True).start()
        p.lines, p.err = lines, err
        return p

    def wait_line(self, p, pred, timeout):
        end = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < end:
            while seen < len(p.lines):
                line = p.lines[seen]
                seen += 1
                if pred(line):
                    return line
            if p.poll() is not None and seen >= len(p.lines):
                time.sleep(0.05)
                if seen >= len(p.lines):
                    break
            time.sleep(0.01)
        raise Fail(f"no expected output from {p.args}: {''.join(p.lines)[-500:]} {''.join(p.err)[-800:]}")

    def stop(self, p, timeout=10):
        if p.poll() is None:
            os.kill(p.pid, signal.SIGTERM)
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.kill(p.pid, signal.SIGKILL)
            p.wait(timeout=5)
        time.sleep(0.05)  # the reader threads

    def finish(self, p, timeout):
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop(p)
        time.sleep(0.05)

    @staticmethod
    def json_lines(lines, event="result"):
        out = []
        for l in lines:
            l = l.strip()
            if l.startswith("{"):
                try:
                    o = json.loads(l)
                except ValueError:
                    continue
                if o.get("event") == event:
                    out.append(o)
        return out

    def run_client(self, ns, cpu, args, timeout):
        argv = self.cmd(ns, cpu, args)
        self.log.write("$ " + " ".join(argv) + "\n")
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.procs.append(p)
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.kill(p.pid, signal.SIGKILL)
            out, err = p.communicate()
            raise Fail(f"client timed out: {argv}\n{err[-800:]}")
        self.log.write(out + err)
        if p.returncode != 0:
            raise Fail(f"client failed ({p.returncode}): {argv}\n{out[-500:]}\n{err[-800:]}")
        return out

    def wait_tun_gone(self):
        # A closed tun device is deleted asynchronously: wait before the next run creates it.
        for _ in range(300):
            r = subprocess.run(["ip", "-n", self.ns["tun"], "link", "show", "synack0"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if r.returncode != 0:
                return
            time.sleep(0.01)

    def record(self, **kw):
        self.results.append(kw)
        self.log.flush()

    # --- set-ups --------------------------------------------------------------------------------
    # (name, server ns, server argv, client ns, client argv, destination)
    def setups(self, server_mode, client_mode, variants=False):
        b = self.bench
        tun = ["--link", "tun", "--ifname", "synack0"]
        pkt = ["--link", "af_packet", "--ifname", "pv2"]
        sink = self.tcp_sink
        # Bulk only: tun (and, sending, af_packet) without offload, a larger send buffer, and the raw
        # tun ceilings: a reader that only ACKs (bench_tcp_sink) with and without offload, a writer
        # of bare segments (bench_tcp_source) without. Names are what report.py keys on.
        extra = [("kernel→synack tun, no offload", "tun", [b, "synack-server", server_mode, "--offload", "0"] + tun,
                  "tun", [b, "kernel-client", client_mode, "--connect", "192.0.2.2:5001"], False),
                 ("synack→kernel tun, no offload", "tun", [b, "kernel-server", server_mode], "tun",
                  [b, "synack-client", client_mode, "--connect", "192.0.2.1:5001", "--offload", "0"] + tun, False),
                 ("synack→kernel af_packet, no offload", "p1", [b, "kernel-server", server_mode], "p2",
                  [b, "synack-client", client_mode, "--connect", "192.0.2.1:5001", "--offload", "0"] + pkt, False),
                 ("synack→kernel tun, 4 MiB send buffer", "tun", [b, "kernel-server", server_mode], "tun",
                  [b, "synack-client", client_mode, "--connect", "192.0.2.1:5001", "--sndbuf", "4194304"] + tun,
                  False),
                 ("kernel→raw ACK sink tun", "tun", [sink, "--offload", "1"], "tun",
                  [b, "kernel-client", client_mode, "--connect", "192.0.2.2:5001"], False),
                 ("kernel→raw ACK sink tun, no offload", "tun", [sink, "--offload", "0"], "tun",
                  [b, "kernel-client", client_mode, "--connect", "192.0.2.2:5001"], False),
                 ("raw TCP source→kernel tun, no offload", "tun", [b, "kernel-server", server_mode], "tun",
                  [self.tcp_source, "--connect", "192.0.2.1:5001"], False)] if variants else []
        return [
            ("kernel→kernel veth", "k2", [b, "kernel-server", server_mode], "k1",
             [b, "kernel-client", client_mode, "--connect", "198.51.100.2:5001"], True),
            ("kernel→synack tun", "tun", [b, "synack-server", server_mode] + tun, "tun",
             [b, "kernel-client", client_mode, "--connect", "192.0.2.2:5001"], False),
            ("synack→kernel tun", "tun", [b, "kernel-server", server_mode], "tun",
             [b, "synack-client", client_mode, "--connect", "192.0.2.1:5001"] + tun, False),
            ("kernel→synack af_packet", "p2", [b, "synack-server", server_mode] + pkt, "p1",
             [b, "kernel-client", client_mode, "--connect", "192.0.2.2:5001"], False),
            ("synack→kernel af_packet", "p1", [b, "kernel-server", server_mode], "p2",
             [b, "synack-client", client_mode, "--connect", "192.0.2.1:5001"] + pkt, False),
        ] + extra

    def pair(self, name, sns, sargv, cns, cargv, scpu, ccpu, server_finishes, client_timeout):
        """One server + one client run; returns (server results, client results)."""
        s = self.start(sns, scpu, sargv + ["--timeout", str(int(client_timeout + 20))])
        try:
            self.wait_line(s, lambda l: '"ready"' in l, 15)
            out = self.run_client(cns, ccpu, cargv, client_timeout)
            if server_finishes:
                self.finish(s, 15)
            else:
                self.stop(s)
        finally:
            if s.poll() is None:
                self.stop(s)
            if "tun" in (sns, cns):
                self.wait_tun_gone()
        return self.json_lines(s.lines), self.json_lines(out.splitlines())

    def bench_bulk(self, rnd):
        for name, sns, sargv, cns, cargv, ref in self.setups("sink", "send", variants=True):
            srv, cli = self.pair(name, sns, sargv, cns, cargv + ["--seconds", str(self.t_bulk)], SERVER_CPU,
                                 CLIENT_CPU, True, self.t_bulk + 40)
            if not srv or not cli:
                raise Fail(f"bulk {name}: no result")
            self.record(bench="bulk", setup=name, round=rnd, pinning="different cores (server 0, client 1)",
                        reference=ref, server=srv[-1], client=cli[-1])
            print(f"  bulk {name}: {srv[-1]['gbps']:.2f} Gbit/s", flush=True)

    def bench_pingpong(self, rnd):
        for pin, (scpu, ccpu) in (("same core", (0, 0)), ("different cores", (SERVER_CPU, CLIENT_CPU))):
            for name, sns, sargv, cns, cargv, ref in self.setups("echo", "pingpong"):
                srv, cli = self.pair(name, sns, sargv, cns, cargv + ["--seconds", str(self.t_pp)], scpu, ccpu, False,
                                     self.t_pp + 30)
                if not cli:
                    raise Fail(f"pingpong {name}: no result")
                self.record(bench="pingpong", setup=name, round=rnd, pinning=pin, reference=ref,
                            server=srv[-1] if srv else {}, client=cli[-1])
                print(f"  pingpong {pin} {name}: p50 {cli[-1]['rtt_p50_us']:.1f} us", flush=True)

    def bench_connect(self, rnd):
        b = self.bench
        for conns in (1, 50):
            # (a) wrk, Connection: close, against the HTTP example on synack and the epoll server.
            for name, sns, sargv, cns, url, ref in (
                    ("wrk → kernel HTTP veth", "k2", [b, "kernel-server", "http", "--port", "8080"], "k1",
                     "http://198.51.100.2:8080/", True),
                    ("wrk → synack http_server tun", "tun",
                     [self.http_server, "--port", "8080", "--link", "tun", "--ifname", "synack0"], "tun",
                     "http://192.0.2.2:8080/", False),
                    ("wrk → synack http_server tun, busy-poll 50 µs", "tun",
                     [self.http_server, "--port", "8080", "--link", "tun", "--ifname", "synack0", "--busy-poll", "50"],
                     "tun", "http://192.0.2.2:8080/", False)):
                s = self.start(sns, SERVER_CPU, sargv + ([] if "synack" in name else ["--timeout", "60"]))
                try:
                    self.wait_line(s, lambda l: "ready" in l or "listening" in l, 15)
                    out = self.run_client(cns, CLIENT_CPU, ["wrk", "-t1", f"-c{conns}", f"-d{max(1, int(self.t_conn))}s",
                                                            "--timeout", "2s", "-H", "Connection: close", url],
                                          self.t_conn + 30)
                finally:
                    self.stop(s)
                    if sns == "tun":
                        self.wait_tun_gone()
                m = re.search(r"Requests/sec:\s*([\d.]+)", out)
                errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
                non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
                reqs = re.search(r"(\d+) requests in", out)
                client = {"rate": float(m.group(1)) if m else 0.0,
                          "requests": int(reqs.group(1)) if reqs else 0,
                          "errors": sum(int(x) for x in errs.groups()) if errs else 0,
                          "non2xx": int(non2xx.group(1)) if non2xx else 0}
                srv = self.json_lines(s.lines)
                self.record(bench="connect", kind="wrk", setup=name, conns=conns, round=rnd,
                            pinning="different cores (server 0, client 1)", reference=ref,
                            server=srv[-1] if srv else {}, client=client)
                print(f"  connect wrk c={conns} {name}: {client['rate']:.0f}/s errors {client['errors']}", flush=True)
            # (b) a plain connect / 64 B each way / close loop (kernel sockets) against echo servers.
            for name, sns, sargv, cns, dest, ref in (
                    ("loop → kernel echo veth", "k2", [b, "kernel-server", "echo"], "k1", "198.51.100.2:5001", True),
                    ("loop → synack echo tun", "tun", [b, "synack-server", "echo", "--link", "tun"], "tun",
                     "192.0.2.2:5001", False),
                    ("loop → synack echo tun, busy-poll 50 µs", "tun",
                     [b, "synack-server", "echo", "--link", "tun", "--busy-poll", "50"], "tun", "192.0.2.2:5001", False),
                    ("loop → synack echo af_packet", "p2",
                     [b, "synack-server", "echo", "--link", "af_packet", "--ifname", "pv2"], "p1", "192.0.2.2:5001",
                     False)):
                srv, cli = self.pair(name, sns, sargv, cns, [b, "kernel-client", "connect", "--connect", dest, "--conns",
                                                             str(conns), "--seconds", str(self.t_conn)],
                                     SERVER_CPU, CLIENT_CPU, False, self.t_conn + 30)
                if not cli:
                    raise Fail(f"connect {name}: no result")
                self.record(bench="connect", kind="loop", setup=name, conns=conns, round=rnd,
                            pinning="different cores (server 0, client 1)", reference=ref,
                            server=srv[-1] if srv else {}, client=cli[-1])
                print(f"  connect loop c={conns} {name}: {cli[-1]['rate']:.0f}/s errors {cli[-1]['errors']}",
                      flush=True)

    def bench_hold(self, rnd):
        b = self.bench
        s = self.start("tun", SERVER_CPU, [b, "synack-server", "echo", "--link", "tun", "--hold", str(self.hold),
                                           "--timeout", "90"])
        c = None
        try:
            self.wait_line(s, lambda l: '"ready"' in l, 15)
            c = self.start("tun", CLIENT_CPU, [b, "kernel-client", "hold", "--connect", "192.0.2.2:5001", "--conns",
                                               str(self.hold), "--timeout", "60", "--hold-seconds", "30"])
            cl = json.loads(self.wait_line(c, lambda l: '"held"' in l, 70))
            sl = json.loads(self.wait_line(s, lambda l: '"held"' in l, 10))
        finally:
            if c is not None:
                self.stop(c)
            self.stop(s)
            self.wait_tun_gone()
        self.record(bench="hold", setup="kernel clients → synack tun", round=rnd, conns=self.hold,
                    pinning="different cores (server 0, clients 1)", reference=False, server=sl, client=cl)
        print(f"  hold {self.hold}: heap {sl['heap_per_conn']:.0f} B/conn, rss {sl['rss_per_conn']:.0f} B/conn, "
              f"client errors {cl['errors']}", flush=True)

    def bench_sim(self, rnd):
        out = self.run_client("tun", SERVER_CPU, [self.bench, "sim", "--seconds", str(self.t_sim)], self.t_sim + 60)
        r = self.json_lines(out.splitlines())
        if not r:
            raise Fail("sim: no result")
        self.record(bench="sim", setup="synack ↔ synack sim_link", round=rnd, pinning="one core (0)",
                    reference=False, client=r[-1], server={})
        print(f"  sim: {r[-1]['gbps_per_core']:.2f} Gbit/s per core", flush=True)

    def bench_link_ceiling(self):
        runs = 1 if self.quick else 5
        secs = 0.5 if self.quick else 1.5
        argv = [self.bench_link, "--runs", str(runs), "--seconds", str(secs), "--sizes", "84,1500"]
        self.log.write("$ " + " ".join(argv) + "\n")
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=400)
        self.log.write(p.stdout)
        rows = []
        pat = re.compile(r"^(tun|af_packet)\s+(\d+)\s+(raw plain|raw multishot|synack)\s+(\d+)\s+(\d+)\.\.(\d+)\s+"
                         r"([\d.]+)\s*(?:([\d.]+) \(([\d.]+)\.\.([\d.]+)\))?\s+([\d.]+)\s*(?:([\d.]+) \(([\d.]+)\.\.([\d.]+)\))?")
        for line in p.stdout.splitlines():
            m = pat.match(line)
            if not m:
                continue
            g = m.groups()
            rows.append({"link": g[0], "bytes": int(g[1]), "responder": g[2], "pps": float(g[3]),
                         "pps_min": float(g[4]), "pps_max": float(g[5]), "gbps": float(g[6]),
                         "ratio": float(g[7]) if g[7] else None,
                         "ratio_min": float(g[8]) if g[8] else None, "ratio_max": float(g[9]) if g[9] else None,
                         "cpu_us_per_packet": float(g[10]),
                         "cpu_ratio": float(g[11]) if g[11] else None})
        if p.returncode != 0 or not rows:
            raise Fail(f"bench_link failed ({p.returncode}):\n{p.stdout[-1500:]}")
        print(f"  bench_link: {len(rows)} rows", flush=True)
        return {"runs": runs, "seconds": secs, "rows": rows, "output": p.stdout}

    def run(self):
        t0 = time.monotonic()
        self.setup()
        ceiling = None
        want = lambda b: not self.only or b in self.only
        for rnd in range(self.rounds):
            print(f"round {rnd + 1}/{self.rounds} ({time.monotonic() - t0:.0f} s)", flush=True)
            if want("bulk"):
                self.bench_bulk(rnd)
            if want("pingpong"):
                self.bench_pingpong(rnd)
            if want("connect"):
                self.bench_connect(rnd)
            if want("hold"):
                self.bench_hold(rnd)
            if want("sim"):
                self.bench_sim(rnd)
        if want("link"):
            print(f"device ceiling: bench_link ({time.monotonic() - t0:.0f} s)", flush=True)
            ceiling = self.bench_link_ceiling()
        return ceiling, time.monotonic() - t0


def meta(build, quick, elapsed):
    def out(cmd):
        try:
            return subprocess.run(cmd, shell=True, stdout=subprocess.PIPE, text=True, cwd=ROOT).stdout.strip()
        except Exception:
            return ""
    cpu = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"date": time.strftime("%Y-%m-%d %H:%M:%S %z"), "kernel": platform.release(), "cpu": cpu,
            "cpus": os.cpu_count(), "commit": out("git rev-parse --short HEAD"),
            "dirty": bool(out("git status --porcelain --untracked-files=no")),
            "quick": quick, "elapsed_s": round(elapsed, 1), "build": os.path.relpath(build, ROOT)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build-bench"))
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", default="", help="comma-separated: bulk,pingpong,connect,hold,sim,link")
    ap.add_argument("--out", default=os.path.join(ROOT, "docs/benchmarks"))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    s = Suite(a.build, a.quick, a.out, [x for x in a.only.split(",") if x])

    def on_signal(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    status = 0
    ceiling, elapsed = None, 0.0
    try:
        ceiling, elapsed = s.run()
    except Fail as e:
        print(f"suite: FAILED: {e}", file=sys.stderr)
        status = 1
    except KeyboardInterrupt:
        print("suite: interrupted", file=sys.stderr)
        status = 130
    finally:
        s.cleanup()
    doc = {"meta": meta(a.build, a.quick, elapsed), "results": s.results, "bench_link": ceiling}
    # A failed or interrupted run keeps the last good results.json.
    name = "results.json" if status == 0 else "results.partial.json"
    with open(os.path.join(a.out, name), "w") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
    return status


if __name__ == "__main__":
    sys.exit(main())
