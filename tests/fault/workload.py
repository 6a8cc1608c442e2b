#!/usr/bin/env python3
"""workload.py: the load side of kreek's fault tests, speaking the JSON-line protocol over TCP.

  run         writers produce unique numbered values ("w<writer>-<n>", writer w to partition w mod P)
              one at a time, following the leader through metadata and retriable errors; readers
              long-poll every partition's leader; every outcome goes to JSON-line logs in --out
              for checker.py
  final-read  reads every partition from its leader, log start to high watermark (final.jsonl)

Python 3 stdlib only. Every log line has "t" (ms since the Unix epoch).
"""
import argparse
import base64
import json
import os
import socket
import sys
import threading
import time

# Errors after which the same write may succeed later (kreek-protocol(7), ERROR CODES).
RETRIABLE = {"NOT_LEADER", "LEADER_NOT_AVAILABLE", "UNAVAILABLE", "FENCED_EPOCH", "UNKNOWN_LEADER_EPOCH",
             "NOT_ENOUGH_REPLICAS", "REQUEST_TIMED_OUT", "TIMEOUT", "IO_ERROR"}
# Errors that leave it open whether the batch was written: retrying them may write it twice.
AMBIGUOUS = {"REQUEST_TIMED_OUT", "TIMEOUT", "IO_ERROR", "INTERNAL"}


def now_ms():
    return int(time.time() * 1000)


class Log:
    """One JSON-line file shared by the threads of one role; each line is written whole."""

    def __init__(self, path):
        self.f = open(path, "a", buffering=1)
        self.lock = threading.Lock()

    def write(self, **ev):
        ev.setdefault("t", now_ms())
        line = json.dumps(ev, separators=(",", ":"))
        with self.lock:
            self.f.write(line + "\n")


class Conn:
    """One TCP connection to a broker: request line out, response line (and fetch bytes) in."""

    def __init__(self, addr, timeout):
        host, port = addr.rsplit(":", 1)
        self.addr = addr
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        self.rf = self.sock.makefile("rb")
        self.next_id = 1

    def close(self):
        try:
            self.rf.close()
            self.sock.close()
        except OSError:
            pass

    def send(self, req):
        req = dict(req, id=self.next_id)
        self.next_id += 1
        self.sock.sendall((json.dumps(req, separators=(",", ":")) + "\n").encode())
        return req["id"]

    def recv(self):
        line = self.rf.readline()
        if not line:
            raise ConnectionError("connection closed by " + self.addr)
        return json.loads(line)

    def call(self, req):
        want = self.send(req)
        resp = self.recv()
        if resp.get("id") != want:
            raise ConnectionError("response id %r for request %r" % (resp.get("id"), want))
        return resp

    def fetch(self, req):
        """A fetch: the header line, then each part's batch bytes, returned as (header, [bytes])."""
        resp = self.call(req)
        blobs = []
        for part in resp.get("parts", []) if resp.get("ok") else []:
            n = part.get("bytes", 0)
            data = self.rf.read(n) if n else b""
            if len(data) != n:
                raise ConnectionError("short fetch body from " + self.addr)
            blobs.append(data)
        return resp, blobs


def record_value(rec):
    if "value64" in rec:
        return base64.b64decode(rec["value64"]).decode("utf-8", "replace")
    return rec.get("value")


def batch_records(data, from_offset):
    """(offset, value) of every record at or after from_offset in whole batch lines."""
    out = []
    for line in data.splitlines():
        if not line.strip():
            continue
        b = json.loads(line)
        for i, rec in enumerate(b["records"]):
            off = b["base"] + i
            if off >= from_offset:
                out.append((off, record_value(rec)))
    return out


class Cluster:
    """Metadata cache: who leads which partition, refreshed from any broker that answers."""

    def __init__(self, bootstrap, topic, timeout):
        self.bootstrap = list(bootstrap)
        self.topic = topic
        self.timeout = timeout
        self.lock = threading.Lock()
        self.addrs = {}
        self.parts = {}

    def refresh(self):
        """Asks every broker it knows and keeps, per partition, the answer with the newest leader
        epoch: a broker cut off from the coordinator still believes in its old leadership."""
        answers = {}

        def ask(addr):
            try:
                c = Conn(addr, min(self.timeout, 0.5))
                try:
                    answers[addr] = c.call({"op": "metadata", "topics": [self.topic]})
                finally:
                    c.close()
            except (OSError, ValueError):
                pass

        # In parallel: a paused broker accepts the connection and never answers.
        askers = [threading.Thread(target=ask, args=(a,), daemon=True)
                  for a in dict.fromkeys(self.bootstrap + list(self.addrs.values()))]
        for t in askers:
            t.start()
        for t in askers:
            t.join(min(self.timeout, 0.5) + 0.5)
        got, fresh = False, {}
        for m in list(answers.values()):
            if not m.get("ok"):
                continue
            got = True
            with self.lock:
                self.addrs.update({b["node"]: b["addr"] for b in m.get("brokers", [])})
            for t in m.get("topics", []):
                if t.get("topic") != self.topic or "partitions" not in t:
                    continue
                for p in t["partitions"]:
                    old = fresh.get(p["partition"])
                    if old is None or p.get("epoch", -1) > old.get("epoch", -1) or \
                            p.get("epoch", -1) == old.get("epoch", -1) and old.get("leader", -1) < 0:
                        fresh[p["partition"]] = p
        with self.lock:
            if fresh:
                self.parts = fresh
        return got

    def leader_addr(self, partition):
        with self.lock:
            p = self.parts.get(partition)
            if p is None or p.get("leader", -1) < 0:
                return None
            return self.addrs.get(p["leader"])

    def partition_count(self):
        with self.lock:
            return len(self.parts)


