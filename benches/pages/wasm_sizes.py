#!/usr/bin/env python3
"""Where the bytes of a wasm bundle are, by function (standard library only).

    wasm_sizes.py top FILE.wasm [N]         the N largest functions (body bytes)
    wasm_sizes.py diff OLD.wasm NEW.wasm [N]
                                            bytes by crate (the name's first path segment)
                                            and the N functions that grew most

Reads the code section and the "name" custom section, so give it wasm-bindgen's output
before wasm-opt (which drops the names); sizes are then before wasm-opt's -Oz pass, so they
rank and compare, not total. Names are wasm-bindgen's (demangled Rust paths).
"""
import re
import sys
from collections import Counter


def leb(data, i):
    result = shift = 0
    while True:
        b = data[i]
        i += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return result, i


def functions(path):
    data = open(path, "rb").read()
    assert data[:4] == b"\0asm", f"{path} is not a wasm module"
    i = 8
    imported = 0
    bodies = []
    names = {}
    while i < len(data):
        sid = data[i]
        size, i = leb(data, i + 1)
        end = i + size
        if sid == 2:  # imports: count the function imports (they come first in the index space)
            n, j = leb(data, i)
            for _ in range(n):
                for _ in range(2):
                    length, j = leb(data, j)
                    j += length
                kind = data[j]
                j += 1
                if kind == 0:
                    _, j = leb(data, j)
                    imported += 1
                elif kind == 1:
                    j += 1
                    flags, j = leb(data, j)
                    _, j = leb(data, j)
                    if flags & 1:
                        _, j = leb(data, j)
                elif kind == 2:
                    flags, j = leb(data, j)
                    _, j = leb(data, j)
                    if flags & 1:
                        _, j = leb(data, j)
                elif kind == 3:
                    j += 2
                else:
                    _, j = leb(data, j + 1)
        elif sid == 10:  # code
            n, j = leb(data, i)
            for _ in range(n):
                length, j = leb(data, j)
                bodies.append(length)
                j += length
        elif sid == 0:
            length, j = leb(data, i)
            if data[j:j + length] == b"name":
                j += length
                while j < end:
                    sub = data[j]
                    sub_size, j = leb(data, j + 1)
                    sub_end = j + sub_size
                    if sub == 1:
                        n, k = leb(data, j)
                        for _ in range(n):
                            idx, k = leb(data, k)
                            length, k = leb(data, k)
                            names[idx] = data[k:k + length].decode("utf-8", "replace")
                            k += length
                    j = sub_end
        i = end
    out = Counter()
    for n, size in enumerate(bodies):
        out[names.get(imported + n, f"func[{imported + n}]")] += size
    return out


def crate(name):
    name = re.sub(r"^[<&*\s]+(mut\s+)?(dyn\s+)?", "", name)
    return re.split(r"::|<|\s", name, maxsplit=1)[0] or name


def main():
    cmd = sys.argv[1]
    if cmd == "top":
        f = functions(sys.argv[2])
        n = int(sys.argv[3]) if len(sys.argv) > 3 else 40
        print(f"{sum(f.values())} bytes in {len(f)} functions")
        for name, size in f.most_common(n):
            print(f"{size:8d}  {name[:160]}")
    elif cmd == "diff":
        old, new = functions(sys.argv[2]), functions(sys.argv[3])
        n = int(sys.argv[4]) if len(sys.argv) > 4 else 40
        print(f"code bytes: {sum(old.values())} -> {sum(new.values())} "
              f"({sum(new.values()) - sum(old.values()):+d})")
        by_crate = Counter()
        for name in set(old) | set(new):
            by_crate[crate(name)] += new.get(name, 0) - old.get(name, 0)
        print("by crate (the name's first segment):")
        for c, d in sorted(by_crate.items(), key=lambda kv: -kv[1])[:25]:
            print(f"  {d:+8d}  {c}")
        print("functions that grew most:")
        rows = sorted(((new.get(k, 0) - old.get(k, 0), k) for k in set(old) | set(new)), reverse=True)
        for d, k in rows[:n]:
            print(f"  {d:+8d}  {k[:170]}")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
