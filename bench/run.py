#!/usr/bin/env python3
"""`make bench`: the Speed figures of the project, each with its target and PASS/FAIL, written to
BENCHMARKS.md (method, machine, date, figures).

Standard library only; expects release builds of `hma-lab`, `mock-aad` and the examples
`bench_plain`, `bench_labs`, `bench_classroom`, `bench_parsers` (the Makefile builds them), wrk on PATH, and
oauth2-mock-server in bench/node_modules (the Makefile installs it). Every server listens on
127.0.0.1. Figures are ratios measured side by side in this one run, so the machine's speed
cancels out; absolute numbers are printed next to them.
"""

import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REL = os.path.join(ROOT, "target", "release")
EXAMPLES = os.path.join(REL, "examples")
WRK_SECS = int(os.environ.get("BENCH_WRK_SECS", "5"))
WRK_CONNS = int(os.environ.get("BENCH_WRK_CONNS", "16"))
OUT = os.environ.get("BENCH_OUT", os.path.join(ROOT, "BENCHMARKS.md"))

OFFICE = "d3590ed6-52b3-4102-aeff-aad2292ab01c"
DAEMON = "175cf0e3-733c-4a81-9b28-61f662f95c16"
FORM = "Content-Type: application/x-www-form-urlencoded"
GRANTS = {
    "ROPC": (
        f"grant_type=password&client_id={OFFICE}&resource=https%3A%2F%2Fmail.contoso.com%2F"
        "&username=GregT%40contoso.com&password=Contoso2017%21",
        "grant_type=password&username=GregT%40contoso.com&password=Contoso2017%21&scope=openid",
    ),
    "client credentials": (
        f"grant_type=client_credentials&client_id={DAEMON}&client_secret=contoso-daemon-secret"
        "&resource=https%3A%2F%2Fmail.contoso.com%2F",
        "grant_type=client_credentials&scope=ews",
    ),
}

figures = []  # (name, value text, target text, pass or None)
notes = []


def figure(name, value, target, passed):
    figures.append((name, value, target, passed))
    verdict = "" if passed is None else ("PASS" if passed else "FAIL")
    print(f"  {verdict:4s}  {name}: {value}  (target {target})", flush=True)


class Server:
    """A helper process that prints one JSON line when ready and stops when stdin closes."""

    def __init__(self, argv, cwd=ROOT):
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True, cwd=cwd)
        line = self.p.stdout.readline()
        if not line:
            raise RuntimeError(f"{argv[0]} did not start")
        self.ready = json.loads(line)

    def stop(self):
        try:
            self.p.stdin.close()
        except OSError:
            pass
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.terminate()
            self.p.wait(timeout=10)


