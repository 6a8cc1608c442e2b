#!/usr/bin/env python3
"""checker_test.py: checker.py on synthetic runs, one anomaly at a time, so that each figure is
known to count what it names (and a clean run is known to pass) before any real fault run
relies on it. Run: python3 -m unittest tests/fault/checker_test.py (checker_selftest.sh does).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKER = os.path.join(HERE, "checker.py")
RUNS = []  # temp dirs of the runs a test made, removed after it


def batch(base, values, epoch=0):
    recs = json.dumps([{"value": v} for v in values], separators=(",", ":"))
    return '{"v":1,"base":%d,"n":%d,"epoch":%d,"ts":1,"crc":0,"records":%s}\n' % (base, len(values), epoch, recs)


class Run:
    """A synthetic run: three writes acked in partition 0, read and finally read back, held by
    two replicas. Tests change one thing and look at the figures."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="kreek-checker-test.")
        RUNS.append(self.dir)
        self.writes = []
        self.reads = []
        self.final = {}  # (p, off) -> value
        self.hw = {0: 0}
        self.replicas = {}  # name -> {p: [values from offset 0]}, hw
        self.replica_hw = {}
        for n in range(3):
            self.write("w0-%d" % n, 0, n, t=1000 + 10 * n)
            self.reads.append({"type": "read", "partition": 0, "offset": n, "value": "w0-%d" % n, "t": 1001 + 10 * n})
            self.final[(0, n)] = "w0-%d" % n
        self.hw[0] = 3
        self.replicas = {"r1": {0: ["w0-0", "w0-1", "w0-2"]}, "r2": {0: ["w0-0", "w0-1", "w0-2"]}}

    def write(self, value, p, off, t, outcome="ok", ambiguous=0, code=None):
        self.writes.append({"type": "invoke", "writer": 0, "value": value, "partition": p, "t": t - 1})
        ev = {"type": outcome, "writer": 0, "value": value, "partition": p, "t": t, "ambiguous": ambiguous}
        if outcome == "ok":
            ev["offset"] = off
        else:
            ev["code"] = code
        self.writes.append(ev)

    def check(self, *extra):
        def dump(name, rows):
            with open(os.path.join(self.dir, name), "w") as f:
                for r in rows:
                    f.write(json.dumps(r) + "\n")
        dump("writes.jsonl", self.writes)
        dump("reads.jsonl", self.reads)
        final = [{"type": "final", "partition": p, "offset": o, "value": v} for (p, o), v in sorted(self.final.items())]
        final += [{"type": "final_hw", "partition": p, "hw": hw} for p, hw in self.hw.items()]
        dump("final.jsonl", final)
        args = [sys.executable, CHECKER, "--dir", self.dir, "--topic", "t"]
        for name, parts in self.replicas.items():
            d = os.path.join(self.dir, name)
            for p, values in parts.items():
                os.makedirs(os.path.join(d, "t-%d" % p), exist_ok=True)
                with open(os.path.join(d, "t-%d" % p, "%020d.log" % 0), "w") as f:
                    for i, v in enumerate(values):
                        f.write(batch(i, [v]))
            if name in self.replica_hw:
                with open(os.path.join(d, "replication-offset-checkpoint"), "w") as f:
                    json.dump({"offsets": {"t-%d" % p: hw for p, hw in self.replica_hw[name].items()}, "version": 1}, f)
            args += ["--replica", "%s=%s" % (name, d)]
        r = subprocess.run(args + list(extra), capture_output=True, text=True)
        lines = r.stdout.splitlines()
        assert len(lines) == 1, r.stdout + r.stderr
        return json.loads(lines[0]), r.returncode


SAFETY = ("lost", "duplicates", "reordered", "inconsistent_offsets", "replica_divergence", "phantom",
          "failed_but_present", "unexpected")


