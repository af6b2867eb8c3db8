#!/usr/bin/env python3
# seed.py - writes the hand-made seed inputs of the API fuzzer into
# tests/fuzz/corpus/ (seed-*.bin), in the byte layout that fuzz_api.c
# decodes. Each seed is a short, readable program of API operations; the
# fuzzer mutates them from there. Run it after changing the layout, then
# replay: build/tests/fuzz_replay tests/fuzz/corpus
#
# usage: tests/fuzz/seed.py [OUTDIR]      (default: the corpus/ beside it)
#
# SPDX-License-Identifier: MIT
import os
import sys

# Opcodes (fuzz_api.c, enum OP_*).
ALLOC, FREE, ALLOC_BULK, FREE_BULK, DRAIN, CPU = 0, 2, 4, 5, 6, 7
MEM_OFFLINE, MEM_ONLINE, MIGRATE_MODE, CONTIG, MISUSE, RECLAIM, REPORT = (
    8, 9, 10, 11, 12, 13, 14)

# gfp_base[] indices (fuzz_api.c).
KERNEL, ATOMIC, NOWAIT, MOVABLE, KERNEL_DMA32, ATOMIC_DMA32 = 0, 1, 2, 3, 4, 5
NOWAIT_MOVABLE, KERNEL_RECLAIMABLE, ATOMIC_MOVABLE, DMA, NONE = 6, 7, 8, 9, 10
# modifier bits
ZERO, NORETRY, THISNODE, NOWARN, HIGH, ATOMIC_RES, KSWAPD = (
    0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40)

# Blocks of a node: 0 DMA32, 1 NORMAL, 2-3 MOVABLE, 4-5 spare (offline).
BLOCKS_PER_NODE = 6


