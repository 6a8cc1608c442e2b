#!/usr/bin/env python3
"""checker.py: judges one fault-test run of kreek from the workload's logs and the replicas' files.

Reads writes.jsonl, reads.jsonl, final.jsonl (and faults.jsonl if present) from --dir, and every
--replica data directory's segment files (<data-dir>/<topic>-<p>/*.log) with its high watermarks
(<data-dir>/replication-offset-checkpoint). Prints ONE JSON line of figures on stdout and exits 0
only if every safety figure is 0 (1 otherwise, 64 for bad input). Python 3 stdlib only.
"""
import argparse
import base64
import glob
import json
import os
import re
import sys
from collections import defaultdict

# The figures that must be 0 for a run to pass.
SAFETY = ("lost", "duplicates", "reordered", "inconsistent_offsets", "replica_divergence", "phantom",
          "failed_but_present", "unexpected")
VALUE_RE = re.compile(r"^w(\d+)-(\d+)$")


def read_jsonl(path, tolerate_torn=True):
    """The JSON objects of a file's lines; a torn last line (a writer killed mid-line) is skipped."""
    out = []
    if not os.path.exists(path):
        return out
    with open(path, "rb") as f:
        for line in f:
            if not line.strip():
                continue
            try:
                out.append(json.loads(line))
            except ValueError:
                if not tolerate_torn:
                    raise
    return out


def record_value(rec):
    if "value64" in rec:
        return base64.b64decode(rec["value64"]).decode("utf-8", "replace")
    return rec.get("value")


def read_replica(data_dir, topic):
    """{partition: {offset: value}} from a replica's segment files, and {partition: hw} if known."""
    logs, hws, torn = {}, {}, 0
    for pdir in glob.glob(os.path.join(data_dir, topic + "-*")):
        suffix = pdir[len(os.path.join(data_dir, topic)) + 1:]
        if not suffix.isdigit() or not os.path.isdir(pdir):
            continue
        offsets = {}
        for seg in sorted(glob.glob(os.path.join(pdir, "*.log"))):
            with open(seg, "rb") as f:
                for line in f:
                    try:
                        b = json.loads(line)
                    except ValueError:
                        torn += 1  # an unfinished line after kill -9: never acknowledged
                        continue
                    for i, rec in enumerate(b.get("records", [])):
                        offsets[b["base"] + i] = record_value(rec)
        logs[int(suffix)] = offsets
    ckpt = os.path.join(data_dir, "replication-offset-checkpoint")
    if os.path.exists(ckpt):
        try:
            with open(ckpt) as f:
                for key, hw in json.load(f).get("offsets", {}).items():
                    t, _, p = key.rpartition("-")
                    if t == topic and p.isdigit():
                        hws[int(p)] = hw
        except ValueError:
            pass
    return logs, hws, torn


