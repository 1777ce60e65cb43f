#!/usr/bin/env python3
"""Convert an OBO 1.2 ontology (e.g. GO's go-basic.obo) into the compact,
gzipped tab-separated file that tests/api/real_ontology.rs reads.

    python3 tests/data/convert_obo.py go-basic.obo tests/data/go-basic-2021-12-15.tsv.gz

Output (UTF-8, one record a line, sorted, deterministic gzip):
    # comment lines (source, data-version, counts)
    T <TAB> id <TAB> name                 one line per live (non-obsolete) [Term]
    E <TAB> child <TAB> relation <TAB> parent
                                          `is_a` lines and `relationship:` lines
Obsolete terms are dropped; so are [Typedef] stanzas and the logical
definitions (`intersection_of`, `union_of`), which are not asserted edges.
The script fails if an edge names a term that is not a live term.
"""

import gzip
import io
import sys


def stanzas(lines):
    kind, tags = None, []
    for raw in lines:
        line = raw.rstrip("\n")
        if line.startswith("["):
            if kind:
                yield kind, tags
            kind, tags = line.strip(), []
        elif kind and ":" in line and not line.startswith("!"):
            tag, _, value = line.partition(":")
            tags.append((tag.strip(), value.strip()))
    if kind:
        yield kind, tags


def strip_comment(value):
    # "GO:0048308 ! organelle inheritance" -> "GO:0048308"
    return value.split(" !", 1)[0].strip()


def main(src, dst):
    header = {}
    with open(src, encoding="utf-8") as f:
        for line in f:
            if line.startswith("["):
                break
            tag, _, value = line.partition(":")
            header.setdefault(tag.strip(), value.strip())
    terms, edges = {}, set()
    with open(src, encoding="utf-8") as f:
        for kind, tags in stanzas(f):
            if kind != "[Term]":
                continue
            t = dict(tags)
            if t.get("is_obsolete") == "true":
                continue
            tid = t["id"]
            terms[tid] = t["name"]
            for tag, value in tags:
                if tag == "is_a":
                    edges.add((tid, "is_a", strip_comment(value)))
                elif tag == "relationship":
                    rel, target = strip_comment(value).split()
                    edges.add((tid, rel, target))
    for child, rel, parent in edges:
        if child not in terms or parent not in terms:
            sys.exit(f"edge {child} {rel} {parent} names a term that is not live")
    for name in terms.values():
        assert "\t" not in name and "\n" not in name
    rels = sorted({r for _, r, _ in edges})
    out = io.StringIO()
    out.write(f"# source: {src.rsplit('/', 1)[-1]} ontology: {header.get('ontology')} "
              f"data-version: {header.get('data-version')}\n")
    out.write(f"# {len(terms)} live terms, {len(edges)} edges, relations: {' '.join(rels)}\n")
    for tid in sorted(terms):
        out.write(f"T\t{tid}\t{terms[tid]}\n")
    for child, rel, parent in sorted(edges):
        out.write(f"E\t{child}\t{rel}\t{parent}\n")
    with open(dst, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz:
            gz.write(out.getvalue().encode("utf-8"))
    print(f"{len(terms)} terms, {len(edges)} edges ({', '.join(rels)}) -> {dst}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
