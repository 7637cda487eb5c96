#!/usr/bin/env python3
# tools/toml-test-compare.py: run a toml-test corpus against build/toml-decode.
# Owns: running the decoder on each case and comparing its tagged JSON with the
# expected JSON semantically (floats by value, date-times by instant).  It holds
# and downloads no corpus files: pass the path of a toml-test "tests" folder.
#
#   tools/toml-test-compare.py CORPUS/tests [--decoder build/toml-decode]
#                              [--list files-toml-1.0.0] [-v]
import argparse
import json
import math
import os
import re
import subprocess
import sys

DT_RE = re.compile(
    r"^(?:(\d{4})-(\d{2})-(\d{2}))?[Tt ]?"
    r"(?:(\d{2}):(\d{2})(?::(\d{2}))?(?:\.(\d+))?)?"
    r"([Zz]|[+-]\d{2}:\d{2})?$")


def days_from_civil(y, m, d):
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def dt_key(kind, s):
    """A comparable (nanoseconds, kind) value for a date-time string."""
    m = DT_RE.match(s)
    if not m:
        raise ValueError("bad date-time %r" % s)
    y, mo, d, hh, mi, ss, frac, off = m.groups()
    ns = 0
    if y is not None:
        ns += days_from_civil(int(y), int(mo), int(d)) * 86400 * 10**9
    if hh is not None:
        ns += (int(hh) * 3600 + int(mi) * 60 + int(ss or 0)) * 10**9
        if frac:
            ns += int((frac + "000000000")[:9])
    if kind == "datetime":
        if off is None:
            raise ValueError("offset missing in %r" % s)
        if off not in ("Z", "z"):
            sign = -1 if off[0] == "-" else 1
            ns -= sign * (int(off[1:3]) * 60 + int(off[4:6])) * 60 * 10**9
    elif off is not None:
        raise ValueError("unexpected offset in %s %r" % (kind, s))
    return ns


def is_value(o):
    return isinstance(o, dict) and set(o) == {"type", "value"} and \
        isinstance(o["type"], str)


def compare(want, have, path="."):
    """None when equal, else a description of the first difference."""
    if isinstance(want, list):
        if not isinstance(have, list):
            return "%s: expected an array" % path
        if len(want) != len(have):
            return "%s: array length %d != %d" % (path, len(have), len(want))
        for i, (w, h) in enumerate(zip(want, have)):
            r = compare(w, h, "%s[%d]" % (path, i))
            if r:
                return r
        return None
    if not isinstance(want, dict) or not isinstance(have, dict):
        return "%s: expected a table/value" % path
    if is_value(want):
        if not is_value(have):
            return "%s: expected a value, got %r" % (path, have)
        wt, ht = want["type"], have["type"]
        wv, hv = want["value"], have["value"]
        if wt != ht:
            return "%s: type %s != %s" % (path, ht, wt)
        if not isinstance(hv, str):
            return "%s: value is not a string" % path
        if wt == "float":
            wl, hl = wv.lower(), hv.lower()
            if wl.endswith("nan") or hl.endswith("nan"):
                ok = wl.lstrip("+-") == hl.lstrip("+-")
            else:
                try:
                    ok = float(wl) == float(hl)
                except ValueError:
                    ok = False
        elif wt in ("datetime", "datetime-local", "date-local", "time-local"):
            try:
                ok = dt_key(wt, wv) == dt_key(wt, hv)
            except ValueError:
                ok = False
        elif wt == "bool":
            ok = wv.lower() == hv.lower()
        else:
            ok = wv == hv
        return None if ok else "%s: %r != %r" % (path, hv, wv)
    if is_value(have):
        return "%s: expected a table, got a value" % path
    if set(want) != set(have):
        return "%s: keys differ: missing %s, extra %s" % (
            path, sorted(set(want) - set(have)), sorted(set(have) - set(want)))
    for k in want:
        r = compare(want[k], have[k], "%s.%s" % (path, k))
        if r:
            return r
    return None


def run(decoder, data):
    try:
        p = subprocess.run([decoder], input=data, capture_output=True,
                           timeout=10)
    except subprocess.TimeoutExpired:
        return None, b"", b"timeout"
    return p.returncode, p.stdout, p.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", help="toml-test 'tests' folder")
    ap.add_argument("--decoder", default="build/toml-decode")
    ap.add_argument("--list", default="files-toml-1.0.0",
                    help="case list inside the corpus folder")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()

    lst = os.path.join(a.corpus, a.list)
    with open(lst) as f:
        names = [l.strip() for l in f if l.strip().endswith(".toml")]
    counts = {"valid": [0, 0], "invalid": [0, 0]}
    failures = []
    for name in names:
        kind = "valid" if name.startswith("valid/") else "invalid"
        with open(os.path.join(a.corpus, name), "rb") as f:
            data = f.read()
        rc, out, err = run(a.decoder, data)
        counts[kind][1] += 1
        why = None
        if rc is None:
            why = "timeout"
        elif rc not in (0, 1):
            why = "exit status %d: %s" % (rc, err.decode(errors="replace").strip())
        elif kind == "invalid":
            if rc == 0:
                why = "accepted invalid input"
            elif len(err.strip().splitlines()) != 1:
                why = "error is not one line: %r" % err
        else:
            if rc != 0:
                why = "rejected: " + err.decode(errors="replace").strip()
            else:
                try:
                    have = json.loads(out)
                    with open(os.path.join(a.corpus, name[:-5] + ".json")) as f:
                        want = json.load(f)
                    why = compare(want, have)
                except ValueError as e:
                    why = "bad JSON output: %s" % e
        if why:
            failures.append((name, why))
        else:
            counts[kind][0] += 1
        if a.verbose:
            print("%s %s" % ("FAIL" if why else "ok  ", name))
    for name, why in failures:
        print("FAIL %s: %s" % (name, why))
    for kind in ("valid", "invalid"):
        print("%s: %d/%d passed" % (kind, counts[kind][0], counts[kind][1]))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
