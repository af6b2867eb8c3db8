#!/usr/bin/env python3
# fastpath-insns.py - count the instructions of the restartable fast paths.
#
# Callgrind cannot run them (under Valgrind the kernel's rseq is not
# there, so the page sets run locked), and the single-stepping of a
# debugger aborts every restartable sequence. So the count is static: the
# disassembly of each public entry point in the library, read as a graph
# of its instructions, and the shortest run from the entry to a `ret`
# that stays inside the function. For za_alloc_pages and za_free_pages
# that run is the fast path itself (every way out of it that is not the
# fast path's return jumps to the out-of-line paths instead).
#
# Usage: scripts/fastpath-insns.py [LIBRARY] [FUNCTION...]
#   LIBRARY   libzonealloc.a or .so (default build-bench/libzonealloc.a)
#   FUNCTION  default: za_alloc_pages za_free_pages
# Prints one line per function and the pair's sum. Needs objdump
# (binutils). x86-64 and aarch64 (`ret` ends a run on both).
#
# SPDX-License-Identifier: MIT
import heapq
import re
import subprocess
import sys

LINE = re.compile(r"^\s*([0-9a-f]+):\s+(\S+)\s*(.*)$")
TARGET = re.compile(r"^([0-9a-f]+)\s+<([^>+]+)(\+0x[0-9a-f]+)?>")
JUMP = re.compile(r"^(j[a-z]+|b|b\.[a-z]+|cbn?z|tbn?z)$")


def disassemble(lib, fn):
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", lib],
                         check=True, capture_output=True, text=True).stdout
    insns, inside = [], False
    for line in out.splitlines():
        if line.endswith(">:"):
            inside = line.split("<", 1)[1][:-2] == fn
            continue
        if not inside:
            continue
        m = LINE.match(line)
        if m:
            insns.append((int(m.group(1), 16), m.group(2), m.group(3)))
        elif not line.strip():
            inside = False
    return insns


def fast_path(insns, fn):
    """Shortest run, in instructions (nops not counted), from the entry
    to a ret; None when there is none."""
    index = {a: i for i, (a, _, _) in enumerate(insns)}
    start = 0
    heap, seen = [(0, start)], set()
    while heap:
        cost, i = heapq.heappop(heap)
        if i in seen or i >= len(insns):
            continue
        seen.add(i)
        addr, op, args = insns[i]
        padding = op.startswith("nop") or (op == "xchg" and args == "%ax,%ax")
        step = 0 if padding else 1
        if op.startswith("ret"):
            return cost + step
        nexts = []
        if JUMP.match(op):
            tgt = None
            for part in reversed(args.split(",")):
                t = TARGET.match(part.strip())
                if t:
                    tgt = t
                    break
            if tgt and tgt.group(2) == fn and int(tgt.group(1), 16) in index:
                nexts.append(index[int(tgt.group(1), 16)])
            if op not in ("jmp", "b"):
                nexts.append(i + 1)  # conditional: may fall through
        elif op.startswith("call") or op == "bl":
            continue  # a call leaves the leaf: not a fast path
        else:
            nexts.append(i + 1)
        for n in nexts:
            heapq.heappush(heap, (cost + step, n))
    return None


def main(argv):
    lib = argv[1] if len(argv) > 1 else "build-bench/libzonealloc.a"
    fns = argv[2:] or ["za_alloc_pages", "za_free_pages"]
    total = 0
    for fn in fns:
        insns = disassemble(lib, fn)
        if not insns:
            sys.exit(f"fastpath-insns: {fn} not found in {lib}")
        n = fast_path(insns, fn)
        if n is None:
            sys.exit(f"fastpath-insns: {fn}: no run from the entry to a ret")
        print(f"{fn}: {n} instructions")
        total += n
    if len(fns) > 1:
        print(f"pair: {total} instructions")


if __name__ == "__main__":
    main(sys.argv)
