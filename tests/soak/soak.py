#!/usr/bin/env python3
"""`make soak`: mixed traffic against one `hma-lab serve` on loopback, then a verdict.

Standard library only. Starts `hma-lab serve` (release build by default), then for SOAK_SECS
seconds (default 600) or SOAK_MAX_REQUESTS requests, whichever comes first, runs:

- worker threads, half through the forward proxy (CONNECT, then TLS to the lab host), half
  straight to the HTTPS listener (TLS with the lab host as SNI), each repeating one round:
  ROPC token, client-credentials token, refresh-token redemption, EWS GetFolder with the Bearer,
  MAPI/HTTP PING with the Bearer; keep-alive connections, each status checked;
- an admin thread: a cmdlet through `POST /cmdlet` every second (an organization change and
  reads), and every five seconds a clock advance of 15 lab days (between rounds: workers hold a
  shared lock for a round, the advance takes it exclusively, so no token is aged mid-round);
- a scenario thread: `hma-lab run` on one scenario every 20 seconds (exit status 0 expected);
- a sampler: VmRSS of the serve process (/proc/PID/status) and `GET /stats` (journal entries,
  mock-aad grant counts) every 2 seconds.

It fails (exit 1) unless: no unexpected status or transport error; RSS at the end is under 110%
of RSS after the warm-up (a fifth of the run, at most 60 s); the journal never holds more than
its cap; mock-aad's refresh grants plateau (the last quarter's peak within 10% (+100) of the
peak between warm-up and half time). Traffic goes to 127.0.0.1 only. Results go to stdout and,
as JSON, to SOAK_REPORT (default target/soak/last.json).
"""

import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("HMA_LAB", os.path.join(ROOT, "target", "release", "hma-lab"))
SECS = float(os.environ.get("SOAK_SECS", "600"))
MAX_REQUESTS = int(os.environ.get("SOAK_MAX_REQUESTS", "5000000"))
WORKERS = int(os.environ.get("SOAK_WORKERS", "4"))
SCENARIO = os.environ.get(
    "SOAK_SCENARIO", os.path.join(ROOT, "scenarios", "ssl-offloading.yaml")
)
REPORT = os.environ.get("SOAK_REPORT", os.path.join(ROOT, "target", "soak", "last.json"))
ADMIN_TOKEN = "soak-admin-token"
CLOCK_STEP = 15 * 86400
CLOCK_EVERY = 5.0
CMDLET_EVERY = 1.0
SCENARIO_EVERY = 20.0
SAMPLE_EVERY = 2.0

OFFICE = "d3590ed6-52b3-4102-aeff-aad2292ab01c"
DAEMON = "175cf0e3-733c-4a81-9b28-61f662f95c16"
GREG = "GregT@contoso.com"
# Greg's mailbox GUID in the contoso lab (MAPI/HTTP addresses mailboxes by GUID).
GREG_MAILBOX = "3b5a9c6e-2f4d-4c1a-9e7b-8d6f5a4c3b21"
AAD = "login.microsoftonline.com"
MAIL = "mail.contoso.com"
FORM = {"content-type": "application/x-www-form-urlencoded"}
with open(os.path.join(ROOT, "bench", "getfolder.xml")) as _f:
    GET_FOLDER = _f.read()
CMDLETS = [
    "Set-OrganizationConfig -OAuth2ClientProfileEnabled $true",
    "(Get-OrganizationConfig).OAuth2ClientProfileEnabled",
    "Get-WebServicesVirtualDirectory | Format-List",
    "Get-AuthServer",
    "Get-Mailbox GregT",
]


class Unexpected(Exception):
    """A status or body other than the one the request should get."""


class RWLock:
    """Rounds share it; a clock advance takes it alone."""

    def __init__(self):
        self.cond = threading.Condition()
        self.readers = 0
        self.writer = False

    def acquire_read(self):
        with self.cond:
            while self.writer:
                self.cond.wait()
            self.readers += 1

    def release_read(self):
        with self.cond:
            self.readers -= 1
            self.cond.notify_all()

    def acquire_write(self):
        with self.cond:
            while self.writer:
                self.cond.wait()
            self.writer = True
            while self.readers:
                self.cond.wait()

    def release_write(self):
        with self.cond:
            self.writer = False
            self.cond.notify_all()


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = {}
        self.errors = []

    def count(self, what):
        with self.lock:
            self.requests[what] = self.requests.get(what, 0) + 1

    def total(self):
        with self.lock:
            return sum(self.requests.values())

    def error(self, what):
        with self.lock:
            self.errors.append(what)