class Writer(threading.Thread):
    """Produces w<id>-0, w<id>-1, ... to partition id mod P, one request in flight: one writer per
    partition, so that a partition without a leader holds up only its own writers."""

    def __init__(self, wid, args, cluster, log, stop):
        super().__init__(daemon=True)
        self.wid, self.args, self.cluster, self.log, self.stop = wid, args, cluster, log, stop
        self.conns = {}
        self.pid = None
        self.pepoch = 0
        self.seq = {}

    def conn(self, addr):
        if addr not in self.conns:
            self.conns[addr] = Conn(addr, self.args.request_timeout)
        return self.conns[addr]

    def drop(self, addr):
        c = self.conns.pop(addr, None)
        if c:
            c.close()

    def init_pid(self):
        """init_producer_id from a broker or, failing that, straight from the coordinator."""
        for addr in list(self.cluster.addrs.values()) + self.args.coordinator:
            try:
                c = Conn(addr, self.args.request_timeout)
                try:
                    r = c.call({"op": "init_producer_id"})
                finally:
                    c.close()
            except (OSError, ValueError):
                continue
            if r.get("ok"):
                self.pid = r["producer_id"]
                self.pepoch = r.get("producer_epoch", r.get("pepoch", 0))
                self.seq = {}
                self.log.write(type="pid", writer=self.wid, pid=self.pid, pepoch=self.pepoch)
                return True
        return False

    def run(self):
        n = 0
        nparts = self.cluster.partition_count()
        period = 1.0 / self.args.rate if self.args.rate > 0 else 0
        while not self.stop.is_set() and (self.args.count <= 0 or n < self.args.count):
            started = time.time()
            self.write_one("w%d-%d" % (self.wid, n), self.wid % nparts)
            n += 1
            if period:
                time.sleep(max(0.0, period - (time.time() - started)))
        for addr in list(self.conns):
            self.drop(addr)

    def record(self, value):
        rec = {"value": value}
        if self.args.pad_bytes > 0:
            rec["headers"] = {"pad": "p" * self.args.pad_bytes}  # bulk that leaves the value parseable
        return rec

    def write_one(self, value, partition):
        """Writes one value until it is acknowledged, definitely refused, or out of time."""
        self.log.write(type="invoke", writer=self.wid, value=value, partition=partition)
        deadline = time.time() + self.args.retry_seconds
        ambiguous, attempts, last = 0, 0, None
        while True:
            attempts += 1
            addr = self.cluster.leader_addr(partition)
            if addr is None:
                last = "LEADER_NOT_AVAILABLE"
            else:
                req = {"op": "produce", "topic": self.args.topic, "partition": partition,
                       "acks": self.args.acks, "records": [self.record(value)]}
                if self.args.idempotent:
                    if self.pid is None and not self.init_pid():
                        last = "UNAVAILABLE"
                        req = None
                    else:
                        req.update(pid=self.pid, pepoch=self.pepoch, seq=self.seq.get(partition, 0))
                if req is not None:
                    sent = False
                    try:
                        c = self.conn(addr)
                        sent_t = now_ms()
                        c.send(req)
                        sent = True
                        if self.args.acks == 0:
                            # acks=0 has no answer: the outcome stays unknown.
                            self.log.write(type="info", writer=self.wid, value=value, partition=partition,
                                           code="ACKS_0", attempts=attempts, ambiguous=1)
                            return
                        r = c.recv()
                    except (OSError, ValueError) as e:
                        self.drop(addr)
                        # Sent but unanswered: it may have been written.
                        last = "TIMEOUT" if sent else "UNAVAILABLE"
                        ambiguous += 1 if sent else 0
                        self.log.write(type="attempt", writer=self.wid, value=value, partition=partition,
                                       addr=addr, code=last, error=str(e)[:120])
                        r = None
                    if r is not None and r.get("ok"):
                        if self.args.idempotent:
                            self.seq[partition] = self.seq.get(partition, 0) + 1
                        self.log.write(type="ok", writer=self.wid, value=value, partition=r["partition"],
                                       offset=r["base"], attempts=attempts, ambiguous=ambiguous,
                                       duplicate=bool(r.get("duplicate", False)), addr=addr, sent=sent_t)
                        return
                    if r is not None:
                        err = r.get("error", {})
                        last = err.get("code", "?")
                        self.log.write(type="attempt", writer=self.wid, value=value, partition=partition,
                                       addr=addr, code=last, error=err.get("message", "")[:120])
                        if last in AMBIGUOUS:
                            ambiguous += 1
                        if last == "OUT_OF_ORDER_SEQUENCE" and self.args.idempotent:
                            # A batch before this one was never written: retry under a new producer id.
                            self.pid = None
                        elif last not in RETRIABLE:
                            break
            if time.time() >= deadline or self.stop.is_set() and attempts > 1:
                break
            time.sleep(self.args.backoff_ms / 1000.0)
            self.cluster.refresh()
        kind = "info" if ambiguous else "fail"
        if kind == "info" and self.args.idempotent:
            # Kafka's rule: after an unknown outcome the sequence can no longer be trusted.
            self.pid = None
        self.log.write(type=kind, writer=self.wid, value=value, partition=partition, code=last,
                       attempts=attempts, ambiguous=ambiguous)


