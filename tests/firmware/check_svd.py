#!/usr/bin/python3
"""Structural check of the generated CMSIS-SVD file (no SVD schema or parser is packaged in Debian, so this
parses it with the standard XML parser and checks what the CMSIS-SVD 1.3 schema requires for the elements
used): element order, required elements, number formats, unique names, registers inside their address
block, fields inside 32 bits and disjoint; then checks every register, field and reset value against the
generated C headers (two outputs of one table must agree).

usage: check_svd.py <cimsim.svd> <dir with enos_regs.h, mc2ram_regs.h>"""
import os
import re
import sys
import xml.etree.ElementTree as ET

errors = []


def err(msg):
    errors.append(msg)


def num(text, where):
    t = (text or "").strip()
    if not re.fullmatch(r"(0x[0-9A-Fa-f]+|[0-9]+)", t):
        err(f"{where}: '{t}' is not an SVD scaledNonNegativeInteger")
        return 0
    return int(t, 0)


def check_order(elem, order, required, where):
    """Children must appear in the schema's sequence order; required ones present."""
    tags = [c.tag for c in elem]
    pos = [order.index(t) if t in order else -1 for t in tags]
    for t, p in zip(tags, pos):
        if p < 0:
            err(f"{where}: unexpected element <{t}>")
    known = [p for p in pos if p >= 0]
    if known != sorted(known):
        err(f"{where}: elements out of schema order: {tags}")
    for r in required:
        if r not in tags:
            err(f"{where}: missing required <{r}>")


DEVICE = ["vendor", "vendorID", "name", "series", "version", "description", "licenseText", "cpu",
          "headerSystemFilename", "headerDefinitionsPrefix", "addressUnitBits", "width", "size", "access",
          "protection", "resetValue", "resetMask", "peripherals", "vendorExtensions"]
PERIPH = ["name", "version", "description", "alternatePeripheral", "groupName", "prependToName", "appendToName",
          "headerStructName", "disableCondition", "baseAddress", "size", "access", "protection", "resetValue",
          "resetMask", "addressBlock", "interrupt", "registers"]
REG = ["name", "displayName", "description", "alternateGroup", "alternateRegister", "addressOffset", "size",
       "access", "protection", "resetValue", "resetMask", "dataType", "modifiedWriteValues", "writeConstraint",
       "readAction", "fields"]
FIELD = ["name", "description", "bitOffset", "bitWidth", "lsb", "msb", "bitRange", "access",
         "modifiedWriteValues", "writeConstraint", "readAction", "enumeratedValues"]
ACCESS = {"read-only", "write-only", "read-write", "writeOnce", "read-writeOnce"}


def parse_header(path):
    defs = {}
    with open(path) as f:
        for m in re.finditer(r"#define\s+(\w+)\s+(0x[0-9A-Fa-f]+|[0-9]+)u", f.read()):
            defs[m.group(1)] = int(m.group(2), 0)
    return defs


def main():
    svd, hdr_dir = sys.argv[1], sys.argv[2]
    root = ET.parse(svd).getroot()
    if root.tag != "device" or root.get("schemaVersion") != "1.3":
        err("root must be <device schemaVersion='1.3'>")
    check_order(root, DEVICE, ["name", "version", "description", "addressUnitBits", "width", "peripherals"], "device")
    headers = {"ENOS": parse_header(os.path.join(hdr_dir, "enos_regs.h")),
               "MC2RAM": parse_header(os.path.join(hdr_dir, "mc2ram_regs.h"))}
    names = set()
    nregs = nfields = 0
    for p in root.find("peripherals"):
        pname = p.findtext("name")
        where = f"peripheral {pname}"
        check_order(p, PERIPH, ["name", "baseAddress", "registers"], where)
        if pname in names:
            err(f"duplicate peripheral {pname}")
        names.add(pname)
        num(p.findtext("baseAddress"), where)
        blocks = [(num(b.findtext("offset"), where), num(b.findtext("size"), where), b.findtext("usage"))
                  for b in p.findall("addressBlock")]
        reg_blocks = [b for b in blocks if b[2] == "registers"]
        if not reg_blocks:
            err(f"{where}: no addressBlock with usage 'registers'")
        h = headers.get(pname)
        if h is None:
            err(f"{where}: no C header for this peripheral")
            continue
        seen_reg, seen_off = set(), set()
        for r in p.find("registers"):
            rname = r.findtext("name")
            rw = f"{where} register {rname}"
            check_order(r, REG, ["name", "addressOffset"], rw)
            nregs += 1
            off = num(r.findtext("addressOffset"), rw)
            if off % 4:
                err(f"{rw}: offset {off:#x} not 4-byte aligned")
            if rname in seen_reg or off in seen_off:
                err(f"{rw}: duplicate name or offset")
            seen_reg.add(rname)
            seen_off.add(off)
            if not any(o <= off and off + 4 <= o + s for o, s, _ in reg_blocks):
                err(f"{rw}: offset {off:#x} outside the register address block")
            if r.findtext("access") not in ACCESS:
                err(f"{rw}: access '{r.findtext('access')}'")
            reset = num(r.findtext("resetValue"), rw)
            if h.get(f"{pname}_{rname}_OFFSET") != off:
                err(f"{rw}: offset {off:#x} != header {h.get(f'{pname}_{rname}_OFFSET')}")
            if h.get(f"{pname}_{rname}_RESET") != reset:
                err(f"{rw}: reset {reset:#x} != header")
            used = 0
            fields = r.find("fields")
            for f in (fields if fields is not None else []):
                fname = f.findtext("name")
                fw = f"{rw} field {fname}"
                check_order(f, FIELD, ["name"], fw)
                nfields += 1
                lsb, width = num(f.findtext("bitOffset"), fw), num(f.findtext("bitWidth"), fw)
                if width < 1 or lsb + width > 32:
                    err(f"{fw}: bits outside the register")
                mask = ((1 << width) - 1) << lsb
                if used & mask:
                    err(f"{fw}: overlaps another field")
                used |= mask
                if h.get(f"{pname}_{rname}_{fname}_MASK") != mask:
                    err(f"{fw}: mask {mask:#x} != header")
        # every register of the header is in the SVD
        for k in h:
            m = re.fullmatch(rf"{pname}_(\w+)_OFFSET", k)
            if m and m.group(1) not in seen_reg and not m.group(1).endswith("WINDOW"):
                err(f"{where}: header register {m.group(1)} missing from the SVD")
    if not names:
        err("no peripherals")
    for e in errors:
        print("SVD check:", e)
    print(f"checked {len(names)} peripherals, {nregs} registers, {nfields} fields: "
          f"{'FAILED' if errors else 'ok'}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