class LabConn:
    """Keep-alive HTTPS to one lab host, through the proxy or straight to the HTTPS listener."""

    def __init__(self, ctx, host, https, proxy):
        self.ctx, self.host, self.https, self.proxy = ctx, host, https, proxy
        self.conn = None

    def _open(self):
        if self.proxy:
            sock = socket.create_connection(self.proxy, timeout=30)
            sock.sendall(
                f"CONNECT {self.host}:443 HTTP/1.1\r\nHost: {self.host}:443\r\n\r\n".encode()
            )
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = sock.recv(4096)
                if not chunk:
                    raise Unexpected(f"proxy closed the CONNECT to {self.host}")
                head += chunk
            if not head.startswith(b"HTTP/1.1 200"):
                raise Unexpected(f"CONNECT {self.host}: {head[:60]!r}")
        else:
            sock = socket.create_connection(self.https, timeout=30)
        tls = self.ctx.wrap_socket(sock, server_hostname=self.host)
        conn = http.client.HTTPConnection(self.host, timeout=30)
        conn.sock = tls
        return conn

    def request(self, method, path, body=None, headers=None):
        for attempt in (0, 1):
            reused = self.conn is not None
            if self.conn is None:
                self.conn = self._open()
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                r = self.conn.getresponse()
                data = r.read()
                if r.getheader("connection", "").lower() == "close":
                    self.close()
                return r, data
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                # A keep-alive connection the server closed while idle is no error: once more.
                if not reused or attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def expect(stats, what, resp, want, check=None):
    r, data = resp
    stats.count(what)
    if r.status != want:
        raise Unexpected(f"{what}: {r.status} (want {want}): {data[:300]!r}")
    if check is not None and not check(r, data):
        raise Unexpected(f"{what}: unexpected answer: {r.getheaders()} {data[:300]!r}")
    return data


def token(stats, aad, what, form):
    data = expect(stats, what, aad.request("POST", "/contoso.com/oauth2/token",
                                           urllib.parse.urlencode(form), FORM), 200)
    return json.loads(data)


def round_once(stats, aad, mail):
    ropc = token(stats, aad, "token ropc", {
        "grant_type": "password", "client_id": OFFICE, "resource": f"https://{MAIL}/",
        "username": GREG, "password": "Contoso2017!",
    })
    cc = token(stats, aad, "token client_credentials", {
        "grant_type": "client_credentials", "client_id": DAEMON,
        "client_secret": "contoso-daemon-secret", "resource": f"https://{MAIL}/",
    })
    if not cc.get("access_token"):
        raise Unexpected("client credentials: no access_token")
    refreshed = token(stats, aad, "token refresh", {
        "grant_type": "refresh_token", "client_id": OFFICE, "resource": f"https://{MAIL}/",
        "refresh_token": ropc["refresh_token"],
    })
    bearer = "Bearer " + refreshed["access_token"]
    expect(stats, "ews GetFolder", mail.request("POST", "/EWS/Exchange.asmx", GET_FOLDER, {
        "authorization": bearer, "content-type": "text/xml; charset=utf-8",
        "x-anchormailbox": GREG,
    }), 200, lambda r, d: b'GetFolderResponseMessage ResponseClass="Success"' in d)
    expect(stats, "mapi PING", mail.request("POST", f"/mapi/emsmdb/?MailboxId={GREG_MAILBOX}@contoso.com", b"", {
        "authorization": bearer, "content-type": "application/mapi-http",
        "x-requesttype": "PING", "x-requestid": "{E2EA6C1C-0000-4000-8000-000000000001}:1",
        "x-clientinfo": "{2EF33C39-0000-4000-8000-000000000001}",
    }), 200, lambda r, d: r.getheader("x-responsecode") == "0")