class Reader(threading.Thread):
    """Follows one partition from its log start with long polls at its current leader."""

    def __init__(self, rid, partition, args, cluster, log, stop):
        super().__init__(daemon=True)
        self.rid, self.partition, self.args, self.cluster, self.log, self.stop = \
            rid, partition, args, cluster, log, stop

    def run(self):
        offset, conn = 0, None
        while not self.stop.is_set():
            addr = self.cluster.leader_addr(self.partition)
            if addr is None:
                time.sleep(0.05)
                self.cluster.refresh()
                continue
            try:
                if conn is None or conn.addr != addr:
                    if conn:
                        conn.close()
                    conn = Conn(addr, self.args.request_timeout + 2)
                resp, blobs = conn.fetch({"op": "fetch", "topic": self.args.topic, "partition": self.partition,
                                          "offset": offset, "max_wait_ms": 300})
            except (OSError, ValueError) as e:
                if conn:
                    conn.close()
                conn = None
                self.log.write(type="read_error", reader=self.rid, partition=self.partition, error=str(e)[:120])
                time.sleep(0.05)
                self.cluster.refresh()
                continue
            part = resp.get("parts", [{}])[0] if resp.get("ok") else {"error": resp.get("error", {})}
            if "error" in part:
                code = part["error"].get("code")
                self.log.write(type="read_error", reader=self.rid, partition=self.partition, offset=offset,
                               code=code)
                if code == "OFFSET_OUT_OF_RANGE":
                    # The log moved under us (truncation, retention): go on from its end or start.
                    end, start = part["error"].get("log_end"), part["error"].get("log_start")
                    if end is not None and offset > end:
                        offset = end
                    elif start is not None and offset < start:
                        offset = start
                time.sleep(0.05)
                self.cluster.refresh()
                continue
            for off, value in batch_records(blobs[0], offset):
                self.log.write(type="read", reader=self.rid, partition=self.partition, offset=off, value=value)
                offset = off + 1
            hw = part.get("hw")
            if blobs[0] == b"" and hw is not None and offset < hw:
                offset = hw  # a compacted gap up to hw (kreek-protocol(7))
        if conn:
            conn.close()


def cmd_run(args):
    os.makedirs(args.out, exist_ok=True)
    cluster = Cluster(args.bootstrap, args.topic, args.request_timeout)
    deadline = time.time() + 30
    while not (cluster.refresh() and cluster.partition_count() > 0):
        if time.time() > deadline:
            print("workload: metadata for topic %s: no broker answered" % args.topic, file=sys.stderr)
            return 69
        time.sleep(0.1)
    stop = threading.Event()
    wlog = Log(os.path.join(args.out, "writes.jsonl"))
    rlog = Log(os.path.join(args.out, "reads.jsonl"))
    readers = [Reader(0, p, args, cluster, rlog, stop) for p in range(cluster.partition_count())] \
        if args.readers else []
    writers = [Writer(w, args, cluster, wlog, stop) for w in range(args.writers)]
    for t in readers + writers:
        t.start()
    end = time.time() + args.duration if args.duration > 0 else None
    # Ends at --duration, when the stop file appears, or when every writer finished --count.
    while any(w.is_alive() for w in writers):
        if (end and time.time() >= end) or (args.stop_file and os.path.exists(args.stop_file)):
            break
        time.sleep(0.05)
    stop.set()
    for w in writers:
        w.join(args.retry_seconds + args.request_timeout + 5)
    # Readers get a moment to see the last writes before they stop.
    time.sleep(args.read_tail_ms / 1000.0)
    for r in readers:
        r.join(args.request_timeout + 5)
    return 0


