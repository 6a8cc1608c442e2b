#!/usr/bin/env python3
# repl_probe.py: the two client-side clocks of bench/run.sh part J (replication), in plain
# python3 (stdlib only) so that nothing between the clock and the socket batches or retries.
#   repl_probe.py rtt BOOT TOPIC PARTITION ACKS --count N --warmup W --rate R
#       one produce request of one 100-byte record at a time to the partition's leader, paced
#       at R requests/s; prints the round trips: "p50_ms=.. p99_ms=.. max_ms=.. errors=.."
#   repl_probe.py failover BOOT TOPIC PARTITION --since EPOCH_S --exclude NODE [--deadline S]
#       after a kill at wall time EPOCH_S: an acks=all produce of one record to the partition,
#       through every broker but NODE in turn, until one succeeds; prints "ms=.. tries=.."
#   repl_probe.py caughtup ADDRS TOPIC (--start-file F | --cont PID) [--node N] [--deadline S]
#       polls describe_topic on every broker in ADDRS (one connection each) until each leader
#       lists every follower (or only node N) with lag 0; prints "s=.. first_s=.. lag0=.. polls=.."
#       The clock starts at the wall time written into F once F appears, or (--cont) when this
#       process sends SIGCONT to PID after reading N's lag first (first_s: when that lag first
#       changed). Started beforehand, so python's own start-up is not in the figure.
import argparse
import json
import os
import signal
import socket
import sys
import time

RECORD = "r" * 100


class Conn:
    """One kreek connection: a JSON object per line each way."""

    def __init__(self, addr, timeout):
        host, port = addr.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.next_id = 1

    def call(self, req):
        req = dict(req, id=self.next_id)
        self.next_id += 1
        self.sock.sendall((json.dumps(req, separators=(",", ":")) + "\n").encode())
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed by the broker")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def close(self):
        self.sock.close()


def leader_addr(boot, topic, partition):
    """The address of the partition's leader as the first answering bootstrap broker sees it."""
    for addr in boot.split(","):
        try:
            c = Conn(addr, 5)
            md = c.call({"op": "metadata", "topics": [topic]})
            c.close()
        except OSError:
            continue
        addrs = {b["node"]: b["addr"] for b in md.get("brokers", [])}
        for t in md.get("topics", []):
            for p in t.get("partitions", []):
                if t.get("topic") == topic and p.get("partition") == partition and p.get("leader", -1) in addrs:
                    return addrs[p["leader"]]
    return None


def pct(sorted_ms, q):
    return sorted_ms[min(len(sorted_ms) - 1, int(q * len(sorted_ms)))]


def rtt(a):
    addr = leader_addr(a.boot, a.topic, a.partition)
    if addr is None:
        print("repl_probe: no leader for %s/%d" % (a.topic, a.partition), file=sys.stderr)
        return 69
    acks = "all" if a.acks in ("all", "-1") else int(a.acks)
    conn = Conn(addr, 30)
    req = {"op": "produce", "topic": a.topic, "partition": a.partition, "acks": acks,
           "records": [{"value": RECORD}]}
    period = 1.0 / a.rate
    samples, errors, first_error = [], 0, ""
    nxt = time.monotonic()
    for i in range(a.warmup + a.count):
        nxt += period
        t0 = time.monotonic()
        reply = conn.call(req)
        el = (time.monotonic() - t0) * 1000
        if not reply.get("ok"):
            errors += 1
            first_error = first_error or json.dumps(reply.get("error"))
        elif i >= a.warmup:
            samples.append(el)
        delay = nxt - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    conn.close()
    if not samples:
        print("repl_probe: no successful produce (%s)" % first_error, file=sys.stderr)
        return 75
    samples.sort()
    print("p50_ms=%.3f p99_ms=%.3f max_ms=%.3f count=%d errors=%d leader=%s%s" % (
        pct(samples, 0.50), pct(samples, 0.99), samples[-1], len(samples), errors, addr,
        " first_error=" + first_error if first_error else ""))
    return 0