class CheckerTest(unittest.TestCase):
    def tearDown(self):
        while RUNS:
            shutil.rmtree(RUNS.pop(), ignore_errors=True)

    def assertOnly(self, figures, rc, **expected):
        for k in SAFETY:
            self.assertEqual(figures[k], expected.get(k, 0), "%s in %s" % (k, figures))
        self.assertEqual(rc, 0 if not any(expected.values()) else 1, figures)

    def test_clean_run_passes(self):
        f, rc = Run().check()
        self.assertOnly(f, rc)
        self.assertEqual(f["acked"], 3)
        self.assertEqual(f["replicas"], 2)

    def test_lost(self):
        run = Run()
        del run.final[(0, 2)]
        run.hw[0] = 2
        run.reads.pop()  # nobody saw it either, so it is not also a phantom
        run.replicas = {"r1": {0: ["w0-0", "w0-1"]}}
        f, rc = run.check()
        self.assertOnly(f, rc, lost=1)
        self.assertEqual(f["examples"]["lost"][0]["value"], "w0-2")

    def test_duplicate_without_an_ambiguous_attempt(self):
        run = Run()
        run.final[(0, 3)] = "w0-1"
        run.hw[0] = 4
        run.replicas = {}
        f, rc = run.check()
        self.assertOnly(f, rc, duplicates=1, reordered=1)  # w0-1 after w0-2 is also out of order

    def test_duplicate_after_a_timeout_is_explained_unless_idempotent(self):
        run = Run()
        run.writes = []
        run.write("w0-0", 0, 0, t=1000)
        run.write("w0-1", 0, 1, t=1010, ambiguous=1)
        run.write("w0-2", 0, 3, t=1020)
        run.final = {(0, 0): "w0-0", (0, 1): "w0-1", (0, 2): "w0-1", (0, 3): "w0-2"}
        run.reads = []
        run.hw[0] = 4
        run.replicas = {}
        f, rc = run.check()
        self.assertOnly(f, rc)
        self.assertEqual(f["duplicates_retried"], 1)
        f, rc = run.check("--idempotent")
        self.assertOnly(f, rc, duplicates=1)

    def test_reordered(self):
        run = Run()
        run.final[(0, 1)], run.final[(0, 2)] = "w0-2", "w0-1"
        run.reads = []
        run.replicas = {}
        f, rc = run.check()
        # The final log and the acknowledged offsets disagree as well: each is counted.
        self.assertEqual(f["reordered"], 1)
        self.assertEqual(f["inconsistent_offsets"], 2)
        self.assertEqual(rc, 1)

    def test_reordered_acknowledgements(self):
        run = Run()
        run.writes = []
        run.write("w0-0", 0, 1, t=1000)
        run.write("w0-1", 0, 0, t=1010)
        run.final = {(0, 0): "w0-1", (0, 1): "w0-0"}
        run.hw[0] = 2
        run.reads = []
        run.replicas = {}
        f, rc = run.check()
        self.assertOnly(f, rc, reordered=2)  # once in the log, once in the acknowledged offsets

    def test_inconsistent_offsets(self):
        run = Run()
        run.reads.append({"type": "read", "partition": 0, "offset": 1, "value": "w0-0", "t": 2000})
        f, rc = run.check()
        self.assertOnly(f, rc, inconsistent_offsets=1)

    def test_replica_divergence_below_hw(self):
        run = Run()
        run.replicas["r2"][0][1] = "w0-9"
        run.replica_hw = {"r1": {0: 3}, "r2": {0: 3}}
        f, rc = run.check()
        self.assertOnly(f, rc, replica_divergence=1, inconsistent_offsets=1, unexpected=0)
        self.assertEqual(f["examples"]["replica_divergence"][0]["offset"], 1)

    def test_replica_tail_above_its_hw_is_not_divergence(self):
        run = Run()
        run.replicas["r2"][0].append("w0-7")  # offset 3: uncommitted, to be truncated
        run.replicas["r2"][0][2] = "w0-8"  # offset 2, above r2's own HW of 2
        run.replica_hw = {"r1": {0: 3}, "r2": {0: 2}}
        f, rc = run.check()
        self.assertOnly(f, rc)

    def test_phantom(self):
        run = Run()
        run.reads.append({"type": "read", "partition": 0, "offset": 3, "value": "w0-3", "t": 2000})
        run.writes.append({"type": "invoke", "writer": 0, "value": "w0-3", "partition": 0, "t": 1999})
        f, rc = run.check()
        self.assertOnly(f, rc, phantom=1)

    def test_failed_but_present_and_unexpected(self):
        run = Run()
        run.write("w0-3", 0, None, t=1100, outcome="fail", code="NOT_LEADER")
        run.final[(0, 3)] = "w0-3"
        run.final[(0, 4)] = "w9-0"
        run.hw[0] = 5
        run.replicas = {}
        f, rc = run.check()
        self.assertOnly(f, rc, failed_but_present=1, unexpected=1)

    def test_unknown_outcome_present_or_absent_is_fine(self):
        run = Run()
        run.write("w0-3", 0, None, t=1100, outcome="info", ambiguous=1, code="TIMEOUT")
        run.write("w0-4", 0, None, t=1200, outcome="info", ambiguous=1, code="TIMEOUT")
        run.final[(0, 3)] = "w0-3"
        run.hw[0] = 4
        run.replicas = {}
        f, rc = run.check()
        self.assertOnly(f, rc)
        self.assertEqual(f["unknown"], 2)

    def test_torn_segment_tail_is_skipped(self):
        run = Run()
        run.replica_hw = {"r1": {0: 3}}
        f, rc = run.check()
        with open(os.path.join(run.dir, "r1", "t-0", "%020d.log" % 0), "a") as fh:
            fh.write('{"v":1,"base":3,"n":1,"ep')
        args = [sys.executable, CHECKER, "--dir", run.dir, "--topic", "t", "--replica", "r1=" + os.path.join(run.dir, "r1")]
        r = subprocess.run(args, capture_output=True, text=True)
        f = json.loads(r.stdout)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertEqual(f["replica_torn_lines"], 1)

    def test_availability_and_failover(self):
        run = Run()
        run.writes = []
        run.write("w0-0", 0, 0, t=1000)
        run.write("w0-1", 0, 1, t=1500)
        run.write("w0-2", 0, 2, t=4000)
        with open(os.path.join(run.dir, "faults.jsonl"), "w") as fh:
            fh.write(json.dumps({"type": "fault", "what": "kill9", "node": 1, "partition": 0, "t": 1600}) + "\n")
            fh.write(json.dumps({"type": "fault", "what": "restart", "node": 1, "failover": False, "t": 3000}) + "\n")
        f, rc = run.check()
        self.assertOnly(f, rc)
        self.assertEqual(f["max_unavailable_ms"], 2500)
        self.assertEqual(f["failover_ms"], {"p50": 2400, "max": 2400, "n": 1})

    def test_missing_final_read_fails(self):
        run = Run()
        run.final = {}
        run.hw = {}
        run.reads = []
        run.replicas = {}
        f, rc = run.check()
        self.assertEqual(f["lost"], 3)
        self.assertEqual(rc, 1)


if __name__ == "__main__":
    unittest.main()