def cmd_final_read(args):
    """Reads each partition from log start to high watermark through its leader."""
    cluster = Cluster(args.bootstrap, args.topic, args.request_timeout)
    out = open(args.out_file, "w")
    deadline = time.time() + args.retry_seconds
    while not (cluster.refresh() and cluster.partition_count() > 0):
        if time.time() > deadline:
            print("final-read: no metadata for %s" % args.topic, file=sys.stderr)
            return 69
        time.sleep(0.1)
    rc = 0
    for p in range(cluster.partition_count()):
        offset, hw, done, conn = 0, None, False, None
        while not done:
            if time.time() > deadline:
                out.write(json.dumps({"type": "final_error", "partition": p, "offset": offset}) + "\n")
                print("final-read: partition %d: no leader answered in time" % p, file=sys.stderr)
                rc = 75
                break
            addr = cluster.leader_addr(p)
            try:
                if addr is None:
                    raise ConnectionError("no leader")
                if conn is None or conn.addr != addr:
                    conn = Conn(addr, args.request_timeout)
                resp, blobs = conn.fetch({"op": "fetch", "topic": args.topic, "partition": p, "offset": offset})
            except (OSError, ValueError):
                conn = None
                time.sleep(0.1)
                cluster.refresh()
                continue
            part = resp.get("parts", [{}])[0] if resp.get("ok") else {"error": resp.get("error")}
            if "error" in part:
                err = part["error"] or {}
                if err.get("code") == "OFFSET_OUT_OF_RANGE" and offset < err.get("log_start", 0):
                    offset = err["log_start"]
                    continue
                time.sleep(0.1)
                cluster.refresh()
                continue
            hw = part["hw"]
            for off, value in batch_records(blobs[0], offset):
                if off < hw:
                    out.write(json.dumps({"type": "final", "partition": p, "offset": off, "value": value,
                                          "leader": addr}, separators=(",", ":")) + "\n")
                    offset = off + 1
            if not blobs[0] and offset < hw:
                offset = hw
            done = offset >= hw
        if conn:
            conn.close()
        out.write(json.dumps({"type": "final_hw", "partition": p, "hw": hw, "leader": addr}) + "\n")
    out.close()
    return rc


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bootstrap", required=True, help="HOST:PORT[,...] of brokers")
    ap.add_argument("--topic", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--request-timeout", type=float, default=5.0, help="seconds per request")
    common.add_argument("--retry-seconds", type=float, default=15.0,
                        help="give up on one write (or the final read) after this")
    sub = ap.add_subparsers(dest="cmd", required=True)
    run = sub.add_parser("run", parents=[common], help="writers and readers under faults")
    run.add_argument("--out", required=True, help="directory for writes.jsonl and reads.jsonl")
    run.add_argument("--writers", type=int, default=3, help="writer w writes to partition w mod P")
    run.add_argument("--no-readers", dest="readers", action="store_false")
    run.add_argument("--duration", type=float, default=10.0, help="seconds (0: until --count or the stop file)")
    run.add_argument("--count", type=int, default=0, help="values per writer (0: no limit)")
    run.add_argument("--rate", type=float, default=200.0, help="writes per second per writer (0: unpaced)")
    run.add_argument("--acks", default="all", help='"all", 1 or 0')
    run.add_argument("--idempotent", action="store_true", help="pid/pepoch/seq from init_producer_id")
    run.add_argument("--coordinator", default="", help="kzk-lite HOST:PORT[,...] for init_producer_id")
    run.add_argument("--pad-bytes", type=int, default=0, help="header bytes added to each record")
    run.add_argument("--backoff-ms", type=float, default=50.0)
    run.add_argument("--stop-file", default="", help="stop when this file exists")
    run.add_argument("--read-tail-ms", type=float, default=1000.0)
    fr = sub.add_parser("final-read", parents=[common], help="every partition from its leader, start to hw")
    fr.add_argument("--out-file", required=True)
    args = ap.parse_args()
    args.bootstrap = [a for a in args.bootstrap.split(",") if a]
    if args.cmd == "run":
        args.coordinator = [a for a in args.coordinator.split(",") if a]
        if args.acks not in ("all", "-1"):
            args.acks = int(args.acks)
        elif args.acks == "-1":
            args.acks = -1
        return cmd_run(args)
    return cmd_final_read(args)


if __name__ == "__main__":
    sys.exit(main())
