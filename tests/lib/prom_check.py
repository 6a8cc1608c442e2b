#!/usr/bin/env python3
"""prom_check.py: a strict checker of the Prometheus text exposition format
(version 0.0.4), for tests where promtool may be missing. Reads the text on
stdin; exits 1 listing every problem, else prints one JSON object of the
samples: {"name{label=\"v\",...}": value} (labels sorted).

Checks: line grammar (metric and label names, quoted label values with only
the \\\\ \\" \\n escapes, float values incl. +Inf/-Inf/NaN, optional integer
timestamp); one HELP and one TYPE per family, TYPE before the family's
samples, a family's samples contiguous; no duplicate series; counters are
non-negative and named *_total; histograms have _bucket series with le,
ascending bounds, non-decreasing counts, a +Inf bucket equal to _count,
and _sum; the text ends with a newline."""
import json
import math
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


def parse_value(text):
    if text in ("+Inf", "Inf"):
        return math.inf
    if text == "-Inf":
        return -math.inf
    if text == "NaN":
        return math.nan
    if not re.fullmatch(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?", text):
        raise ValueError("bad value %r" % text)
    return float(text)


def parse_labels(text, pos):
    """text[pos] == '{'; returns (labels dict, position after '}')."""
    labels = {}
    pos += 1
    while True:
        if text[pos:pos + 1] == "}":
            return labels, pos + 1
        m = re.compile(LABEL).match(text, pos)
        if not m:
            raise ValueError("bad label name at column %d" % pos)
        name = m.group(0)
        pos = m.end()
        if text[pos:pos + 2] != '="':
            raise ValueError("label %s: expected =\"" % name)
        pos += 2
        value = []
        while True:
            if pos >= len(text):
                raise ValueError("unterminated label value")
            c = text[pos]
            if c == "\\":
                nxt = text[pos + 1:pos + 2]
                if nxt == "\\":
                    value.append("\\")
                elif nxt == '"':
                    value.append('"')
                elif nxt == "n":
                    value.append("\n")
                else:
                    raise ValueError("bad escape \\%s in label %s" % (nxt, name))
                pos += 2
                continue
            if c == '"':
                pos += 1
                break
            if c == "\n":
                raise ValueError("raw newline in label value")
            value.append(c)
            pos += 1
        if name in labels:
            raise ValueError("label %s repeated" % name)
        labels[name] = "".join(value)
        if text[pos:pos + 1] == ",":
            pos += 1
            continue
        if text[pos:pos + 1] != "}":
            raise ValueError("expected , or } after label %s" % name)


def family_of(name, types):
    for suffix in ("_bucket", "_sum", "_count"):
        base = name[: -len(suffix)] if name.endswith(suffix) else None
        if base and types.get(base) in ("histogram", "summary"):
            return base
    return name


def main():
    text = sys.stdin.read()
    errors = []
    if not text.endswith("\n"):
        errors.append("the text does not end with a newline")
    helps, types, seen_series = {}, {}, set()
    done_families, current = set(), None
    samples = {}
    hist = {}  # family -> labelset(without le) -> {"buckets": [(le, v)], "sum", "count"}
    for n, line in enumerate(text.split("\n")[:-1], 1):
        where = "line %d" % n
        if line == "":
            continue
        if line.startswith("#"):
            m = re.fullmatch(r"# (HELP|TYPE) (%s)(?: (.*))?" % NAME, line)
            if not m:
                if line.startswith("# HELP") or line.startswith("# TYPE"):
                    errors.append("%s: malformed %s" % (where, line[:6]))
                continue  # a plain comment
            kind, name, rest = m.group(1), m.group(2), m.group(3) or ""
            if kind == "HELP":
                if name in helps:
                    errors.append("%s: second HELP for %s" % (where, name))
                if re.search(r"\\[^\\n]", rest):
                    errors.append("%s: bad escape in HELP of %s" % (where, name))
                helps[name] = rest
            else:
                if name in types:
                    errors.append("%s: second TYPE for %s" % (where, name))
                if rest not in TYPES:
                    errors.append("%s: unknown type %r for %s" % (where, rest, name))
                if name in done_families or name == current:
                    errors.append("%s: TYPE for %s after its samples" % (where, name))
                types[name] = rest
            continue
        m = re.compile(NAME).match(line)
        if not m:
            errors.append("%s: bad metric name: %r" % (where, line))
            continue
        name, pos = m.group(0), m.end()
        try:
            labels = {}
            if line[pos:pos + 1] == "{":
                labels, pos = parse_labels(line, pos)
            if line[pos:pos + 1] != " ":
                raise ValueError("expected one space before the value")
            parts = line[pos + 1:].split(" ")
            if len(parts) not in (1, 2) or "" in parts:
                raise ValueError("expected VALUE [TIMESTAMP]")
            value = parse_value(parts[0])
            if len(parts) == 2 and not re.fullmatch(r"-?\d+", parts[1]):
                raise ValueError("bad timestamp %r" % parts[1])
        except (ValueError, IndexError) as e:
            errors.append("%s: %s: %r" % (where, e, line))
            continue
        fam = family_of(name, types)
        if fam != current:
            if fam in done_families:
                errors.append("%s: samples of %s are not contiguous" % (where, fam))
            if current is not None:
                done_families.add(current)
            current = fam
        ftype = types.get(fam, "untyped")
        key = name + "{" + ",".join('%s="%s"' % (k, labels[k]) for k in sorted(labels)) + "}"
        if key in seen_series:
            errors.append("%s: duplicate series %s" % (where, key))
        seen_series.add(key)
        samples[key] = value
        if ftype == "counter":
            if not name.endswith("_total"):
                errors.append("%s: counter %s is not named *_total" % (where, name))
            if value < 0 or math.isnan(value):
                errors.append("%s: counter %s is %s" % (where, key, value))
        if ftype == "histogram":
            rest = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
            h = hist.setdefault(fam, {}).setdefault(rest, {"buckets": [], "sum": None, "count": None})
            if name == fam + "_bucket":
                if "le" not in labels:
                    errors.append("%s: bucket without le" % where)
                    continue
                try:
                    h["buckets"].append((parse_value(labels["le"]), value))
                except ValueError as e:
                    errors.append("%s: le: %s" % (where, e))
            elif name == fam + "_sum":
                h["sum"] = value
            elif name == fam + "_count":
                h["count"] = value
            else:
                errors.append("%s: %s is not a histogram series name of %s" % (where, name, fam))
    for fam, series in hist.items():
        for labels, h in series.items():
            what = "%s%s" % (fam, dict(labels))
            les = [b[0] for b in h["buckets"]]
            if les != sorted(les) or len(set(les)) != len(les):
                errors.append("%s: bucket bounds not ascending" % what)
            counts = [b[1] for b in h["buckets"]]
            if any(b < a for a, b in zip(counts, counts[1:])):
                errors.append("%s: bucket counts decrease" % what)
            if not les or les[-1] != math.inf:
                errors.append("%s: no +Inf bucket" % what)
            elif h["count"] is None or counts[-1] != h["count"]:
                errors.append("%s: +Inf bucket %s != _count %s" % (what, counts[-1], h["count"]))
            if h["sum"] is None:
                errors.append("%s: no _sum" % what)
    for name in types:
        if name not in done_families and name != current:
            pass  # a family with no samples is allowed
    if errors:
        print("\n".join(errors), file=sys.stderr)
        return 1
    print(json.dumps(samples))
    return 0


if __name__ == "__main__":
    sys.exit(main())
