#!/usr/bin/env python3
"""Clients that misbehave against a kbroker, for the integration tests of
"one client must not hurt the rest": clients that pipeline and never read,
slowloris and idle connections, pipelined heavy requests, huge requests, and
a probe client whose latency is measured meanwhile. Each subcommand prints
"key value" lines for the calling script to check, and measures the broker's
memory (VmRSS) and open descriptors through /proc/PID.

  abuse.py nonreaders PORT PID [--clients 3] [--id-bytes 1048576] [--seconds 4]
  abuse.py fairness PORT TOPIC [--describes 60] [--partitions 2000]
  abuse.py bigrequest PORT PID [--numbers 4000000]
  abuse.py timeouts PORT
  abuse.py load PORT PID [--idle 5000] [--slowloris 500] [--nonreaders 20] [--seconds 10]
  (load runs the bad clients in a child process: abuse.py abusers PORT ...)
"""
import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import threading
import time


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def cpu_ms(pid):
    """User plus system CPU time the process has used, in ms."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 // os.sysconf("SC_CLK_TCK")


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def connect(port, timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


class Client:
    """A blocking line client: one request, one answer (plus fetch bytes)."""

    def __init__(self, port, timeout=10):
        self.s = connect(port, timeout)
        self.buf = b""

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.s.recv(1 << 16)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk
        head, _, self.buf = self.buf.partition(b"\n")
        return head

    def exact(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(1 << 16)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def call(self, req):
        self.s.sendall((req if isinstance(req, str) else json.dumps(req)).encode() + b"\n")
        return json.loads(self.line())

    def fetch(self, topic, partition, offset):
        self.s.sendall(json.dumps({"op": "fetch", "topic": topic, "partition": partition,
                                   "offset": offset}).encode() + b"\n")
        head = json.loads(self.line())
        n = sum(p.get("bytes", 0) for p in head.get("parts", []))
        self.exact(n)
        return head, n

    def close(self):
        self.s.close()


def percentile(values, p):
    if not values:
        return -1.0
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


class Probe:
    """Produces one record and fetches it back, over and over; latency per round trip."""

    def __init__(self, port, topic="probe"):
        self.c = Client(port)
        self.topic = topic
        self.offset = 0
        self.errors = 0
        ack = self.c.call({"op": "produce", "topic": topic, "records": [{"value": "warm"}]})
        if not ack.get("ok"):
            raise RuntimeError(f"probe produce: {ack}")

    def once(self):
        t0 = time.monotonic()
        ack = self.c.call({"op": "produce", "topic": self.topic, "records": [{"value": "p"}]})
        if not ack.get("ok"):
            self.errors += 1
        head, _ = self.c.fetch(self.topic, 0, self.offset)
        if not head.get("ok"):
            self.errors += 1
        self.offset += 1
        return (time.monotonic() - t0) * 1000.0

    def run(self, seconds, pause=0.005):
        out = []
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            out.append(self.once())
            time.sleep(pause)
        return out


class NonReader(threading.Thread):
    """Pipelines hello requests with a big id and never reads the answers."""

    def __init__(self, port, id_bytes, stop):
        super().__init__(daemon=True)
        self.s = connect(port)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.s.setblocking(False)
        self.req = ('{"op":"hello","id":"' + "i" * id_bytes + '"}\n').encode()
        self.stop = stop
        self.sent = 0
        self.closed = False

    def run(self):
        pending = memoryview(self.req)
        while not self.stop.is_set():
            try:
                n = self.s.send(pending)
                self.sent += n
                pending = pending[n:]
                if not pending:
                    pending = memoryview(self.req)
            except BlockingIOError:
                time.sleep(0.01)
            except OSError:
                self.closed = True  # the broker gave up on us (send timeout)
                return

    def close(self):
        self.s.close()


def cmd_nonreaders(a):
    base = rss_kib(a.pid)
    stop = threading.Event()
    hogs = [NonReader(a.port, a.id_bytes, stop) for _ in range(a.clients)]
    for h in hogs:
        h.start()
    peak = base
    probe = Client(a.port)
    lat = []
    until = time.monotonic() + a.seconds
    while time.monotonic() < until:
        t0 = time.monotonic()
        ok = probe.call({"op": "hello", "id": 1}).get("ok")
        lat.append((time.monotonic() - t0) * 1000.0)
        if not ok:
            print("probe_error 1")
        peak = max(peak, rss_kib(a.pid))
        time.sleep(0.02)
    stop.set()
    sent = sum(h.sent for h in hogs)
    for h in hogs:
        h.close()
    print(f"rss_base_kib {base}")
    print(f"rss_peak_kib {peak}")
    print(f"rss_growth_kib {peak - base}")
    print(f"hog_sent_bytes {sent}")
    print(f"probe_answers {len(lat)}")
    print(f"probe_p99_ms {percentile(lat, 99):.1f}")


def cmd_fairness(a):
    heavy = Client(a.port, timeout=240)
    light = Client(a.port)
    light.call({"op": "hello", "id": 0})
    # Creating the topic while another client says hello every 10 ms: the
    # longest hello is how long the broker stopped serving others.
    pings = []
    done = threading.Event()

    def ping():
        pinger = Client(a.port)
        while not done.is_set():
            t = time.monotonic()
            pinger.call({"op": "hello", "id": 0})
            pings.append((time.monotonic() - t) * 1000.0)
            time.sleep(0.01)
        pinger.close()

    pinger = threading.Thread(target=ping)
    pinger.start()
    time.sleep(0.05)
    t0 = time.monotonic()
    heavy.s.sendall(json.dumps({"op": "create_topic", "topic": a.topic,
                                "partitions": a.partitions}).encode() + b"\n")
    created = json.loads(heavy.line())
    print(f"create_ms {(time.monotonic() - t0) * 1000.0:.1f}")
    # The broker makes the logs after the answer: the creation is over once
    # the last partition takes a record.
    ready = False
    while not ready and time.monotonic() - t0 < 120:
        r = light.call({"op": "produce", "id": 2, "topic": a.topic, "partition": a.partitions - 1,
                        "records": [{"value": "ready?"}]})
        ready = bool(r.get("ok"))
        if not ready:
            time.sleep(0.01)
    print(f"ready_ms {(time.monotonic() - t0) * 1000.0:.1f}")
    print(f"ready {1 if ready else 0}")
    time.sleep(0.05)
    done.set()
    pinger.join()
    print(f"hello_during_create_max_ms {max(pings):.1f}")
    if not created.get("ok") and created.get("error", {}).get("code") != "TOPIC_EXISTS":
        print(f"create_error {created}")
    # Baseline: one describe alone.
    t0 = time.monotonic()
    light.call({"op": "describe_topic", "topic": a.topic})
    one_ms = (time.monotonic() - t0) * 1000.0
    batch = "".join(json.dumps({"op": "describe_topic", "id": i, "topic": a.topic}) + "\n"
                    for i in range(a.describes))
    heavy.s.sendall(batch.encode())
    time.sleep(0.01)  # let the broker start on them
    t0 = time.monotonic()
    ok = light.call({"op": "hello", "id": 1}).get("ok")
    hello_ms = (time.monotonic() - t0) * 1000.0
    for _ in range(a.describes):
        heavy.line()
    all_ms = (time.monotonic() - t0) * 1000.0
    print(f"describe_ms {one_ms:.1f}")
    print(f"hello_ok {1 if ok else 0}")
    print(f"hello_ms {hello_ms:.1f}")
    print(f"all_describes_ms {all_ms:.1f}")


def cmd_bigrequest(a):
    probe = Client(a.port, timeout=60)
    probe.call({"op": "hello", "id": 0})
    before = rss_kib(a.pid)
    big = Client(a.port, timeout=60)
    body = '{"op":"hello","id":1,"x":[' + ",".join(["0"] * a.numbers) + "]}\n"
    cpu0 = cpu_ms(a.pid)
    t0 = time.monotonic()
    big.s.sendall(body.encode())
    # Meanwhile another client's hellos: the longest wait is the loop's stall.
    worst = 0.0
    peak = before
    done = threading.Event()
    answer = {}

    def wait_big():
        answer["line"] = big.line()
        answer["ms"] = (time.monotonic() - t0) * 1000.0
        done.set()

    threading.Thread(target=wait_big, daemon=True).start()
    while not done.is_set():
        t1 = time.monotonic()
        probe.call({"op": "hello", "id": 2})
        worst = max(worst, (time.monotonic() - t1) * 1000.0)
        peak = max(peak, rss_kib(a.pid))
        time.sleep(0.005)
    cpu = cpu_ms(a.pid) - cpu0
    big.close()
    time.sleep(0.5)
    probe.call({"op": "hello", "id": 3})
    after = rss_kib(a.pid)
    print(f"big_answer_ok {1 if json.loads(answer['line']).get('ok') else 0}")
    print(f"big_answer_ms {answer['ms']:.0f}")
    print(f"broker_cpu_ms {cpu}")
    print(f"probe_worst_ms {worst:.0f}")
    print(f"rss_before_kib {before}")
    print(f"rss_peak_kib {peak}")
    print(f"rss_after_kib {after}")
    print(f"rss_kept_kib {after - before}")


def wait_closed(s, seconds):
    """Seconds until the broker closed `s` (EOF or reset), or -1."""
    s.settimeout(seconds)
    t0 = time.monotonic()
    try:
        while True:
            chunk = s.recv(1 << 16)
            if not chunk:
                break
    except socket.timeout:
        return -1.0
    except OSError:
        pass
    return time.monotonic() - t0


def cmd_timeouts(a):
    idle = connect(a.port)
    slow = connect(a.port)
    slow.sendall(b'{"op":"hello","id":')
    busy = Client(a.port)
    results = {}

    def watch(name, s):
        results[name] = wait_closed(s, 10)

    threads = [threading.Thread(target=watch, args=(n, s)) for n, s in (("idle", idle), ("slow", slow))]
    for t in threads:
        t.start()
    # The busy client keeps talking and must outlive both timeouts.
    busy_ok = True
    until = time.monotonic() + 2.5
    while time.monotonic() < until:
        try:
            busy_ok = busy_ok and busy.call({"op": "hello", "id": 1}).get("ok", False)
        except (OSError, EOFError):
            busy_ok = False
            break
        time.sleep(0.2)
    for t in threads:
        t.join()
    print(f"idle_closed_s {results['idle']:.2f}")
    print(f"slow_closed_s {results['slow']:.2f}")
    print(f"busy_ok {1 if busy_ok else 0}")


def cmd_abusers(a):
    """The load's bad clients, in their own process so they do not share the
    probe's interpreter: prints "ready" once all are connected, runs until
    stdin closes, then closes every connection and exits."""
    raise_fd_limit()
    idle = [connect(a.port) for _ in range(a.idle)]
    slow = []
    for _ in range(a.slowloris):
        s = connect(a.port)
        s.sendall(b'{"op":"hello","id":"')
        slow.append(s)
    stop = threading.Event()

    def trickle():
        while not stop.is_set():
            for s in slow:
                try:
                    s.send(b"x")
                except OSError:
                    pass
            stop.wait(1.0)

    trickler = threading.Thread(target=trickle, daemon=True)
    trickler.start()
    hogs = [NonReader(a.port, a.id_bytes, stop) for _ in range(a.nonreaders)]
    for h in hogs:
        h.start()
    print("ready", flush=True)
    sys.stdin.read()
    stop.set()
    trickler.join()
    for s in idle + slow:
        s.close()
    for h in hogs:
        h.close()
    print(f"closed_by_broker {sum(1 for h in hogs if h.closed)}", flush=True)


def cmd_load(a):
    limit = raise_fd_limit()
    need = a.idle + a.slowloris + a.nonreaders + 64
    if limit < need:
        print(f"fd_limit_too_low {limit} {need}")
        return
    probe = Probe(a.port)
    probe.run(1.0)  # warm up
    fds0 = open_fds(a.pid)  # with the probe's connection and partition files
    baseline = probe.run(a.seconds)
    rss0 = rss_kib(a.pid)
    t0 = time.monotonic()
    abusers = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "abusers", str(a.port), "--idle", str(a.idle),
         "--slowloris", str(a.slowloris), "--nonreaders", str(a.nonreaders), "--id-bytes", str(a.id_bytes)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    if abusers.stdout.readline().strip() != "ready":
        print("abusers_failed 1")
        abusers.kill()
        return
    print(f"connect_s {time.monotonic() - t0:.1f}")
    fds_under = open_fds(a.pid)
    peak = rss_kib(a.pid)
    under = []
    until = time.monotonic() + a.seconds
    while time.monotonic() < until:
        under.append(probe.once())
        if len(under) % 20 == 0:
            peak = max(peak, rss_kib(a.pid))
        time.sleep(0.005)
    peak = max(peak, rss_kib(a.pid))
    abusers.stdin.close()
    tail = abusers.stdout.read()
    abusers.wait()
    # Recovery: every connection freed, the probe as before.
    recovered = False
    for _ in range(400):
        if open_fds(a.pid) <= fds0 + 2:
            recovered = True
            break
        time.sleep(0.05)
    after = probe.run(a.seconds / 2)
    print(tail.strip())
    print(f"fds_before {fds0}")
    print(f"fds_under_load {fds_under}")
    print(f"fds_after {open_fds(a.pid)}")
    print(f"recovered {1 if recovered else 0}")
    print(f"baseline_p50_ms {percentile(baseline, 50):.3f}")
    print(f"baseline_p99_ms {percentile(baseline, 99):.3f}")
    print(f"load_p50_ms {percentile(under, 50):.3f}")
    print(f"load_p99_ms {percentile(under, 99):.3f}")
    print(f"after_p99_ms {percentile(after, 99):.3f}")
    print(f"probe_rounds {len(under)}")
    print(f"probe_errors {probe.errors}")
    print(f"rss_idle_kib {rss0}")
    print(f"rss_peak_kib {peak}")
    print(f"rss_after_kib {rss_kib(a.pid)}")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("nonreaders")
    p.add_argument("port", type=int)
    p.add_argument("pid", type=int)
    p.add_argument("--clients", type=int, default=3)
    p.add_argument("--id-bytes", type=int, default=1 << 20)
    p.add_argument("--seconds", type=float, default=4)
    p = sub.add_parser("fairness")
    p.add_argument("port", type=int)
    p.add_argument("topic")
    p.add_argument("--describes", type=int, default=60)
    p.add_argument("--partitions", type=int, default=2000)
    p = sub.add_parser("bigrequest")
    p.add_argument("port", type=int)
    p.add_argument("pid", type=int)
    p.add_argument("--numbers", type=int, default=4_000_000)
    p = sub.add_parser("timeouts")
    p.add_argument("port", type=int)
    p = sub.add_parser("load")
    p.add_argument("port", type=int)
    p.add_argument("pid", type=int)
    p.add_argument("--idle", type=int, default=5000)
    p.add_argument("--slowloris", type=int, default=500)
    p.add_argument("--nonreaders", type=int, default=20)
    p.add_argument("--id-bytes", type=int, default=64 << 10)
    p.add_argument("--seconds", type=float, default=10)
    p = sub.add_parser("abusers")
    p.add_argument("port", type=int)
    p.add_argument("--idle", type=int, default=5000)
    p.add_argument("--slowloris", type=int, default=500)
    p.add_argument("--nonreaders", type=int, default=20)
    p.add_argument("--id-bytes", type=int, default=64 << 10)
    a = ap.parse_args()
    {"nonreaders": cmd_nonreaders, "fairness": cmd_fairness, "bigrequest": cmd_bigrequest,
     "timeouts": cmd_timeouts, "load": cmd_load,
     "abusers": cmd_abusers}[a.cmd](a)


if __name__ == "__main__":
    main()