def percentile(xs, q):
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def check(args):
    d = args.dir
    writes = read_jsonl(os.path.join(d, "writes.jsonl"))
    reads = [e for e in read_jsonl(os.path.join(d, "reads.jsonl")) if e.get("type") == "read"]
    final_lines = read_jsonl(os.path.join(d, "final.jsonl"))
    faults = read_jsonl(os.path.join(d, "faults.jsonl"))
    examples = defaultdict(list)

    def example(kind, what):
        if len(examples[kind]) < 3:
            examples[kind].append(what)

    invoked = {e["value"] for e in writes if e["type"] == "invoke"}
    oks = [e for e in writes if e["type"] == "ok"]
    acked = {e["value"]: e for e in oks}
    failed = {e["value"]: e for e in writes if e["type"] == "fail"}
    unknown = {e["value"] for e in writes if e["type"] == "info"}
    # A value whose writer saw an ambiguous attempt may legitimately be in the log twice unless
    # the producer was idempotent.
    retried = {e["value"] for e in writes if e["type"] in ("ok", "info", "fail") and e.get("ambiguous", 0) > 0}
    idempotent = args.idempotent or any(e["type"] == "pid" for e in writes)

    final = {}  # (p, off) -> value
    final_hw = {}
    final_errors = 0
    for e in final_lines:
        if e["type"] == "final":
            final[(e["partition"], e["offset"])] = e["value"]
        elif e["type"] == "final_hw":
            final_hw[e["partition"]] = e["hw"]
        elif e["type"] == "final_error":
            final_errors += 1
    where = defaultdict(list)  # value -> [(p, off)] in the final log
    for (p, off), v in sorted(final.items()):
        where[v].append((p, off))

    # Every (partition, offset) -> the set of values any observer attributes to it.
    seen = defaultdict(set)
    for (p, off), v in final.items():
        seen[(p, off)].add(v)
    for v, e in acked.items():
        seen[(e["partition"], e["offset"])].add(v)
    for e in reads:
        seen[(e["partition"], e["offset"])].add(e["value"])

    # Replicas: only what each holds below its high watermark counts as committed.
    divergence = 0
    torn_total = 0
    committed = defaultdict(dict)  # (p, off) -> {replica: value}
    for spec in args.replica:
        name, _, data_dir = spec.partition("=")
        logs, hws, torn = read_replica(data_dir, args.topic)
        torn_total += torn
        for p, offsets in logs.items():
            hw = hws.get(p, final_hw.get(p))
            if hw is None:
                continue
            for off, v in offsets.items():
                if off < hw:
                    committed[(p, off)][name] = v
                    seen[(p, off)].add(v)
    for key, by_replica in sorted(committed.items()):
        values = set(by_replica.values())
        if key in final:
            values.add(final[key])
        if len(values) > 1:
            divergence += 1
            example("replica_divergence", {"partition": key[0], "offset": key[1], "replicas": by_replica,
                                           "final": final.get(key)})

    inconsistent = 0
    for key, values in sorted(seen.items()):
        if len(values) > 1:
            inconsistent += 1
            example("inconsistent_offsets", {"partition": key[0], "offset": key[1], "values": sorted(map(str, values))})

    lost = 0
    for v, e in sorted(acked.items()):
        if v not in where:
            lost += 1
            example("lost", {"value": v, "partition": e["partition"], "offset": e["offset"]})

    duplicates = duplicates_retried = 0
    for v, places in where.items():
        if len(places) > 1:
            if v in retried and not idempotent:
                duplicates_retried += len(places) - 1
            else:
                duplicates += len(places) - 1
                example("duplicates", {"value": v, "at": places})

    # Order: one writer's values in one partition must sit in the order it wrote them, both in the
    # final log and in the offsets it was acknowledged with.
    reordered = 0
    last_n = {}
    for (p, off), v in sorted(final.items()):
        m = VALUE_RE.match(v or "")
        if not m:
            continue
        k = (int(m.group(1)), p)
        n = int(m.group(2))
        if k in last_n and n < last_n[k]:
            reordered += 1
            example("reordered", {"value": v, "partition": p, "offset": off, "after": "w%d-%d" % (k[0], last_n[k])})
        last_n[k] = max(n, last_n.get(k, -1))
    by_writer = defaultdict(list)
    for v, e in acked.items():
        m = VALUE_RE.match(v)
        if m:
            by_writer[(int(m.group(1)), e["partition"])].append((int(m.group(2)), e["offset"], v))
    for k, items in by_writer.items():
        items.sort()
        for (n1, o1, v1), (n2, o2, v2) in zip(items, items[1:]):
            if o2 <= o1:
                reordered += 1
                example("reordered", {"value": v2, "acked_offset": o2, "before": v1, "at": o1})

    phantom_values = {e["value"] for e in reads if e["value"] not in where}
    for v in sorted(phantom_values, key=str):
        example("phantom", v)
    failed_present = {v for v in failed if v in where}
    for v in sorted(failed_present):
        example("failed_but_present", {"value": v, "code": failed[v].get("code")})
    unexpected = {v for v in where if v not in invoked}
    for v in sorted(unexpected, key=str):
        example("unexpected", v)

    # Availability: the longest time a partition went without an acknowledgement while writers
    # were trying, and per fault the time until its partition (or every partition) took a write.
    acks_by_p = defaultdict(list)
    sent_by_p = defaultdict(list)  # (sent, acked): an answer in flight at the fault is no failover
    for e in oks:
        acks_by_p[e["partition"]].append(e["t"])
        sent_by_p[e["partition"]].append((e.get("sent", e["t"]), e["t"]))
    ts = [e["t"] for e in writes if "t" in e]
    max_unavail = 0
    if ts:
        start, end = min(ts), max(ts)
        parts = set(acks_by_p) | {e["partition"] for e in writes if "partition" in e}
        for p in parts:
            points = [start] + sorted(acks_by_p.get(p, [])) + [end]
            max_unavail = max(max_unavail, max(b - a for a, b in zip(points, points[1:])))
    failovers = []
    for f in faults:
        if f.get("type") != "fault" or not f.get("failover", True):
            continue
        parts = [f["partition"]] if f.get("partition") is not None else list(acks_by_p)
        times = []
        for p in parts:
            after = [t for sent, t in sent_by_p.get(p, []) if sent >= f["t"]]
            if after:
                times.append(min(after) - f["t"])
        if times:
            failovers.append(max(times))

    figures = {
        "acked": len(acked),
        "lost": lost,
        "duplicates": duplicates,
        "reordered": reordered,
        "inconsistent_offsets": inconsistent,
        "replica_divergence": divergence,
        "phantom": len(phantom_values),
        "failed_but_present": len(failed_present),
        "unexpected": len(unexpected),
        "max_unavailable_ms": max_unavail,
        "failover_ms": {"p50": percentile(failovers, 0.5), "max": max(failovers) if failovers else None,
                        "n": len(failovers)},
        "invoked": len(invoked),
        "failed": len(failed),
        "unknown": len(unknown),
        "duplicates_retried": duplicates_retried,
        "idempotent": idempotent,
        "reads": len(reads),
        "final_records": len(final),
        "final_read_errors": final_errors,
        "replicas": len(args.replica),
        "replica_torn_lines": torn_total,
    }
    figures["valid"] = all(figures[k] == 0 for k in SAFETY) and final_errors == 0 and bool(final_lines)
    if examples:
        figures["examples"] = dict(examples)
    return figures


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", required=True, help="the workload's --out directory (with final.jsonl)")
    ap.add_argument("--topic", required=True)
    ap.add_argument("--replica", action="append", default=[], metavar="NAME=DATA_DIR",
                    help="a replica's kbroker --data-dir (repeatable)")
    ap.add_argument("--idempotent", action="store_true",
                    help="count every duplicate, even of writes retried after an unknown outcome")
    args = ap.parse_args()
    if not os.path.isdir(args.dir):
        print("checker: read %s: not a directory" % args.dir, file=sys.stderr)
        return 64
    figures = check(args)
    print(json.dumps(figures, separators=(",", ":"), sort_keys=False))
    return 0 if figures["valid"] else 1


if __name__ == "__main__":
    sys.exit(main())