def worker(n, ready, stats, gate, stop):
    ctx = ssl.create_default_context(cafile=ready["ca"])
    https = parse_addr(ready["https"])
    proxy = parse_addr(ready["proxy"]) if n % 2 == 0 else None
    aad, mail = LabConn(ctx, AAD, https, proxy), LabConn(ctx, MAIL, https, proxy)
    while not stop.is_set():
        gate.acquire_read()
        try:
            round_once(stats, aad, mail)
        except Exception as e:  # every failure is counted, the worker goes on
            stats.error(f"worker {n} ({'proxy' if proxy else 'https'}): {type(e).__name__}: {e}")
            aad.close()
            mail.close()
        finally:
            gate.release_read()
        if stats.total() >= MAX_REQUESTS:
            stop.set()
    aad.close()
    mail.close()


def parse_addr(url):
    u = urllib.parse.urlsplit(url)
    return (u.hostname, u.port)


def admin_call(ready, method, path, body=None):
    host, port = parse_addr(ready["admin"])
    conn = http.client.HTTPConnection(host, port, timeout=60)
    try:
        conn.request(method, path, body=body,
                     headers={"authorization": f"Bearer {ADMIN_TOKEN}"})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def admin(ready, stats, gate, stop):
    i, next_clock = 0, time.monotonic() + CLOCK_EVERY
    while not stop.wait(CMDLET_EVERY):
        try:
            line = CMDLETS[i % len(CMDLETS)]
            i += 1
            status, data = admin_call(ready, "POST", "/cmdlet", line)
            stats.count("admin cmdlet")
            if status != 200 or not json.loads(data).get("ok"):
                raise Unexpected(f"cmdlet {line!r}: {status} {data[:300]!r}")
            if time.monotonic() >= next_clock:
                next_clock = time.monotonic() + CLOCK_EVERY
                gate.acquire_write()
                try:
                    status, data = admin_call(ready, "POST", f"/clock/advance?seconds={CLOCK_STEP}")
                finally:
                    gate.release_write()
                stats.count("admin clock advance")
                if status != 200 or not json.loads(data).get("ok"):
                    raise Unexpected(f"clock advance: {status} {data[:300]!r}")
        except Exception as e:
            stats.error(f"admin: {type(e).__name__}: {e}")


def scenarios(stats, stop):
    while not stop.wait(SCENARIO_EVERY):
        p = subprocess.run([BIN, "run", SCENARIO], capture_output=True, text=True, cwd=ROOT)
        stats.count("scenario run")
        if p.returncode != 0:
            stats.error(f"scenario {SCENARIO}: exit {p.returncode}: {p.stdout[-500:]}{p.stderr[-500:]}")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def sampler(pid, ready, stats, stop, samples, started):
    while True:
        try:
            status, data = admin_call(ready, "GET", "/stats")
            s = json.loads(data) if status == 200 else {}
            if status != 200:
                stats.error(f"GET /stats: {status} {data[:200]!r}")
            samples.append({
                "t": round(time.monotonic() - started, 1),
                "rss_kib": rss_kib(pid),
                "requests": stats.total(),
                "journal": s.get("journal", {}).get("entries"),
                "journal_cap": s.get("journal", {}).get("cap"),
                "refresh_grants": s.get("grants", {}).get("refresh"),
                "codes": s.get("grants", {}).get("codes"),
            })
        except Exception as e:
            stats.error(f"sampler: {type(e).__name__}: {e}")
        if stop.wait(SAMPLE_EVERY):
            return


