#!/usr/bin/env python3
"""Generates src/tokenizer/nfc_tables.h: the Unicode data for NFC in src/tokenizer/nfc.c.

    python3 tools/gen_nfc_tables.py > src/tokenizer/nfc_tables.h

Source: Python's unicodedata (canonical combining classes, canonical decompositions; the
composition pairs and quick-check flags are derived from them). Qwen2's tokenizer normalizes
with NFC in Hugging Face `tokenizers`, whose normalizer (the unicode-normalization-alignments
crate) carries older tables than Python's: characters assigned later (U+07FD, U+0D3B, U+1AC1 ...)
have no combining class and no decomposition there. To be exact against the tokenizer the
model was trained with, every entry is checked against that normalizer's NFD when `tokenizers` is
importable, and entries it does not know are dropped (listed in the header's comment). Without
`tokenizers` the script refuses (pass --no-reference to get plain Python tables).
"""
import sys
import unicodedata as U

SBASE, LBASE, VBASE, TBASE = 0xAC00, 0x1100, 0x1161, 0x11A7
LCOUNT, VCOUNT, TCOUNT = 19, 21, 28
SCOUNT = LCOUNT * VCOUNT * TCOUNT


def is_hangul_syllable(cp):
    return SBASE <= cp < SBASE + SCOUNT


def canonical_mapping(cp):
    d = U.decomposition(chr(cp))
    if not d or d.startswith("<"):
        return None
    return [int(x, 16) for x in d.split()]


