#!/usr/bin/env python3
"""Steady chat-completion stream for the multi-host test, run inside a network namespace.

Usage: multihost-load.py URL EVENTS_FILE OUT_JSON ADAPTER...
Workers send requests back to back until EVENTS_FILE contains "stop". Each result (time, status, Retry-After,
error code) goes to OUT_JSON at the end. Lines "partition T" / "kill T" in EVENTS_FILE mark the faults."""
import json, sys, threading, time, urllib.request, urllib.error

url, events_file, out_file, adapters = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
results, lock = [], threading.Lock()

def stopped():
    try:
        with open(events_file) as f:
            return "stop" in f.read()
    except FileNotFoundError:
        return False

def worker(i):
    n = 0
    while not stopped():
        adapter = adapters[(i + n) % len(adapters)]
        n += 1
        body = json.dumps({"model": adapter, "messages": [{"role": "user", "content": f"steady {i} {n}"}], "max_tokens": 4}).encode()
        req = urllib.request.Request(url + "/v1/chat/completions", body, {"content-type": "application/json"})
        start = time.time()
        status, retry_after, code = 0, None, None
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                status = r.status
                json.load(r)
        except urllib.error.HTTPError as e:
            status, retry_after = e.code, e.headers.get("Retry-After")
            try:
                code = json.load(e)["error"].get("code")
            except Exception:
                code = "unparsable"
        except Exception as e:  # connection refused, timeout: counted as failures of their own kind
            status, code = -1, type(e).__name__
        with lock:
            results.append({"t": start, "latency": time.time() - start, "status": status, "retry_after": retry_after, "code": code, "adapter": adapter})
        if status != 200 and retry_after:
            time.sleep(min(float(retry_after), 1.0) / 4)  # a client honouring Retry-After loosely

threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
for t in threads: t.start()
for t in threads: t.join()
with open(out_file, "w") as f:
    json.dump(results, f)
