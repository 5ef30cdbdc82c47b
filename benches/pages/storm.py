#!/usr/bin/env python3
"""P3-peer (scripts/bench-pages.sh): N concurrent requests carrying one expired session.

    storm.py URL COOKIE_HEADER MARKER [N]

Opens N connections to URL first, then sends the N requests at once (a barrier releases
them together), each with `Cookie: COOKIE_HEADER`, and prints one JSON object:

  requests          N
  signed_in         answered 200 with MARKER (the user's email) in the page
  deleted_cookie    carried a Set-Cookie that deletes the session cookie (`wos-session`
                    or a part of it: empty value, Max-Age=0 or an Expires in the past)
  new_cookie        carried a Set-Cookie with a new session value
  distinct_cookies  how many different new session values were handed out
  statuses          count per HTTP status
  elapsed_ms        from the release to the last answer

Only the standard library; loopback only.
"""
import http.client
import json
import sys
import threading
import time
import urllib.parse


def session_cookie(header):
    """(name, value, deleted) for a Set-Cookie of the session cookie, else None."""
    first, _, attrs = header.partition(";")
    name, _, value = first.strip().partition("=")
    if not name.startswith("wos-session"):
        return None
    low = attrs.lower().replace(" ", "")
    deleted = (
        value == ""
        or "max-age=0" in low
        or "max-age=-" in low
        or "expires=thu,01jan1970" in low
    )
    return name, value, deleted


def main():
    url, cookie, marker = sys.argv[1], sys.argv[2], sys.argv[3]
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 200
    u = urllib.parse.urlsplit(url)
    path = u.path + (f"?{u.query}" if u.query else "")
    conns = []
    for _ in range(n):
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        c.connect()
        conns.append(c)
    barrier = threading.Barrier(n + 1)
    results = [None] * n

    def one(i):
        c = conns[i]
        barrier.wait()
        try:
            c.request("GET", path, headers={"Cookie": cookie, "Accept": "text/html"})
            r = c.getresponse()
            body = r.read().decode("utf-8", "replace")
            results[i] = (r.status, r.msg.get_all("Set-Cookie") or [], body)
        except Exception as e:  # noqa: BLE001 - a failed request is a result here
            results[i] = (0, [], repr(e))
        finally:
            c.close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.monotonic()
    for t in threads:
        t.join()
    elapsed = (time.monotonic() - t0) * 1000
    out = {"requests": n, "signed_in": 0, "deleted_cookie": 0, "new_cookie": 0, "statuses": {}}
    values = set()
    for status, set_cookies, body in results:
        out["statuses"][str(status)] = out["statuses"].get(str(status), 0) + 1
        if status == 200 and marker in body:
            out["signed_in"] += 1
        deleted = new = False
        joined = {}
        for h in set_cookies:
            parsed = session_cookie(h)
            if parsed is None:
                continue
            name, value, gone = parsed
            if gone:
                deleted = True
            else:
                new = True
                joined[name] = value
        out["deleted_cookie"] += deleted
        out["new_cookie"] += new
        if joined:
            values.add(tuple(sorted(joined.items())))
    out["distinct_cookies"] = len(values)
    out["elapsed_ms"] = round(elapsed, 1)
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