def failover(a):
    addrs, excluded = [], set()
    # The brokers to try: every broker the cluster lists, minus the one killed.
    for boot in a.boot.split(","):
        try:
            c = Conn(boot, 2)
            md = c.call({"op": "metadata", "topics": [a.topic]})
            c.close()
            addrs = [b["addr"] for b in md.get("brokers", []) if b["node"] != a.exclude]
            excluded = {b["addr"] for b in md.get("brokers", []) if b["node"] == a.exclude}
            if addrs:
                break
        except OSError:
            continue
    addrs = [x for x in (addrs or a.boot.split(",")) if x not in excluded]
    req = {"op": "produce", "topic": a.topic, "partition": a.partition, "acks": "all",
           "timeout_ms": 1000, "records": [{"value": "failover-probe"}]}
    tries, last = 0, ""
    while time.time() - a.since < a.deadline:
        for addr in addrs:
            tries += 1
            try:
                c = Conn(addr, 2)
                reply = c.call(req)
                c.close()
            except (OSError, ValueError) as e:
                last = str(e)
                continue
            if reply.get("ok"):
                print("ms=%.0f tries=%d via=%s" % ((time.time() - a.since) * 1000, tries, addr))
                return 0
            last = (reply.get("error") or {}).get("code", "?")
        time.sleep(0.01)
    print("repl_probe: no acks=all produce to %s/%d succeeded within %g s (last: %s)" % (
        a.topic, a.partition, a.deadline, last), file=sys.stderr)
    return 75


def describe_all(addrs, conns, topic):
    out = []
    for addr in addrs:
        try:
            if addr not in conns:
                conns[addr] = Conn(addr, 5)
            out.append(conns[addr].call({"op": "describe_topic", "topic": topic}))
        except (OSError, ValueError):
            conns.pop(addr, None)
    return out


def caughtup(a):
    conns = {}
    first, polls, last = None, 0, ""
    lag0 = None
    if a.cont is not None:
        for d in describe_all(a.addrs.split(","), conns, a.topic):
            for p in d.get("partitions", []):
                lag0 = next((f["lag"] for f in p.get("followers", []) if f["node"] == a.node), lag0)
        os.kill(a.cont, signal.SIGCONT)
        a.since = time.time()
    else:
        while not os.path.exists(a.start_file) or not open(a.start_file).read().strip():
            time.sleep(0.001)
        a.since = float(open(a.start_file).read())
    while time.time() - a.since < a.deadline:
        polls += 1
        lags, leaders = [], set()
        for addr in a.addrs.split(","):
            try:
                if addr not in conns:
                    conns[addr] = Conn(addr, 5)
                d = conns[addr].call({"op": "describe_topic", "topic": a.topic})
            except (OSError, ValueError) as e:
                conns.pop(addr, None)
                last = "%s: %s" % (addr, e)
                continue
            for p in d.get("partitions", []):
                if "followers" not in p:
                    continue
                leaders.add(p["partition"])
                lags += [f["lag"] for f in p["followers"] if a.node is None or f["node"] == a.node]
        if a.node is not None and lags and first is None and lags[0] != lag0:
            first = time.time() - a.since
        done = lags and all(x == 0 for x in lags) and (a.node is not None or len(leaders) >= a.partitions)
        if done:
            el = time.time() - a.since
            print("s=%.3f first_s=%.3f lag0=%s polls=%d" % (el, first if first is not None else el, lag0, polls))
            return 0
        last = "lags %s" % lags
        time.sleep(0.005)
    print("repl_probe: %s not caught up within %g s (%s)" % (a.topic, a.deadline, last), file=sys.stderr)
    return 75


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("rtt")
    f = sub.add_parser("failover")
    c = sub.add_parser("caughtup")
    for p in (r, f):
        p.add_argument("boot")
        p.add_argument("topic")
        p.add_argument("partition", type=int)
    c.add_argument("addrs")
    c.add_argument("topic")
    c.add_argument("--start-file")
    c.add_argument("--cont", type=int)
    c.add_argument("--node", type=int)
    c.add_argument("--partitions", type=int, default=1)
    c.add_argument("--deadline", type=float, default=120)
    r.add_argument("acks")
    r.add_argument("--count", type=int, default=2000)
    r.add_argument("--warmup", type=int, default=200)
    r.add_argument("--rate", type=float, default=500)
    f.add_argument("--since", type=float, required=True)
    f.add_argument("--exclude", type=int, required=True)
    f.add_argument("--deadline", type=float, default=30)
    a = ap.parse_args()
    return {"rtt": rtt, "failover": failover, "caughtup": caughtup}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
