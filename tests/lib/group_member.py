#!/usr/bin/env python3
# group_member.py: a consumer-group member speaking kreek's raw group protocol
# (kreek-protocol(7), GROUPS) for the integration tests, independent of the
# kreek client library. It finds the coordinator, joins, syncs, heartbeats,
# rejoins on REBALANCE_IN_PROGRESS, follows the group to a new coordinator,
# and leaves on SIGTERM. After every sync it writes its state as JSON
# ({"member_id","generation","assignment":{"topic":[partitions]},"coordinator"})
# to --state (atomically), which the test reads.
#
#   group_member.py --broker ADDR[,ADDR] --group G --topics T[,T] --state FILE
#                   [--session-ms N] [--heartbeat-ms N] [--assignor NAME] [--client-id ID]
#   group_member.py --broker ADDR --group G --topics T --join-once
#       joins once (a new member), prints {"generation":..,"member_id":..}, leaves, exits
import argparse
import json
import os
import signal
import socket
import sys
import time

RETRIABLE = {"NOT_COORDINATOR", "COORDINATOR_NOT_AVAILABLE", "COORDINATOR_LOAD_IN_PROGRESS",
             "REQUEST_TIMED_OUT", "NOT_ENOUGH_REPLICAS", "UNAVAILABLE", "LEADER_NOT_AVAILABLE"}


class Conn:
    def __init__(self, addr, timeout):
        host, port = addr.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        self.buf = b""
        self.next_id = 1

    def call(self, op, **fields):
        req = {"op": op, "id": self.next_id}
        self.next_id += 1
        req.update(fields)
        self.sock.sendall((json.dumps(req) + "\n").encode())
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def close(self):
        self.sock.close()


def code(resp):
    return None if resp.get("ok") else resp["error"]["code"]


class Member:
    def __init__(self, args):
        self.args = args
        self.member_id = ""
        self.generation = -1
        self.assignment = {}
        self.conn = None
        self.coordinator = None
        self.stopping = False

    def log(self, msg):
        print("group_member %s: %s" % (self.member_id or "(new)", msg), file=sys.stderr, flush=True)

    def connect(self):
        # Any broker answers find_coordinator; retry while the group moves.
        deadline = time.time() + 60
        while True:
            for broker in self.args.broker.split(","):
                try:
                    b = Conn(broker, 10)
                    r = b.call("find_coordinator", group=self.args.group)
                    b.close()
                    if r.get("ok"):
                        if self.conn:
                            self.conn.close()
                        self.conn = Conn(r["addr"], self.args.session_ms / 1000 + 35)
                        self.coordinator = r["node"]
                        return
                    self.log("find_coordinator at %s: %s" % (broker, r["error"]["code"]))
                except OSError as e:
                    self.log("find_coordinator at %s: %s" % (broker, e))
            if time.time() > deadline:
                raise SystemExit("group_member: no coordinator found in 60 s")
            time.sleep(0.2)

    def call(self, op, **fields):
        # Retriable errors and lost connections: find the coordinator again.
        for _ in range(300):
            try:
                r = self.conn.call(op, group=self.args.group, **fields)
            except (OSError, ConnectionError, ValueError) as e:
                self.log("%s: %s" % (op, e))
                time.sleep(0.2)
                self.connect()
                continue
            if code(r) in RETRIABLE:
                self.log("%s: %s" % (op, code(r)))
                time.sleep(0.2)
                self.connect()
                continue
            return r
        raise SystemExit("group_member: %s kept failing" % op)

    def owned(self):
        return [{"topic": t, "partitions": ps} for t, ps in sorted(self.assignment.items())]

    def join_and_sync(self):
        while True:
            r = self.call("join_group", member_id=self.member_id, client_id=self.args.client_id,
                          topics=self.args.topics, assignors=[self.args.assignor], owned=self.owned(),
                          session_timeout_ms=self.args.session_ms, rebalance_timeout_ms=self.args.rebalance_ms)
            if code(r) == "UNKNOWN_MEMBER_ID":
                self.member_id = ""
                continue
            if not r.get("ok"):
                raise SystemExit("group_member: join_group: %s" % json.dumps(r))
            self.member_id = r["member_id"]
            self.generation = r["generation"]
            s = self.call("sync_group", member_id=self.member_id, generation=self.generation)
            if code(s) in ("REBALANCE_IN_PROGRESS", "ILLEGAL_GENERATION"):
                continue
            if code(s) == "UNKNOWN_MEMBER_ID":
                self.member_id = ""
                continue
            if not s.get("ok"):
                raise SystemExit("group_member: sync_group: %s" % json.dumps(s))
            self.assignment = {a["topic"]: a["partitions"] for a in s["assignment"]}
            self.write_state()
            return

    def write_state(self):
        if not self.args.state:
            return
        tmp = self.args.state + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"member_id": self.member_id, "generation": self.generation,
                       "assignment": self.assignment, "coordinator": self.coordinator}, f)
        os.rename(tmp, self.args.state)

    def run(self):
        self.connect()
        self.join_and_sync()
        if self.args.join_once:
            print(json.dumps({"generation": self.generation, "member_id": self.member_id}), flush=True)
            self.call("leave_group", member_id=self.member_id)
            return
        interval = (self.args.heartbeat_ms or min(self.args.session_ms / 3, 1000)) / 1000
        while not self.stopping:
            time.sleep(interval)
            if self.stopping:
                break
            r = self.call("heartbeat", member_id=self.member_id, generation=self.generation)
            c = code(r)
            if c in ("REBALANCE_IN_PROGRESS", "ILLEGAL_GENERATION"):
                self.join_and_sync()
            elif c == "UNKNOWN_MEMBER_ID":
                self.member_id = ""
                self.join_and_sync()
            elif c is not None:
                raise SystemExit("group_member: heartbeat: %s" % json.dumps(r))
        self.call("leave_group", member_id=self.member_id)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--broker", required=True)
    p.add_argument("--group", required=True)
    p.add_argument("--topics", required=True)
    p.add_argument("--state")
    p.add_argument("--session-ms", type=int, default=3000)
    p.add_argument("--rebalance-ms", type=int, default=10000)
    p.add_argument("--heartbeat-ms", type=int, default=0)
    p.add_argument("--assignor", default="range")
    p.add_argument("--client-id", default="gm")
    p.add_argument("--join-once", action="store_true")
    args = p.parse_args()
    args.topics = args.topics.split(",")
    m = Member(args)

    def on_term(signum, frame):
        m.stopping = True

    signal.signal(signal.SIGTERM, on_term)
    m.run()


if __name__ == "__main__":
    main()
