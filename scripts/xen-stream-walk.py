#!/usr/bin/env python3
"""Independent, minimal walker of an xl save file / xl migrate wire capture (xl header + libxl v2 stream
with a libxc v2/v3 image), used by scripts/test-xen.sh. Deliberately NOT our TypeScript reader: it is the
harness's own second opinion, so the Xen test does not depend on the code under test.

Usage:
  xen-stream-walk.py walk FILE[.gz]              JSON summary: record counts, sequence, PAGE_DATA passes,
                                                 trailing bytes (xl's migrate go message recognised)
  xen-stream-walk.py cut-page-data FILE[.gz] OUT  write FILE cut in the middle of its middle PAGE_DATA
                                                 record to OUT (uncompressed); prints the cut offset
  xen-stream-walk.py check-rewrite IN OUT [--batch N] [--flatten]
                                                 exit 0 iff OUT has the structure a rewrite of IN with
                                                 these options must have (libxl END, no trailing bytes,
                                                 same xl header+config bytes and pfn set, largest record
                                                 == N pfns, single pass without resends for --flatten)
  xen-stream-walk.py check-capture FILE[.gz]     exit 0 iff FILE looks like a multi-pass migrate capture:
                                                 xl magic, libxl END reached, >= 2 PAGE_DATA passes,
                                                 trailing bytes == xl's 44-byte go message

A "pass" is counted each time a PAGE_DATA pfn is not greater than the previous one: libxc sends every
pass (first full pass, dirty-page iterations, final stop-and-copy pass) in ascending pfn order.
"""
import gzip
import hashlib
import json
import struct
import sys

XL_MAGIC = b"Xen saved domain, xl format\n \0 \r"
GO_MESSAGE = b"domain is yours, you are cleared to unpause\0"
LIBXL = {0: "END", 1: "LIBXC_CONTEXT", 2: "EMULATOR_XENSTORE_DATA", 3: "EMULATOR_CONTEXT",
         4: "CHECKPOINT_END", 5: "CHECKPOINT_STATE"}
LIBXC = {0: "END", 1: "PAGE_DATA", 2: "X86_PV_INFO", 3: "X86_PV_P2M_FRAMES", 4: "X86_PV_VCPU_BASIC",
         5: "X86_PV_VCPU_EXTENDED", 6: "X86_PV_VCPU_XSAVE", 7: "SHARED_INFO", 8: "X86_TSC_INFO",
         9: "HVM_CONTEXT", 10: "HVM_PARAMS", 11: "TOOLSTACK", 12: "X86_PV_VCPU_MSRS", 13: "VERIFY",
         14: "CHECKPOINT", 15: "CHECKPOINT_DIRTY_PFN_LIST", 16: "STATIC_DATA_END",
         17: "X86_CPUID_POLICY", 18: "X86_MSR_POLICY"}
PFN_MASK = (1 << 52) - 1


class StreamError(Exception):
    pass


def open_any(path):
    with open(path, "rb") as f:
        magic = f.read(2)
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")


class Src:
    def __init__(self, path):
        self.f = open_any(path)
        self.off = 0

    def read(self, n, what):
        b = self.f.read(n)
        self.off += len(b)
        if len(b) != n:
            raise StreamError(f"truncated at offset {self.off} reading {what} ({len(b)}/{n} bytes)")
        return b

    def skip(self, n, what):
        while n > 0:
            k = min(n, 1 << 20)
            self.read(k, what)
            n -= k

    def rest(self):
        b = self.f.read()
        self.off += len(b)
        return b


