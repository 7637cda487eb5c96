#!/usr/bin/env python3
# tests/integration/uki/mkuki.py: test helper that writes .efifw blobs and
# .hwids tables (formats: docs/uki.md, from systemd src/boot/efi-firmware.h
# and src/boot/chid.h) and adds sections to a UKI stub with objcopy.
# Test input only: it owns no project code.
import argparse
import os
import struct
import subprocess
import sys
import tempfile
import uuid

EFIFW_MAGIC = 0xFEEDDEAD
HWID_LEN = 28
TYPES = {"devicetree": 1, "uefi-fw": 2}


def cmd_efifw(a):
    payload = open(a.payload, "rb").read()
    fwid = a.fwid.encode() + b"\0"
    hlen = a.header_len if a.header_len is not None else (32 if a.chid else 16)
    hdr = struct.pack("<IIII", a.magic, hlen, len(fwid) + a.fwid_len_delta,
                      len(payload) + a.payload_len_delta)
    if hlen >= 32:
        hdr += uuid.UUID(a.chid).bytes_le if a.chid else bytes(16)
    hdr = hdr.ljust(hlen, b"\0")[:max(hlen, 16)]
    open(a.output, "wb").write(hdr + fwid + payload)


def cmd_hwids(a):
    recs = []  # (type, chid, name, str)
    for kind, specs in (("uefi-fw", a.uefi_fw or []), ("devicetree", a.devicetree or [])):
        for spec in specs:
            name, s, chids = spec.split(":", 2)
            for c in chids.split(","):
                recs.append((TYPES[kind], uuid.UUID(c), name, s))
    strings = sorted({x for r in recs for x in (r[2], r[3])})
    base = (len(recs) + 1) * HWID_LEN
    offs, blob = {}, b""
    for s in strings:
        offs[s] = base + len(blob)
        blob += s.encode() + b"\0"
    out = b""
    for t, c, name, s in recs:
        out += struct.pack("<I16sII", (t << 28) | HWID_LEN, c.bytes_le, offs[name], offs[s])
    out += bytes(HWID_LEN) + blob
    open(a.output, "wb").write(out)


def pe_info(path):
    d = open(path, "rb").read()
    pe = struct.unpack_from("<I", d, 0x3C)[0]
    nsec, optlen = struct.unpack_from("<H", d, pe + 6)[0], struct.unpack_from("<H", d, pe + 20)[0]
    opt = pe + 24
    image_base = struct.unpack_from("<Q", d, opt + 24)[0]
    end = 0
    for i in range(nsec):
        vsize, vaddr = struct.unpack_from("<II", d, opt + optlen + 40 * i + 8)
        end = max(end, vaddr + vsize)
    return image_base, end


def cmd_build(a):
    base, end = pe_info(a.stub)
    vma = (end + 0xFFFF) & ~0xFFFF
    args, renames = ["objcopy"], []
    for i, spec in enumerate(a.section):
        name, path = spec.split("=", 1)
        tmp = ".s%02d" % i
        args += ["--add-section", "%s=%s" % (tmp, path),
                 "--change-section-vma", "%s=0x%x" % (tmp, base + vma),
                 "--set-section-flags", "%s=data,readonly" % tmp]
        renames += ["--rename-section", "%s=%s" % (tmp, name)]
        vma += (os.path.getsize(path) + 0xFFF) & ~0xFFF
        vma = (vma + 0xFFF) & ~0xFFF
    with tempfile.TemporaryDirectory() as td:
        mid = os.path.join(td, "mid.efi")
        subprocess.run(args + [a.stub, mid], check=True)
        subprocess.run(["objcopy"] + renames + [mid, a.output], check=True)


def main():
    p = argparse.ArgumentParser()
    sp = p.add_subparsers(dest="cmd", required=True)
    e = sp.add_parser("efifw")
    e.add_argument("--fwid", required=True)
    e.add_argument("--payload", required=True)
    e.add_argument("--chid")
    e.add_argument("--header-len", type=int)
    e.add_argument("--magic", type=lambda s: int(s, 0), default=EFIFW_MAGIC)
    e.add_argument("--fwid-len-delta", type=int, default=0)
    e.add_argument("--payload-len-delta", type=int, default=0)
    e.add_argument("-o", "--output", required=True)
    h = sp.add_parser("hwids")
    h.add_argument("--uefi-fw", action="append", help="NAME:FWID:CHID[,CHID...]")
    h.add_argument("--devicetree", action="append", help="NAME:COMPATIBLE:CHID[,CHID...]")
    h.add_argument("-o", "--output", required=True)
    b = sp.add_parser("build")
    b.add_argument("--stub", required=True)
    b.add_argument("--section", action="append", default=[], help="NAME=FILE")
    b.add_argument("-o", "--output", required=True)
    a = p.parse_args()
    {"efifw": cmd_efifw, "hwids": cmd_hwids, "build": cmd_build}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
