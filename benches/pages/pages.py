#!/usr/bin/env python3
"""Helpers of scripts/bench-pages.sh (standard library only).

    pages.py rss PID                    resident memory (KiB) of PID and all its descendants
    pages.py watch OUT PID...           samples that every 100 ms until killed, writing the
                                        peak per PID to OUT ("PID KiB" lines) as it goes
    pages.py markup LEPTOS.html NEXT.html
                                        the two pages' sizes and their text inside <main>;
                                        fails unless the text is the same and the markup
                                        (the document without its scripts) is within 10 %
    pages.py js-files BASE PAGE.html    the JavaScript a browser loads first for that page
                                        (script src, but not nomodule, and modulepreload or
                                        preload-as-script links, fetched from BASE):
                                        raw and gzip bytes, one "url raw gzip" line each
    pages.py files FILE...              raw and gzip bytes of each file
    pages.py hammer URL COOKIE N MARKER N requests in a row on one connection, each a 200
                                        containing MARKER (for profile-p2.sh)
    pages.py summary LOG                the tables, from the lines the script logged
"""
import gzip
import html
import json
import os
import re
import statistics
import sys
import time
import urllib.request


def tree_rss(root):
    """KiB resident of `root` and every descendant (one pass over /proc)."""
    children = {}
    rss = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/status") as f:
                m = re.search(r"^VmRSS:\s+(\d+)", f.read(), re.M)
        except (OSError, IndexError, ValueError):
            continue
        pid = int(entry)
        children.setdefault(ppid, []).append(pid)
        rss[pid] = int(m.group(1)) if m else 0
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total


def watch(out, pids):
    peak = {p: 0 for p in pids}
    while True:
        for p in pids:
            peak[p] = max(peak[p], tree_rss(p))
        tmp = out + ".tmp"
        with open(tmp, "w") as f:
            f.write("".join(f"{p} {k}\n" for p, k in peak.items()))
        os.replace(tmp, out)
        time.sleep(0.1)