def main():
    use_ref = "--no-reference" not in sys.argv
    hf_nfd = None
    if use_ref:
        try:
            from tokenizers import normalizers
        except ImportError:
            sys.exit("gen_nfc_tables: needs the `tokenizers` package (or --no-reference)")
        hf_nfd = normalizers.NFD()

    cps = [cp for cp in range(0x110000) if not (0xD800 <= cp < 0xE000)]
    ccc = {}
    decomp = {}  # full canonical decomposition (non-Hangul)
    dropped = []
    for cp in cps:
        if is_hangul_syllable(cp):
            continue
        c = chr(cp)
        k = U.combining(c)
        nfd = U.normalize("NFD", c)
        has_d = nfd != c
        if k == 0 and not has_d:
            continue
        if hf_nfd is not None:
            if has_d:
                got = hf_nfd.normalize_str(c)
                if got == c:
                    dropped.append(cp)
                    continue
                if got != nfd:
                    sys.exit(f"gen_nfc_tables: U+{cp:04X}: reference NFD {got!r} != {nfd!r}")
            if k != 0:
                # A mark the reference knows gets reordered against U+0334 (ccc 1) or U+0301
                # (ccc 230); one it does not know stays put.
                probe = "a" + c + "\u0334" if k > 1 else "a\u0301" + c
                if hf_nfd.normalize_str(probe) != U.normalize("NFD", probe):
                    dropped.append(cp)
                    continue
        if k:
            ccc[cp] = k
        if has_d:
            decomp[cp] = [ord(x) for x in nfd]

    # Primary composites: a two-character canonical mapping that NFC keeps (not excluded, not a
    # singleton, not a non-starter decomposition), restricted to what the reference knows.
    comps = {}
    for cp in decomp:
        m = canonical_mapping(cp)
        if m and len(m) == 2 and U.normalize("NFC", chr(cp)) == chr(cp):
            comps[(m[0], m[1])] = cp
    seconds = {b for (_, b) in comps}
    seconds.update(range(VBASE, VBASE + VCOUNT))
    seconds.update(range(TBASE + 1, TBASE + TCOUNT))

    def first_of(cp):
        if cp in decomp:
            return decomp[cp][0]
        return cp

    # Per code point: ccc, flags, decomposition slice. Flags:
    #   1 BOUNDARY: NFC(x + c...) == NFC(x) + NFC(c...) for any x (its decomposition starts with a
    #     starter that never combines with what precedes it)
    #   2 INERT: BOUNDARY and NFC(c) == c, so a lone c followed by a BOUNDARY is copied as is
    pool = []
    props = [(0, 3, 0, 0)]  # default: ccc 0, boundary + inert, no decomposition
    prop_index = {props[0]: 0}
    per_cp = {}
    for cp in cps:
        k = ccc.get(cp, 0)
        f0 = first_of(cp)
        boundary = ccc.get(f0, 0) == 0 and f0 not in seconds and not (cp in seconds)
        if is_hangul_syllable(cp):
            boundary = True
            inert = False  # LV may take a following T: handled by the full path
        else:
            inert = boundary and k == 0 and (cp not in decomp or
                                             U.normalize("NFC", chr(cp)) == chr(cp))
            # chars whose decomposition was dropped are inert iff they are plain starters
        flags = (1 if boundary else 0) | (2 if inert else 0)
        off, ln = 0, 0
        if cp in decomp:
            d = decomp[cp]
            off, ln = len(pool), len(d)
            pool.extend(d)
        p = (k, flags, off, ln)
        if p == props[0]:
            continue
        if p not in prop_index:
            prop_index[p] = len(props)
            props.append(p)
        per_cp[cp] = prop_index[p]
    if len(props) >= 65536 or len(pool) >= 65536:
        sys.exit("gen_nfc_tables: tables overflow 16-bit indices")

    # Two-stage table: stage1[cp >> 7] -> block, stage2[block * 128 + (cp & 127)] -> props index.
    blocks = []
    block_index = {}
    stage1 = []
    for hi in range(0x110000 >> 7):
        blk = tuple(per_cp.get((hi << 7) | lo, 0) for lo in range(128))
        if blk not in block_index:
            block_index[blk] = len(blocks)
            blocks.append(blk)
        stage1.append(block_index[blk])

    out = []
    w = out.append
    w("/* GENERATED by tools/gen_nfc_tables.py from Python %s unicodedata (Unicode %s)%s.\n"
      % (sys.version.split()[0], U.unidata_version,
         ", restricted to what the reference normalizer knows" if use_ref else ""))
    w(" * Do not edit. Code points dropped (newer than the reference's tables): %d%s */\n"
      % (len(dropped), (": " + " ".join("%04X" % c for c in dropped[:12]) + " ...") if dropped else ""))
    w("#include <stdint.h>\n\n")
    w("enum { NFC_BOUNDARY = 1, NFC_INERT = 2 };\n")
    w("typedef struct nfc_props { uint8_t ccc, flags; uint16_t decomp_off; uint8_t decomp_len; } nfc_props;\n\n")
    w("static const nfc_props nfc_props_tab[%d] = {\n" % len(props))
    for p in props:
        w("    {%d, %d, %d, %d},\n" % p)
    w("};\n\n")
    w("static const uint32_t nfc_decomp_pool[%d] = {\n" % max(1, len(pool)))
    for i in range(0, len(pool), 10):
        w("    " + ", ".join("0x%X" % x for x in pool[i:i + 10]) + ",\n")
    w("};\n\n")
    w("static const uint16_t nfc_stage1[%d] = {\n" % len(stage1))
    for i in range(0, len(stage1), 16):
        w("    " + ", ".join(str(x) for x in stage1[i:i + 16]) + ",\n")
    w("};\n\n")
    w("static const uint16_t nfc_stage2[%d] = {\n" % (len(blocks) * 128))
    for b in blocks:
        for i in range(0, 128, 16):
            w("    " + ", ".join(str(x) for x in b[i:i + 16]) + ",\n")
    w("};\n\n")
    pairs = sorted(comps.items())
    w("/* Primary composites, sorted by (first << 32 | second). */\n")
    w("static const struct { uint64_t key; uint32_t composite; } nfc_comp[%d] = {\n" % len(pairs))
    for (a, b), c in pairs:
        w("    {0x%XULL, 0x%X},\n" % ((a << 32) | b, c))
    w("};\n")
    sys.stdout.write("".join(out))


if __name__ == "__main__":
    main()