def wrk(url, body, headers, status=200):
    """Requests per second of wrk posting `body` to `url`; wrong statuses are an error."""
    env = dict(os.environ, WRK_BODY=body, WRK_HEADERS="\n".join(headers), WRK_STATUS=str(status))
    out = subprocess.run(
        ["wrk", "-t2", f"-c{WRK_CONNS}", f"-d{WRK_SECS}s", "-s",
         os.path.join(ROOT, "bench", "post.lua"), url],
        env=env, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    wrong = int(re.search(r"WRONG_STATUS (\d+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", out)
    if wrong:
        raise RuntimeError(f"{url}: {wrong} answers were not {status}\n{out}")
    if errors and errors.group(2):
        notes.append(f"wrk socket errors against {url}: {errors.group(2)}")
    return rps


def openssl_rsa2048_signs(cores=1):
    argv = ["openssl", "speed", "-seconds", "3"] + (["-multi", str(cores)] if cores > 1 else [])
    out = subprocess.run(argv + ["rsa2048"], capture_output=True, text=True, check=True).stdout
    m = re.search(r"^rsa\s+2048 bits\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)", out, re.M)
    return float(m.group(1))


# Side-by-side figures alternate their two measurements this many times and keep the median
# round: a shared VM's speed drifts by a fifth within a minute, and one run of each, one after
# the other, put that drift into the ratio.
ROUNDS = 3


def alternating(measure_a, measure_b, rounds=ROUNDS):
    """Median (a, b) round of `rounds` alternating measurements, by the ratio a / b."""
    runs = sorted(((a, b) for a, b in ((measure_a(), measure_b()) for _ in range(rounds))),
                  key=lambda ab: ab[0] / ab[1])
    return runs[len(runs) // 2], [a / b for a, b in runs]


def token_issuance():
    print("token issuance: mock-aad vs oauth2-mock-server (wrk, "
          f"{WRK_CONNS} connections, {WRK_SECS} s each, median of {ROUNDS} alternating rounds)",
          flush=True)
    signs = openssl_rsa2048_signs()
    cores = os.cpu_count() or 1
    all_signs = openssl_rsa2048_signs(cores)
    aad = subprocess.Popen([os.path.join(REL, "mock-aad")], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
    node = Server(["node", os.path.join(ROOT, "bench", "oauth2-mock-server.mjs")],
                  cwd=os.path.join(ROOT, "bench"))
    try:
        aad_url = json.loads(aad.stdout.readline())["url"]
        for grant, (ours, theirs) in GRANTS.items():
            (a, o), ratios = alternating(
                lambda: wrk(f"{aad_url}/contoso.com/oauth2/token", ours, [FORM]),
                lambda: wrk(f"{node.ready['url']}/token", theirs, [FORM]))
            spread = ", ".join(f"{r:.2f}" for r in ratios)
            figure(f"token issuance, {grant}: mock-aad / oauth2-mock-server",
                   f"{a / o:.2f}× ({a:.0f}/s vs {o:.0f}/s; rounds {spread})", "≥ 4×", a / o >= 4)
            figure(f"token issuance, {grant}: mock-aad / openssl rsa2048 signs (1 core)",
                   f"{a / signs:.2f} ({a:.0f}/s vs {signs:.0f} signs/s)", "reported", None)
            figure(f"token issuance, {grant}: openssl rsa2048 signs on all {cores} cores / "
                   "oauth2-mock-server (one two-prime signature per token, nothing else)",
                   f"{all_signs / o:.2f}× ({all_signs:.0f} signs/s vs {o:.0f}/s)", "reported", None)
    finally:
        aad.terminate()
        aad.wait()
        node.stop()


def bearer_vs_plain():
    print(f"bearer EWS GetFolder vs a plain axum route (same process, median of {ROUNDS} "
          "alternating rounds)", flush=True)
    s = Server([os.path.join(EXAMPLES, "bench_plain")])
    try:
        with open(os.path.join(ROOT, "bench", "getfolder.xml")) as f:
            body = f.read()
        bearer = ["Host: mail.contoso.com", f"Authorization: Bearer {s.ready['token']}",
                  "Content-Type: text/xml; charset=utf-8"]
        plain_route = lambda: wrk(f"{s.ready['plain']}/EWS/Exchange.asmx", body,
                                  ["Content-Type: text/xml; charset=utf-8"])
        (ews, plain), ratios = alternating(
            lambda: wrk(f"{s.ready['exchange']}/EWS/Exchange.asmx", body, bearer), plain_route)
        (floor, fplain), _ = alternating(
            lambda: wrk(f"{s.ready['floor']}/EWS/Exchange.asmx", body, bearer), plain_route)
    finally:
        s.stop()
    spread = ", ".join(f"{r:.2f}" for r in ratios)
    figure("bearer EWS GetFolder / plain axum route",
           f"{ews / plain:.2f} ({ews:.0f}/s vs {plain:.0f}/s; rounds {spread})",
           "≥ 0.5", ews / plain >= 0.5)
    figure("the same bytes answered with no work (axum) / plain axum route",
           f"{floor / fplain:.2f} ({floor:.0f}/s vs {fplain:.0f}/s)", "reported", None)


def scenario_library():
    print("scenario library", flush=True)
    n = len([f for f in os.listdir(os.path.join(ROOT, "scenarios")) if f.endswith(".yaml")])
    # Median of five runs (one run swings by a fifth on a shared VM), as `serve` ready is.
    runs = []
    for _ in range(5):
        t = time.monotonic()
        p = subprocess.run([os.path.join(REL, "hma-lab"), "run", "scenarios/"], cwd=ROOT,
                           capture_output=True, text=True)
        runs.append(time.monotonic() - t)
        if p.returncode != 0:
            break
    secs = statistics.median(runs)
    t = time.monotonic()
    subprocess.run([os.path.join(REL, "hma-lab"), "run", "scenarios/happy-path.yaml"], cwd=ROOT,
                   capture_output=True, text=True)
    one = time.monotonic() - t
    if p.returncode != 0:
        notes.append(f"`hma-lab run scenarios/` exited {p.returncode}")
    figure(f"scenario library wall time ({n} scenarios, `hma-lab run scenarios/`)",
           f"{secs:.2f} s (median of {len(runs)}, {min(runs):.2f}–{max(runs):.2f} s; one scenario: "
           f"{one * 1000:.0f} ms)", "< 1 s", secs < 1.0 and p.returncode == 0)


def serve_ready():
    print("serve ready time", flush=True)
    state = tempfile.mkdtemp(prefix="hma-lab-bench-")
    times = []
    try:
        for i in range(6):
            t = time.monotonic()
            p = subprocess.Popen([os.path.join(REL, "hma-lab"), "serve", "--state-dir", state],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            p.stdout.readline()
            if i:  # the first run creates the lab CA
                times.append(time.monotonic() - t)
            p.terminate()
            p.wait()
    finally:
        shutil.rmtree(state, ignore_errors=True)
    ms = statistics.median(times) * 1000
    figure("`hma-lab serve` ready (median of 5, CA already made)", f"{ms:.0f} ms", "< 100 ms", ms < 100)


def labs_rss():
    print("100 labs in one process", flush=True)
    out = subprocess.run([os.path.join(EXAMPLES, "bench_labs")], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    r = json.loads(out.strip().splitlines()[-1])
    mib = r["rss_kib"] / 1024
    figure(f"RSS of {r['labs']} labs alive in one process", f"{mib:.1f} MiB "
           f"(started in {r['start_ms']:.0f} ms)", "< 100 MB", r["rss_kib"] * 1024 < 100e6)


def classroom():
    print("a classroom of 20 labs", flush=True)
    out = subprocess.run([os.path.join(EXAMPLES, "bench_classroom")], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    r = json.loads(out.strip().splitlines()[-1])
    figure(f"classroom lab start (median of {r['trainees']}, slowest {r['max_ms']} ms)",
           f"{r['median_ms']} ms (all {r['total_ms']:.0f} ms)", "< 1000 ms", r["max_ms"] < 1000)


def parsers():
    print("parser linearity (time for 4n / time for n)", flush=True)
    out = subprocess.run([os.path.join(EXAMPLES, "bench_parsers")], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    for line in out.strip().splitlines():
        r = json.loads(line)
        if not r["parsed"]:
            notes.append(f"{r['parser']}: the benchmark input was refused (timed all the same)")
        figure(f"linearity, {r['parser']}",
               f"{r['ratio']:.2f} (n={r['n']}: {r['secs_n'] * 1e3:.2f} ms, 4n: {r['secs_4n'] * 1e3:.2f} ms)",
               "< 5", r["ratio"] < 5)


def machine():
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    free = subprocess.run(["free", "-h"], capture_output=True, text=True).stdout.rstrip()
    tools = {
        "nproc": subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip(),
        "wrk": subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0].strip(),
        "node": subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip(),
        "openssl": subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.strip(),
        "rustc": subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip(),
    }
    try:
        with open(os.path.join(ROOT, "bench", "node_modules", "oauth2-mock-server", "package.json")) as f:
            tools["oauth2-mock-server"] = json.load(f)["version"]
    except OSError:
        pass
    return cpu, free, tools


def soak_section():
    """The last `make soak` on this machine (target/soak/last.json), when there is one."""
    path = os.path.join(ROOT, "target", "soak", "last.json")
    try:
        with open(path) as f:
            soak = json.load(f)
        when = datetime.datetime.fromtimestamp(os.path.getmtime(path), datetime.timezone.utc)
    except (OSError, ValueError):
        return []
    total = sum(soak["requests"].values())
    lines = ["## Last soak", "",
             f"`make soak` of {when:%Y-%m-%d %H:%M} UTC (`target/soak/last.json`): {total} requests "
             f"in {soak['secs']:.0f} s (" + ", ".join(f"{k} {v}" for k, v in sorted(soak["requests"].items())) + ").",
             "", "| check | | detail |", "|---|---|---|"]
    for c in soak["checks"]:
        lines.append(f"| {c['check']} | {'PASS' if c['pass'] else '**FAIL**'} | {c['detail']} |")
    return lines + [""]


def fuzz_section():
    """The last `make fuzz` on this machine, read from libFuzzer's own logs (fuzz/logs/<target>.log):
    runs and seconds from its `Done N runs in S second(s)` line, crashes and timeouts from
    fuzz/artifacts/<target>/."""
    logs = os.path.join(ROOT, "fuzz", "logs")
    try:
        names = sorted(n[:-4] for n in os.listdir(logs) if n.endswith(".log"))
    except OSError:
        return []
    rows = []
    for t in names:
        path = os.path.join(logs, t + ".log")
        when = datetime.datetime.fromtimestamp(os.path.getmtime(path), datetime.timezone.utc)
        runs = secs = None
        with open(path, errors="replace") as f:
            for line in f:
                m = re.match(r"Done (\d+) runs in (\d+) second", line)
                if m:
                    runs, secs = int(m.group(1)), int(m.group(2))
        art = os.path.join(ROOT, "fuzz", "artifacts", t)
        found = len(os.listdir(art)) if os.path.isdir(art) else 0
        done = runs is not None
        verdict = "PASS" if done and found == 0 and secs >= 600 else "**FAIL**"
        rows.append(f"| {t} | {when:%Y-%m-%d %H:%M} | {secs if done else '(did not finish)'} | "
                    f"{runs if done else '?'} | {found} | {verdict} |")
    return ["## Last fuzz", "",
            "`make fuzz` (libFuzzer through cargo-fuzz, each target for `FUZZ_SECS`; logs in `fuzz/logs/`). "
            "A target passes when it ran at least 600 s and left no crash or timeout in "
            "`fuzz/artifacts/<target>/`.", "",
            "| target | finished (UTC) | seconds | runs | crashes + timeouts | |",
            "|---|---|---|---|---|---|"] + rows + [""]


def write_md(cpu, free, tools, started):
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    failed = [f for f in figures if f[3] is False]
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`bench/run.py`); the last run's figures, as they came out. "
        "Each figure is a ratio of two things measured side by side in the same run, so the "
        "machine's speed cancels out; the absolute numbers are next to it.",
        "",
        f"- date: {started:%Y-%m-%d %H:%M} UTC; commit `{commit}`",
        f"- machine: {tools.pop('nproc')} CPUs (`nproc`), {cpu}, {platform.system()} {platform.release()}",
        "- tools: " + ", ".join(f"{k} {v}" for k, v in tools.items()),
        "",
        "```",
        "$ free -h",
        free,
        "```",
        "",
        "## Figures",
        "",
        "| figure | measured | target | |",
        "|---|---|---|---|",
    ]
    for name, value, target, passed in figures:
        verdict = "" if passed is None else ("PASS" if passed else "**FAIL**")
        lines.append(f"| {name} | {value} | {target} | {verdict} |")
    lines += ["", f"{len(failed)} of {len([f for f in figures if f[3] is not None])} figures "
              "with a target FAIL.", ""]
    lines += soak_section()
    lines += fuzz_section()
    if notes:
        lines += ["Notes from the run:", ""] + [f"- {n}" for n in notes] + [""]
    lines += [
        "## Method",
        "",
        f"- Release builds (`cargo build --release`). Load from wrk: 2 threads, {WRK_CONNS} "
        f"keep-alive connections, {WRK_SECS} s per measurement, on loopback; every answer's "
        "status is checked (`bench/post.lua`), a wrong one aborts the run. A side-by-side "
        f"figure alternates its two measurements {ROUNDS} times and reports the median round "
        "(every round's ratio is listed): the machine's speed drifts within a minute, and that "
        "drift no longer falls between the two halves of one ratio.",
        "- Token issuance: the `mock-aad` binary (contoso lab, plain HTTP) and oauth2-mock-server "
        "(npm, one RS256 key, `bench/oauth2-mock-server.mjs`) in alternating rounds, the same grant "
        "on each: ROPC (Greg, resource Exchange) and client credentials (the contoso daemon's "
        "secret). The second ratio is mock-aad's rate over `openssl speed -seconds 3 rsa2048` "
        "signatures per second on one core (a token costs one RSA-2048 signature); the third is "
        "`openssl speed -multi <cores>` over oauth2-mock-server's rate: the ratio a server that "
        "did nothing but one two-prime signature per token could reach on this machine. "
        "mock-aad's shipped keys are four-prime RSA-2048 keys (RFC 8017 §3.2; the same RS256 "
        "tokens, verified with the same `n` and `e`), whose signature costs about a third of a "
        "two-prime one (criterion: `sign/rs256_jwt` vs `sign/rs256_jwt_two_prime`), so mock-aad "
        "can pass that ratio.",
        "- Bearer on the serving path: `examples/bench_plain.rs` runs mock-aad, mock-exchange and a "
        "one-route axum server (reads the body, answers a short XML) in one process; wrk posts the "
        "same EWS GetFolder body to both, with a valid Bearer token to Exchange. A third server "
        "(`floor`, plain axum as well) answers the very headers and body Exchange answered, "
        "without looking at the request: its rate over the plain route's is the most any "
        "implementation of the answer could reach in this measurement (reported, no target).",
        "- Scenario library: wall time of `hma-lab run scenarios/`, median of five runs (and of one scenario).",
        "- `serve` ready: from spawning `hma-lab serve` to its JSON ready line, median of five "
        "starts after one that makes the lab CA.",
        "- 100 labs: `examples/bench_labs.rs` starts 100 contoso labs with `hma_lab::lab::Lab` in "
        "one process, gets a token from the last, and reads VmRSS from /proc/self/status.",
        "- Classroom: `examples/bench_classroom.rs` starts a classroom of 20 trainees on "
        "no-authorization-uri (services, front door, CA, break, the reference Outlook's symptom "
        "for each) in one process and reports the median and slowest lab.",
        "- Parser linearity: `examples/bench_parsers.rs` times each parser on an input of n and "
        "of 4n items (best of 5 repetitions of ~20 ms each); linear is about 4, quadratic about 16.",
        "- `make bench` first runs the criterion benchmarks (`cargo bench -p mock-aad --bench token "
        "-p mock-exchange --bench bearer -p lab-kit --bench wirecase`); their reports are in "
        "`target/criterion/`, not here.",
        "",
    ]
    with open(OUT, "w") as f:
        f.write("\n".join(lines))
    print(f"bench: wrote {os.path.relpath(OUT, ROOT)}; {len(failed)} FAIL")


def main():
    for tool in ("wrk", "node", "openssl"):
        if shutil.which(tool) is None:
            sys.exit(f"bench: {tool} is not on PATH")
    started = datetime.datetime.now(datetime.timezone.utc)
    cpu, free, tools = machine()
    steps = (token_issuance, bearer_vs_plain, scenario_library, serve_ready, labs_rss, classroom, parsers)
    only = os.environ.get("BENCH_ONLY")  # e.g. BENCH_ONLY=token_issuance BENCH_OUT=/tmp/b.md
    if only:
        steps = [s for s in steps if s.__name__ in only.split(",")]
    for step in steps:
        try:
            step()
        except Exception as e:  # a step that cannot run is reported, the others still run
            notes.append(f"{step.__name__} did not run: {type(e).__name__}: {e}")
            figure(step.__name__, "did not run", "—", False)
    write_md(cpu, free, tools, started)


if __name__ == "__main__":
    main()