def walk(path, want_page_records=False):
    s = Src(path)
    out = {"file": path, "records": [], "counts": {}, "page_data_records": 0, "pfn_entries": 0,
           "passes": 0, "pass_sizes": [], "max_batch": 0, "distinct_pfns": 0, "resent_pfn_entries": 0,
           "libxl_end": False, "error": None}
    page_recs = []
    seen = set()
    try:
        if s.read(32, "xl magic") != XL_MAGIC:
            raise StreamError("no xl magic at offset 0")
        bo, mand, opt, optlen = struct.unpack("<4I", s.read(16, "xl header"))
        if bo != 0x01020304:
            raise StreamError(f"xl byteorder {bo:#x} (only little-endian handled)")
        out["xl"] = {"mandatory_flags": mand, "optional_flags": opt, "optional_data_len": optlen}
        config = s.read(optlen, "xl optional data")
        out["xl_header_sha256"] = hashlib.sha256(
            XL_MAGIC + struct.pack("<4I", bo, mand, opt, optlen) + config).hexdigest()
        ident, ver, opts = struct.unpack(">8sII", s.read(16, "libxl header"))
        if ident != b"LibxlFmt":
            raise StreamError(f"bad libxl ident {ident!r} at {s.off - 16}")
        out["libxl_version"] = ver
        seq = []
        last_pfn = None
        while True:
            at = s.off
            rtype, rlen = struct.unpack("<II", s.read(8, "libxl record header"))
            name = "libxl:" + LIBXL.get(rtype, f"{rtype:#x}")
            s.skip((rlen + 7) & ~7, name + " body")
            seq.append(name)
            if rtype == 0:
                out["libxl_end"] = True
                out["libxl_end_offset"] = s.off
                break
            if rtype != 1:
                continue
            # libxc image follows LIBXC_CONTEXT
            marker, xid, xver, xopts = struct.unpack(">QIIH", s.read(18, "libxc image header"))
            s.read(6, "libxc image header")
            if marker != 0xFFFFFFFFFFFFFFFF or xid != 0x58454E46:
                raise StreamError(f"bad libxc image header at {at + 8}")
            e = ">" if xopts & 1 else "<"
            dtype, pshift, _r, xmaj, xmin = struct.unpack(e + "IHHII", s.read(16, "libxc domain header"))
            out["libxc"] = {"version": xver, "domain_type": dtype, "page_shift": pshift, "xen": f"{xmaj}.{xmin}"}
            while True:
                at = s.off
                rtype, rlen = struct.unpack(e + "II", s.read(8, "libxc record header"))
                name = "libxc:" + LIBXC.get(rtype, f"{rtype:#x}")
                seq.append(name)
                padded = (rlen + 7) & ~7
                if rtype == 1:
                    count, _res = struct.unpack(e + "II", s.read(8, "PAGE_DATA header"))
                    pfns = struct.unpack(e + f"{count}Q", s.read(8 * count, "PAGE_DATA pfns"))
                    s.skip(padded - 8 - 8 * count, "PAGE_DATA pages")
                    out["page_data_records"] += 1
                    out["pfn_entries"] += count
                    out["max_batch"] = max(out["max_batch"], count)
                    page_recs.append((at, 8 + padded))
                    for p in pfns:
                        pfn = p & PFN_MASK
                        if last_pfn is None or pfn <= last_pfn:
                            out["passes"] += 1
                            out["pass_sizes"].append(0)
                        out["pass_sizes"][-1] += 1
                        last_pfn = pfn
                        if pfn in seen:
                            out["resent_pfn_entries"] += 1
                        else:
                            seen.add(pfn)
                else:
                    s.skip(padded, name + " body")
                if rtype == 0:
                    break
    except StreamError as ex:
        out["error"] = str(ex)
    trailing = s.rest() if out["libxl_end"] else b""
    out["trailing_bytes"] = len(trailing)
    out["trailing_is_go_message"] = trailing == GO_MESSAGE
    if trailing and trailing != GO_MESSAGE:
        out["trailing_head"] = trailing[:64].decode("latin-1")
    out["size"] = s.off
    out["distinct_pfns"] = len(seen)
    out["pfn_set_sha256"] = hashlib.sha256(b"".join(struct.pack("<Q", p) for p in sorted(seen))).hexdigest()
    # run-length compress the sequence for display
    comp = []
    for n in seq:
        if comp and comp[-1][0] == n:
            comp[-1][1] += 1
        else:
            comp.append([n, 1])
        out["counts"][n] = out["counts"].get(n, 0) + 1
    out["records"] = [n if c == 1 else f"{n} x{c}" for n, c in comp]
    if want_page_records:
        return out, page_recs
    return out


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, path = argv[1], argv[2]
    if cmd == "walk":
        r = walk(path)
        print(json.dumps(r, indent=1))
        return 0 if r["error"] is None and r["libxl_end"] else 1
    if cmd == "check-capture":
        r = walk(path)
        ok = (r["error"] is None and r["libxl_end"] and r["passes"] >= 2 and r["trailing_is_go_message"])
        print(f"{path}: {'looks like' if ok else 'NOT'} a multi-pass xl migrate capture: size {r['size']}, "
              f"{r['page_data_records']} PAGE_DATA records, {r['pfn_entries']} pfn entries, "
              f"{r['passes']} passes {r['pass_sizes']}, libxl END {r['libxl_end']}, trailing "
              f"{r['trailing_bytes']} bytes (go message: {r['trailing_is_go_message']}), error {r['error']}")
        return 0 if ok else 1
    if cmd == "check-rewrite":
        # check-rewrite IN OUT [--batch N] [--flatten]: structural expectations of a rewrite's output
        if len(argv) < 4:
            print(__doc__, file=sys.stderr)
            return 2
        a, b = walk(path), walk(argv[3])
        opts = argv[4:]
        bad = []
        if b["error"] or not b["libxl_end"]:
            bad.append(f"output does not walk to libxl END ({b['error']})")
        if b["trailing_bytes"]:
            bad.append(f"{b['trailing_bytes']} trailing bytes after libxl END")
        if a.get("xl_header_sha256") != b.get("xl_header_sha256"):
            bad.append("xl header + JSON config not byte-identical to the input's")
        if a["distinct_pfns"] != b["distinct_pfns"] or a["pfn_set_sha256"] != b["pfn_set_sha256"]:
            bad.append(f"set of pfns differs ({a['distinct_pfns']} in, {b['distinct_pfns']} out)")
        if "--batch" in opts:
            n = int(opts[opts.index("--batch") + 1])
            if b["max_batch"] != n:
                bad.append(f"largest PAGE_DATA record has {b['max_batch']} pfns, expected {n} (--batch {n})")
            if a["passes"] == 1 and b["passes"] != 1:
                bad.append(f"single-pass input became {b['passes']} passes")
        if "--flatten" in opts:
            if b["passes"] != 1 or b["resent_pfn_entries"]:
                bad.append(f"not flat: {b['passes']} passes, {b['resent_pfn_entries']} resent pfn entries")
        if a["counts"].get("libxl:EMULATOR_CONTEXT", 0) != b["counts"].get("libxl:EMULATOR_CONTEXT", 0):
            bad.append("EMULATOR_CONTEXT record count differs")
        print("structure ok: " + ", ".join([f"{b['page_data_records']} PAGE_DATA records",
                                              f"max {b['max_batch']} pfns/record", f"{b['passes']} pass(es)",
                                              f"{b['distinct_pfns']} distinct pfns"]) if not bad
              else "structure FAIL: " + "; ".join(bad))
        return 0 if not bad else 1
    if cmd == "cut-page-data":
        if len(argv) < 4:
            print(__doc__, file=sys.stderr)
            return 2
        r, recs = walk(path, want_page_records=True)
        if not recs:
            print(f"{path}: no PAGE_DATA record to cut ({r['error']})", file=sys.stderr)
            return 1
        at, total = recs[len(recs) // 2]
        cut = at + total // 2
        src = open_any(path)
        with open(argv[3], "wb") as o:
            left = cut
            while left:
                b = src.read(min(left, 1 << 20))
                if not b:
                    break
                o.write(b)
                left -= len(b)
        print(f"cut at offset {cut}: inside PAGE_DATA record #{len(recs) // 2 + 1} of {len(recs)} "
              f"(record at {at}, {total} bytes); full stream {r['size']} bytes")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