def main_text(page):
    """The text a reader sees inside <main>: tags, comments and hydration markers out."""
    m = re.search(r"<main[^>]*>(.*?)</main>", page, re.S)
    if not m:
        return None
    text = re.sub(r"<!--.*?-->|<!>", "", m.group(1), flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    return " ".join(html.unescape(text).split())


def without_scripts(page):
    """The document's markup: its <script> elements taken out (each framework's code and
    data for the browser: Leptos's hydration bootstrap and serialized resources, Next.js's
    chunk tags and RSC payload; their bytes are in the document's size)."""
    return re.sub(r"<script[^>]*>.*?</script>", "", page, flags=re.S)


def markup(leptos_path, next_path):
    a, b = open(leptos_path).read(), open(next_path).read()
    ta, tb = main_text(a), main_text(b)
    ma, mb = len(without_scripts(a).encode()), len(without_scripts(b).encode())
    la, lb = len(a.encode()), len(b.encode())
    ga, gb = len(gzip.compress(a.encode(), 9)), len(gzip.compress(b.encode(), 9))
    print(f"MARKUP markup_leptos={ma} markup_next={mb} markup_next_over_leptos={mb / ma:.3f} "
          f"document_leptos={la} document_next={lb} document_next_over_leptos={lb / la:.3f} "
          f"document_gzip_leptos={ga} document_gzip_next={gb} same_text={ta == tb and ta is not None}")
    if ta != tb or ta is None:
        print(f"  leptos <main> text: {ta!r}\n  next   <main> text: {tb!r}", file=sys.stderr)
        sys.exit("the two pages do not show the same text")
    if abs(mb - ma) > 0.10 * ma:
        sys.exit(f"markup sizes (scripts aside) differ by more than 10 %: {ma} vs {mb} bytes")


def js_files(base, page_path):
    page = open(page_path).read()
    urls = []
    for m in re.finditer(r"<script[^>]*\ssrc=\"([^\"]+)\"[^>]*>", page):
        # A `nomodule` script (Next.js's polyfills) is skipped by every browser that runs
        # modules, as Leptos's bundle needs: not part of a modern first load.
        if "nomodule" not in m.group(0).lower():
            urls.append(m.group(1))
    for m in re.finditer(r"<link[^>]*rel=\"(?:modulepreload|preload)\"[^>]*>", page):
        tag = m.group(0)
        if 'as="script"' in tag or "modulepreload" in tag:
            h = re.search(r"href=\"([^\"]+)\"", tag)
            if h:
                urls.append(h.group(1))
    seen = []
    for u in urls:
        u = html.unescape(u)
        if u not in seen:
            seen.append(u)
    for u in seen:
        full = u if u.startswith("http") else base.rstrip("/") + u
        body = urllib.request.urlopen(full, timeout=30).read()
        print(f"{u} {len(body)} {len(gzip.compress(body, 9))}")


def hammer(url, cookie, n, marker):
    """n requests one after the other on one keep-alive connection; fails unless every
    answer is a 200 containing marker."""
    import http.client
    import urllib.parse
    u = urllib.parse.urlsplit(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
    for _ in range(int(n)):
        c.request("GET", u.path, headers={"Cookie": cookie})
        r = c.getresponse()
        body = r.read().decode("utf-8", "replace")
        if r.status != 200 or marker not in body:
            sys.exit(f"{url}: answered {r.status} without {marker!r}")
    c.close()


def files(paths):
    for p in paths:
        body = open(p, "rb").read()
        print(f"{p} {len(body)} {len(gzip.compress(body, 9))}")


def pct(values, q):
    """The q-quantile (0..1) by linear interpolation."""
    v = sorted(values)
    if len(v) == 1:
        return v[0]
    k = (len(v) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def spread(values):
    return (f"**{statistics.median(values):.3f}** (p10 {pct(values, 0.1):.3f}, "
            f"p90 {pct(values, 0.9):.3f}, {len(values)} pairs)")


def kv(line):
    return dict(re.findall(r"(\w+)=(\S+)", line))


def summary(log):
    text = open(log).read()
    rounds = {}
    for line in re.findall(r"^ROUND .*$", text, re.M):
        d = kv(line)
        rounds.setdefault(int(d["pair"]), {})[(d["app"], d["page"])] = d
    pairs = [r for _, r in sorted(rounds.items()) if len(r) == 4]
    if pairs:
        print("\n## P6: the same pages, Leptos + authkit-leptos vs Next.js + authkit-nextjs\n")
        print("| page | Leptos requests/s | Next.js requests/s | throughput, Leptos ÷ Next.js "
              "| p50 ms (L / N) | p99 ms (L / N) | p99, Leptos ÷ Next.js |")
        print("|---|---:|---:|---|---|---|---|")
        for page in ("open", "protected"):
            rps_l = [float(p[("leptos", page)]["rps"]) for p in pairs]
            rps_n = [float(p[("next", page)]["rps"]) for p in pairs]
            p50_l = [int(p[("leptos", page)]["p50_us"]) / 1000 for p in pairs]
            p50_n = [int(p[("next", page)]["p50_us"]) / 1000 for p in pairs]
            p99_l = [int(p[("leptos", page)]["p99_us"]) / 1000 for p in pairs]
            p99_n = [int(p[("next", page)]["p99_us"]) / 1000 for p in pairs]
            thr = [a / b for a, b in zip(rps_l, rps_n)]
            p99 = [a / b for a, b in zip(p99_l, p99_n)]
            p50 = [a / b for a, b in zip(p50_l, p50_n)]
            name = "`/about` (open), signed in" if page == "open" else "`/protected/about`, signed in"
            print(f"| {name} | {statistics.median(rps_l):.0f} | {statistics.median(rps_n):.0f} "
                  f"| {spread(thr)} × | {statistics.median(p50_l):.2f} / {statistics.median(p50_n):.2f} "
                  f"(÷ {statistics.median(p50):.3f}) | {statistics.median(p99_l):.2f} / "
                  f"{statistics.median(p99_n):.2f} | {spread(p99)} |")
        bad = sum(int(p[k]["unexpected"]) + int(p[k]["errors"]) for p in pairs for k in p)
        total = sum(int(p[k]["requests"]) for p in pairs for k in p)
        print(f"\nResponses: {total} in the measured rounds, {bad} not a signed-in 200 or a socket error.")
        p2 = [float(p[("leptos", "protected")]["rps"]) / float(p[("leptos", "open")]["rps"]) for p in pairs]
        p2n = [float(p[("next", "protected")]["rps"]) / float(p[("next", "open")]["rps"]) for p in pairs]
        print("\n## P2 side by side: protected ÷ open, signed in, per pair\n")
        print(f"- the demo (`<GuardedRoute>` vs `<Route>`): {spread(p2)}")
        print(f"- the Next.js peer (`withAuth({{ ensureSignedIn: true }})` vs none): {spread(p2n)}")
    mem = {}
    for line in re.findall(r"^RSS .*$", text, re.M):
        d = kv(line)
        mem.setdefault(d["app"], {})[d["when"]] = int(d["kib"])
    if "leptos" in mem and "next" in mem:
        print("\n## P6 memory (resident, the whole process tree)\n")
        print("| | Leptos | Next.js | Leptos ÷ Next.js |\n|---|---:|---:|---|")
        for when, label in (("warm", "after warm-up"), ("peak", "peak during the measured rounds")):
            a, b = mem["leptos"].get(when), mem["next"].get(when)
            if a and b:
                print(f"| {label} | {a / 1024:.1f} MB | {b / 1024:.1f} MB | **{a / b:.3f}** |")
    storms = {}
    for app, js in re.findall(r"^STORM app=(\w+) (\{.*\})$", text, re.M):
        storms.setdefault(app, []).append(json.loads(js))
    if storms:
        print("\n## P3-peer: 200 concurrent requests with one expired session, `/protected/about`\n")
        print("| app | upstream refreshes (emulator) | signed in | cookie deleted | new cookies (distinct) | all answered in |")
        print("|---|---:|---:|---:|---:|---:|")
        for app in ("leptos", "next"):
            for s in storms.get(app, []):
                print(f"| {app} | {s['refreshes']} | {s['signed_in']} / {s['requests']} | {s['deleted_cookie']} "
                      f"| {s['new_cookie']} ({s['distinct_cookies']}) | {s['elapsed_ms']:.0f} ms |")
    sizes = {}
    for line in re.findall(r"^BUNDLE .*$", text, re.M):
        d = kv(line)
        sizes[(d["app"], d["variant"])] = (int(d["raw"]), int(d["gzip"]))
    if sizes:
        print("\n## P7: what the browser downloads first (JavaScript + wasm, bytes)\n")
        print("| build | raw | gzip -9 |\n|---|---:|---:|")
        for (app, variant), (raw, gz) in sizes.items():
            print(f"| {app} {variant} | {raw} | {gz} |")
        rows = []
        if ("next", "with") in sizes and ("next", "plain") in sizes:
            rows.append(("authkit-nextjs: AuthKitProvider + useAuth + Impersonation",
                         sizes[("next", "with")], sizes[("next", "plain")]))
        for variant, label in (("provider", "authkit-leptos: AuthKitProvider + use_auth + Impersonation"),
                               ("widgets", "authkit-leptos: those + SignInLink, SignUpLink, SignOutButton, "
                                           "OrganizationSwitcher, GuardedRoute")):
            if ("leptos", variant) in sizes and ("leptos", "plain") in sizes:
                rows.append((label, sizes[("leptos", variant)], sizes[("leptos", "plain")]))
        print("\n| the components | add raw | add gzip |\n|---|---:|---:|")
        for label, (raw, gz), (praw, pgz) in rows:
            print(f"| {label} | {raw - praw:+d} | {gz - pgz:+d} |")
    for line in re.findall(r"^(?:MARKUP|BUDGET) .*$", text, re.M):
        print(line)


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "rss":
        print(tree_rss(int(args[0])))
    elif cmd == "watch":
        watch(args[0], [int(p) for p in args[1:]])
    elif cmd == "markup":
        markup(*args)
    elif cmd == "js-files":
        js_files(*args)
    elif cmd == "files":
        files(args)
    elif cmd == "hammer":
        hammer(*args)
    elif cmd == "summary":
        summary(args[0])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