class Seed:
    def __init__(self, nodes=1, backed=True, pcp_fixed=False, no_pcp=False,
                 online_cpus=4, max_order=10, pb_order=9, batch=4, high=16,
                 min_free_kb=0, small_pages=False, hostile=False,
                 pcp_high_extreme=0, min_free_log2=None, huge_pages=0):
        # hostile: header byte 1 bit 6 (fuzz_api.c "Hostile mode").
        # pcp_high_extreme 1..3: pcp_high 2^30, 2^30 + 1, UINT_MAX.
        # min_free_log2: min_free_kbytes 2^N (N 0..62), 63: ULONG_MAX.
        # huge_pages 28 or 30 (frames only): page_shift.
        h0 = (1 if nodes == 2 else 0) | (2 if backed else 0)
        h0 |= 0x80 if small_pages else 0
        h0 |= 4 if pcp_fixed else 0
        h0 |= 0x18 if no_pcp else 0
        h0 |= (online_cpus - 1) << 5
        h1 = (max_order - 3) | ((min(pb_order, 8) - 1) << 3)
        h2 = (batch - 1) | ((high - batch) << 3)
        h3 = min_free_kb // 4
        if hostile:
            h1 |= 0x40
            h2 = (h2 & 0x3f) | (pcp_high_extreme << 6)
            if min_free_log2 is not None:
                h3 = 255 if min_free_log2 >= 63 else 192 + min_free_log2
            if huge_pages:
                h0 |= 0x80
                h1 |= 0x80 if huge_pages == 30 else 0
        self.b = bytearray([h0, h1, h2 & 0xff, h3])

    def op(self, code, *args):
        self.b += bytes([code] + [a & 0xff for a in args])
        return self

    def alloc(self, cpu, gfp, order, mods=0, cache=False, nid=None):
        # nid None: za_alloc_pages; else za_alloc_pages_node with nid taken
        # modulo nodes + 2 (nodes: invalid, nodes + 1: -1)
        nb = 0 if nid is None else 1 | (nid << 1)
        return self.op(ALLOC, cpu, gfp, mods, order | (0x80 if cache else 0),
                       nb)

    def alloc_raw(self, cpu, rawgfp, order, outside=False):
        hi = 0x80 | ((rawgfp >> 8) & 0x3f) | (0x40 if outside else 0)
        return self.op(ALLOC, cpu, hi, rawgfp & 0xff, order, 0)

    def free(self, cpu, idx):
        return self.op(FREE, cpu, idx >> 8, idx)

    def bulk(self, cpu, gfp, nr, mods=0):
        return self.op(ALLOC_BULK, cpu, gfp, mods, nr)

    def free_bulk(self, cpu, nr, holes=0):
        return self.op(FREE_BULK, cpu, nr, holes)

    def drain(self, cpu, all_cpus=False):
        return self.op(DRAIN, cpu | (0x80 if all_cpus else 0))

    def cpu_offline(self, cpu):
        return self.op(CPU, cpu | 0x80)

    def cpu_online(self, cpu):
        return self.op(CPU, cpu)

    def mem_offline(self, cpu, node, blk, two=False):
        return self.op(MEM_OFFLINE, cpu,
                       (node * BLOCKS_PER_NODE + blk) | (0x80 if two else 0))

    def mem_online(self, node, blk, movable=True):
        return self.op(MEM_ONLINE, node * BLOCKS_PER_NODE + blk,
                       1 if movable else 0)

    def migrate_mode(self, refuse_next=0, refuse_all=False, enoent=False):
        return self.op(MIGRATE_MODE, refuse_next | (0x1c if refuse_all else 0)
                       | (0x20 if enoent else 0))

    def contig(self, cpu, gfp, nr_pages, mods=0):
        return self.op(CONTIG, cpu, gfp, mods, (nr_pages - 1) // 8)

    def double_free(self, cpu, idx):
        return self.op(MISUSE, cpu, idx & 0x3f)

    def wrong_order(self, cpu, idx):
        return self.op(MISUSE, cpu, 0x40 | (idx & 0x3f))

    def free_tail(self, cpu, idx):
        return self.op(MISUSE, cpu, 0x80 | (idx & 0x3f))

    def contig_wrong_size(self, cpu, idx):
        return self.op(MISUSE, cpu, 0xc0 | (idx & 0x1f))

    def free_foreign(self, cpu):
        return self.op(MISUSE, cpu, 0xe0)

    def reclaim(self, shrinker, oom_budget=0):
        return self.op(RECLAIM, (1 if shrinker else 0) | (oom_budget << 1))

    def report(self, what, fold=False):
        return self.op(REPORT, what | (0x80 if fold else 0))

    # Hostile mode only. 0 NULL za sweep, 1 contig near ULONG_MAX, 2 foreign
    # pointers, 3 bad node and arguments, 4 lying OOM handler, 5 shrinker
    # claiming ULONG_MAX, 6 next migrate re-enters, 7 NULL arrays.
    def hostile(self, action, arg=0):
        return self.op(REPORT, 0x40 | action, arg)


def seeds():
    s = {}

    a = Seed()
    for o in range(4):
        a.alloc(o, KERNEL, o)
    a.alloc(1, MOVABLE, 9).alloc(2, KERNEL_DMA32, 10).alloc(3, ATOMIC, 0)
    a.free(0, 0).free(1, 3).free(2, 1).free(3, 0)
    s["alloc-free"] = a

    g = Seed(nodes=2)
    for i in range(NONE + 1):
        g.alloc(i % 5, i, i % 4, mods=ZERO if i % 2 else NOWARN)
    g.alloc(0, MOVABLE, 2, mods=THISNODE | ZERO, nid=1)
    g.alloc(2, KERNEL, 1, mods=THISNODE)
    g.alloc(4, ATOMIC, 0, mods=HIGH | ATOMIC_RES)   # no CPU
    g.alloc(1, KERNEL, 11)                          # order too big: EINVAL
    g.alloc(1, KERNEL, 0, nid=2)                    # no such node: EINVAL
    g.alloc(2, KERNEL, 0, nid=3)                    # nodes + 1: nid -1
    g.alloc_raw(0, 0x0003, 0)                       # DMA|DMA32: EINVAL
    g.alloc_raw(0, 0x0000, 0, outside=True)         # unknown bit: EINVAL
    g.alloc_raw(3, 0x0144, 3)                       # raw MOVABLE|KSWAPD|ZERO
    s["gfp-orders"] = g

    b = Seed()
    b.bulk(0, KERNEL, 40).bulk(1, MOVABLE, 48, mods=ZERO).bulk(4, ATOMIC, 5)
    b.free_bulk(2, 30, holes=0x55).free_bulk(0, 48).bulk(3, NOWAIT, 10)
    s["bulk"] = b

    c = Seed(online_cpus=3)
    for cpu in range(4):
        c.bulk(cpu, KERNEL, 20)
        c.free_bulk(cpu, 20)
    c.drain(1).cpu_offline(1).cpu_offline(1)        # -EEXIST the 2nd time
    c.alloc(1, KERNEL, 0).free(1, 0)                # on an offline CPU
    c.drain(0, all_cpus=True).cpu_online(3).cpu_online(3)
    c.cpu_offline(0).cpu_offline(2).cpu_offline(3)  # last one: -EBUSY
    c.cpu_online(4).cpu_online(1).drain(2)          # 4: -EINVAL
    s["drain-cpu-hotplug"] = c

    m = Seed(nodes=2)
    for i in range(12):
        m.alloc(i % 4, MOVABLE, i % 3, mods=ZERO)
    m.bulk(1, NOWAIT_MOVABLE, 30)
    m.mem_offline(0, 0, 3)                          # migrates everything
    m.mem_online(0, 3).mem_online(0, 4, movable=True)
    m.migrate_mode(refuse_next=2).mem_offline(1, 0, 2)
    m.migrate_mode(enoent=True).mem_offline(2, 0, 4)
    m.alloc(0, MOVABLE, 4).migrate_mode(refuse_all=True).mem_offline(0, 0, 3)
    m.migrate_mode().mem_offline(3, 0, 3).mem_online(1, 5, movable=False)
    m.mem_offline(0, 1, 2, two=True).mem_offline(0, 1, 1)
    s["memory-hotplug"] = m

    u = Seed()
    u.alloc(0, KERNEL, 0).alloc(1, KERNEL_RECLAIMABLE, 2)
    u.mem_offline(0, 0, 1)                          # unmovable: -EBUSY
    u.mem_offline(0, 0, 1, two=True)                # two zones: -EINVAL
    u.mem_offline(0, 0, 4)                          # not online: -ENOENT
    u.mem_online(0, 2)                              # online: -EEXIST
    u.free(0, 0).free(0, 0).mem_offline(2, 0, 0)    # DMA32 empties: zonelists
    u.alloc(1, KERNEL_DMA32, 0).mem_online(0, 0).alloc(1, KERNEL_DMA32, 0)
    s["offline-errors"] = u

    k = Seed(max_order=6, pb_order=4)
    k.contig(0, MOVABLE, 100).contig(1, KERNEL, 1).contig(2, MOVABLE, 700)
    k.mem_offline(0, 0, 3).mem_offline(0, 0, 2)     # a contig range: -EBUSY
    k.free(0, 0).contig(3, KERNEL_DMA32, 300).free(0, 1)
    s["contig"] = k

    x = Seed()
    x.alloc(0, KERNEL, 2).alloc(1, MOVABLE, 0).alloc(2, KERNEL, 3)
    x.double_free(0, 0).wrong_order(1, 0).wrong_order(2, 1).double_free(3, 0)
    x.alloc(0, KERNEL, 3).free_tail(1, 1).contig_wrong_size(2, 0)
    x.free_foreign(3).contig(0, MOVABLE, 100).contig_wrong_size(1, 2)
    x.wrong_order(2, 2).free_tail(3, 2).double_free(0, 2)
    s["misuse"] = x

    r = Seed(min_free_kb=1020)
    r.reclaim(True, oom_budget=2)
    for i in range(6):
        r.alloc(i % 4, KERNEL, 7, cache=True)
    r.bulk(0, KERNEL, 48).bulk(1, KERNEL, 48)
    for i in range(4):
        r.alloc(i, KERNEL, 8)
    r.alloc(0, ATOMIC, 8).reclaim(False).alloc(1, KERNEL, 8, mods=NORETRY)
    s["reclaim"] = r

    p = Seed(nodes=2)
    for i in range(8):
        p.alloc(i % 4, i % 4, i % 3)
    for w in range(4):
        p.report(w, fold=bool(w & 1))
    s["reports"] = p

    f = Seed(backed=False, pcp_fixed=True, batch=2, high=5, max_order=4,
             pb_order=3)
    for i in range(10):
        f.alloc(i % 4, MOVABLE, i % 5)
    f.free_bulk(0, 10).mem_offline(0, 0, 2).drain(1, all_cpus=True)
    f.cpu_offline(2).bulk(2, KERNEL, 12).mem_online(0, 2)
    s["frames-pcp-fixed"] = f

    # 512-byte pages; with UBSan this reproduced the page_shift 9
    # watermark bug (tests/test_fuzz_regress_page_shift9.c)
    sp = Seed(small_pages=True, nodes=2, min_free_kb=64)
    for i in range(8):
        sp.alloc(i % 4, i % 4, i % 5, mods=ZERO)
    sp.bulk(1, MOVABLE, 30).mem_offline(2, 0, 2).mem_online(0, 2)
    sp.free_bulk(0, 30).drain(0, all_cpus=True)
    s["small-pages"] = sp

    n = Seed(no_pcp=True, nodes=2, online_cpus=1, max_order=3, pb_order=3)
    for i in range(10):
        n.alloc(0, i % 9, i % 4)
    n.bulk(0, KERNEL, 16).free_bulk(0, 16).mem_offline(0, 1, 3)
    n.cpu_online(2).drain(2, all_cpus=True).free(0, 1)
    s["no-pcp"] = n

    # Hostile callers (issue 12): every hostile call, then memory pressure
    # with lying callbacks, then an offline whose migrate callback
    # re-enters the API.
    h = Seed(hostile=True)
    for action in range(8):
        h.hostile(action, 3 * action + 1)
    for i in range(24):
        h.alloc(i % 4, MOVABLE, 3, cache=(i % 3 == 0))
    h.reclaim(True, 3).hostile(4).hostile(5).hostile(1, 255)
    h.hostile(6).mem_offline(0, 0, 2).mem_offline(0, 0, 3)
    h.hostile(6).contig(1, MOVABLE, 1024)
    s["hostile-calls"] = h
    # Configuration at its limits: the largest fixed pcp_high with a
    # saturated reserve, and 1 GiB frames.
    lim = Seed(hostile=True, pcp_fixed=True, batch=7, pcp_high_extreme=1,
               min_free_log2=63)
    for i in range(16):
        lim.alloc(i % 4, [KERNEL, ATOMIC, MOVABLE, NOWAIT][i % 4], i % 3)
    lim.hostile(0).drain(0, all_cpus=True).report(0)
    s["hostile-limits"] = lim
    big = Seed(hostile=True, backed=False, huge_pages=30, min_free_log2=40)
    for i in range(16):
        big.alloc(i % 4, KERNEL if i % 2 else MOVABLE, i % 5)
    big.mem_offline(0, 0, 3).hostile(3, 9).report(1).report(2)
    s["hostile-huge-pages"] = big
    # Past the limit: za_create must refuse pcp_high 2^30 + 1 (EINVAL).
    s["hostile-pcp-high-over"] = Seed(hostile=True, pcp_fixed=True,
                                      pcp_high_extreme=2).alloc(0, KERNEL, 0)
    return s


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "corpus")
    os.makedirs(out, exist_ok=True)
    for name, sd in seeds().items():
        path = os.path.join(out, "seed-%s.bin" % name)
        with open(path, "wb") as fh:
            fh.write(bytes(sd.b))
        print("%s: %d bytes" % (path, len(sd.b)))


if __name__ == "__main__":
    main()