def verdict(samples, stats, secs):
    warm = min(60.0, secs / 5)
    after = [s for s in samples if s["t"] >= warm]
    checks = []
    if len(after) < 4:
        return [("enough samples after warm-up", False, f"{len(after)} samples")]
    base = after[0]["rss_kib"]
    tail = max(s["rss_kib"] for s in samples[-3:])
    growth = (tail - base) / base * 100
    checks.append(("RSS growth after warm-up < 10%", growth < 10,
                   f"{base / 1024:.1f} MiB at {after[0]['t']} s -> {tail / 1024:.1f} MiB at the end ({growth:+.1f}%); "
                   f"peak {max(s['rss_kib'] for s in samples) / 1024:.1f} MiB"))
    over = [s for s in samples if s["journal"] is None or s["journal"] > s["journal_cap"]]
    checks.append(("journal within its cap", not over,
                   f"max {max((s['journal'] or 0) for s in samples)} entries, cap {samples[-1]['journal_cap']}"))
    half = after[0]["t"] + (after[-1]["t"] - after[0]["t"]) / 2
    quarter = after[-1]["t"] - (after[-1]["t"] - after[0]["t"]) / 4
    mid = max(s["refresh_grants"] or 0 for s in after if s["t"] <= half)
    last = max(s["refresh_grants"] or 0 for s in after if s["t"] >= quarter)
    checks.append(("refresh grants plateau", last <= mid * 1.1 + 100,
                   f"peak {mid} up to half time, {last} in the last quarter "
                   f"(max codes {max((s['codes'] or 0) for s in samples)})"))
    checks.append(("0 unexpected errors", not stats.errors, f"{len(stats.errors)} errors"))
    return checks


def main():
    if not os.path.exists(BIN):
        sys.exit(f"soak: {BIN} missing (cargo build --release -p hma-lab)")
    # SIGTERM unwinds like Ctrl-C, so the serve process is stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    state = tempfile.mkdtemp(prefix="hma-lab-soak-")
    serve = subprocess.Popen(
        [BIN, "serve", "--admin-token", ADMIN_TOKEN, "--state-dir", state],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT,
    )
    try:
        ready = json.loads(serve.stdout.readline())
        for k in ("https", "proxy", "admin"):
            if parse_addr(ready[k])[0] != "127.0.0.1":
                sys.exit(f"soak: {k} is not on 127.0.0.1: {ready[k]}")
        stats, gate, stop, samples = Stats(), RWLock(), threading.Event(), []
        started = time.monotonic()
        print(f"soak: {SECS:.0f} s (at most {MAX_REQUESTS} requests), {WORKERS} workers, "
              f"serve pid {serve.pid}", flush=True)
        threads = [threading.Thread(target=worker, args=(n, ready, stats, gate, stop))
                   for n in range(WORKERS)]
        threads += [
            threading.Thread(target=admin, args=(ready, stats, gate, stop)),
            threading.Thread(target=scenarios, args=(stats, stop)),
            threading.Thread(target=sampler, args=(serve.pid, ready, stats, stop, samples, started)),
        ]
        for t in threads:
            t.daemon = True
            t.start()
        next_line = started + 30
        while not stop.wait(1):
            now = time.monotonic()
            if now - started >= SECS:
                stop.set()
            elif now >= next_line and samples:
                next_line += 30
                s = samples[-1]
                print(f"  {s['t']:6.0f} s  {s['requests']:8d} requests  RSS {s['rss_kib'] / 1024:6.1f} MiB  "
                      f"journal {s['journal']}  refresh grants {s['refresh_grants']}  "
                      f"errors {len(stats.errors)}", flush=True)
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        if serve.poll() is not None:
            stats.error(f"serve exited with {serve.returncode} during the soak")
        checks = verdict(samples, stats, elapsed)
    finally:
        serve.terminate()
        try:
            serve.wait(timeout=30)
        except subprocess.TimeoutExpired:
            serve.kill()
    total = stats.total()
    print(f"soak: {total} requests in {elapsed:.0f} s ({total / elapsed:.0f}/s)")
    for what, n in sorted(stats.requests.items()):
        print(f"  {what:28s} {n}")
    for e in stats.errors[:20]:
        print(f"  ERROR {e}")
    ok = True
    for what, passed, detail in checks:
        ok &= passed
        print(f"  {'PASS' if passed else 'FAIL'}  {what}: {detail}")
    if serve.returncode not in (0, None):
        ok = False
        print(f"  FAIL  serve stopped with status {serve.returncode} on SIGTERM")
    os.makedirs(os.path.dirname(REPORT), exist_ok=True)
    with open(REPORT, "w") as f:
        json.dump({"secs": elapsed, "requests": stats.requests, "errors": stats.errors[:100],
                   "checks": [{"check": c, "pass": p, "detail": d} for c, p, d in checks],
                   "samples": samples}, f, indent=1)
    print(f"soak: {'PASS' if ok else 'FAIL'} (samples in {os.path.relpath(REPORT, ROOT)})")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
