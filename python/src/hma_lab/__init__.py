"""hma-lab from Python: start `hma-lab serve` as a child process and drive it.

The wheel installs the `hma-lab` binary next to the interpreter (the venv's `bin/`); this module
finds it, starts a lab with `hma-lab serve`, waits for the one JSON ready line on stdout (the
process's contract with test harnesses), and wraps the admin API (run a cmdlet, move the clock,
read the journal, change network devices and certificate faults) with the standard library
only, so the package has no dependencies. Clients are pointed at the lab by environment alone —
what `hma-lab env` prints for the lab's state directory (proxy and CA bundle) — which is how
requests, MSAL Python and exchangelib reach `login.microsoftonline.com` and `mail.contoso.com`
unchanged. The pytest fixtures live in `hma_lab.plugin`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Union

__all__ = ["Lab", "HmaLabError", "CmdletError", "find_binary", "run_scenario"]

#: The lab CA's files in a state directory; copied into each lab's own directory so every lab
#: of a test session presents the same CA (trust it once).
CA_FILES = ("ca.pem", "ca-key.pem")
BINARY_ENV = "HMA_LAB_BIN"

PathLike = Union[str, "os.PathLike[str]"]


class HmaLabError(RuntimeError):
    """The lab did not start, stop cleanly, or answer an admin call as documented."""


class CmdletError(HmaLabError):
    """A cmdlet ran and failed; `error` is the shell's error record text."""

    def __init__(self, line: str, error: str):
        super().__init__(f"{line!r}: {error}")
        self.line = line
        self.error = error


def find_binary(explicit: Optional[PathLike] = None) -> str:
    """The `hma-lab` binary: `explicit`, else `$HMA_LAB_BIN` (either must exist: a wrong path
    is an error, never silently replaced), else the one this package's wheel installed next to
    the running interpreter, else the first on `PATH`."""
    named = explicit if explicit is not None else os.environ.get(BINARY_ENV) or None
    if named is not None:
        if os.path.isfile(named) and os.access(named, os.X_OK):
            return os.fspath(named)
        raise HmaLabError(f"hma-lab binary not found at '{os.fspath(named)}'")
    exe = "hma-lab.exe" if os.name == "nt" else "hma-lab"
    for d in (sysconfig.get_path("scripts"), os.path.dirname(sys.executable)):
        c = os.path.join(d, exe)
        if os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    found = shutil.which("hma-lab")
    if found:
        return found
    raise HmaLabError("hma-lab binary not found: install the hma-lab wheel, or set "
                      f"{BINARY_ENV} / --hma-lab-binary to its path")


def parse_env(text: str) -> Dict[str, str]:
    """`export NAME='value'` lines (what `hma-lab env` prints) as a dict."""
    env = {}
    for line in text.splitlines():
        words = shlex.split(line)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            name, value = words[1].split("=", 1)
            env[name] = value
    return env


def _no_proxy_opener() -> urllib.request.OpenerDirector:
    # The admin API is on loopback: never through the lab's (or the user's) proxy.
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Lab:
    """A running `hma-lab serve`: its addresses (from the ready line) and its admin API.

    Start one with `Lab.start(...)` (or `with Lab.start(...) as lab:`); `stop()` sends SIGTERM
    and raises if the process did not exit 0.
    """

    def __init__(self, process: subprocess.Popen, ready: Dict[str, Any], state_dir: Path,
                 binary: str, lab: str, log_path: Path, owns_state_dir: bool = False):
        self.process = process
        self.ready = ready
        self.state_dir = state_dir
        self.binary = binary
        self.lab = lab
        self.log_path = log_path
        self._owns_state_dir = owns_state_dir
        self.https: str = ready["https"]
        self.proxy: str = ready["proxy"]
        self.ca: str = ready["ca"]
        self.admin: str = ready["admin"]
        self.admin_token: str = ready["admin_token"]
        self.adfs: Optional[str] = ready.get("adfs")
        self._opener = _no_proxy_opener()
        self._env: Optional[Dict[str, str]] = None
        self.returncode: Optional[int] = None

    # -- lifecycle -------------------------------------------------------------------------

    @classmethod
    def start(cls, binary: Optional[PathLike] = None, lab: Optional[str] = None,
              state_dir: Optional[PathLike] = None, ca_dir: Optional[PathLike] = None,
              har: Optional[PathLike] = None, args: Sequence[str] = (),
              timeout: float = 60.0) -> "Lab":
        """Starts `hma-lab serve --lab LAB --state-dir DIR` on loopback ports the system picks.

        `lab`: a shipped lab's name (`contoso`, `contoso-pre-hma`, `contoso-federated`) or a lab
        file's path; default `contoso`. `state_dir`: where the CA and `serve.json` live (a new
        temporary directory, removed at `stop()`, when omitted). `ca_dir`: a directory whose
        `ca.pem`/`ca-key.pem` are copied in before start (and filled from this lab's when
        empty), so several labs share one CA. `args`: more `serve` options (`--journal-size`).
        """
        binary = find_binary(binary)
        lab = lab or "contoso"
        owns = state_dir is None
        sdir = Path(tempfile.mkdtemp(prefix="hma-lab-")) if owns else Path(state_dir)
        sdir.mkdir(parents=True, exist_ok=True)
        if ca_dir is not None:
            _copy_ca(Path(ca_dir), sdir)
        log_path = sdir / "serve.log"
        cmd = [binary, "serve", "--lab", os.fspath(lab), "--state-dir", os.fspath(sdir)]
        if har is not None:
            cmd += ["--har", os.fspath(har)]
        cmd += list(args)
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log,
                                    stdin=subprocess.DEVNULL)
        line = _read_ready_line(proc, timeout)
        problem = None
        if line is None:
            problem = f"did not print its ready line within {timeout:g} s"
        else:
            try:
                ready = json.loads(line)
                if not isinstance(ready, dict) or ready.get("event") != "ready":
                    raise ValueError("not a ready event")
            except ValueError as e:
                problem = f"printed {line!r} instead of its ready line ({e})"
        if problem is not None:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            proc.stdout.close()
            err = log_path.read_text(errors="replace").strip()
            if owns:
                shutil.rmtree(sdir, ignore_errors=True)
            raise HmaLabError(f"`{' '.join(cmd)}` {problem} (exit {proc.returncode}): {err}")
        if ca_dir is not None:
            _copy_ca(sdir, Path(ca_dir))
        return cls(proc, ready, sdir, binary, lab, log_path, owns_state_dir=owns)

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, then wait; raises `HmaLabError` unless the lab exited 0 (the HAR file, if
        asked for, is written by then). Idempotent."""
        if self.returncode is not None:
            return self.returncode
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                self._cleanup()
                raise HmaLabError(f"hma-lab serve did not stop within {timeout:g} s of SIGTERM")
        if self.process.stdout:
            self.process.stdout.close()
        self.returncode = self.process.returncode
        log = self.log_path.read_text(errors="replace").strip() if self.log_path.exists() else ""
        self._cleanup()
        if self.returncode != 0:
            raise HmaLabError(f"hma-lab serve exited {self.returncode}: {log}")
        return self.returncode

    def _cleanup(self) -> None:
        if self._owns_state_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def __enter__(self) -> "Lab":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        return self.process.pid

    # -- environment for clients -----------------------------------------------------------

    @property
    def env(self) -> Dict[str, str]:
        """The variables `hma-lab env --state-dir DIR` exports for this lab: `HTTPS_PROXY` /
        `HTTP_PROXY` (both cases), `REQUESTS_CA_BUNDLE`, `SSL_CERT_FILE`, `NODE_EXTRA_CA_CERTS`,
        `CURL_CA_BUNDLE`, and `NO_PROXY` without entries that would bypass the lab."""
        if self._env is None:
            out = subprocess.run([self.binary, "env", "--state-dir", os.fspath(self.state_dir)],
                                 capture_output=True, text=True, timeout=30)
            if out.returncode != 0:
                raise HmaLabError(f"hma-lab env exited {out.returncode}: {out.stderr.strip()}")
            self._env = parse_env(out.stdout)
        return dict(self._env)

    @contextlib.contextmanager
    def environment(self) -> Iterator["Lab"]:
        """Sets `env` in `os.environ` for the block and restores the previous values after."""
        saved = {k: os.environ.get(k) for k in self.env}
        os.environ.update(self.env)
        try:
            yield self
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    def session(self):
        """A `requests.Session` through the lab's proxy that trusts the lab CA only (ignores the
        process environment). Needs `requests`."""
        import requests

        s = requests.Session()
        s.trust_env = False
        s.proxies = {"https": self.proxy, "http": self.proxy}
        s.verify = self.ca
        return s

    # -- admin API -------------------------------------------------------------------------

    def request(self, method: str, path: str, body: Optional[bytes] = None,
                content_type: Optional[str] = None) -> "tuple[int, bytes]":
        """One admin API call with the lab's bearer token; returns (status, body bytes)."""
        req = urllib.request.Request(self.admin + path, data=body, method=method)
        req.add_header("Authorization", "Bearer " + self.admin_token)
        if content_type:
            req.add_header("Content-Type", content_type)
        try:
            with self._opener.open(req, timeout=60) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def _json(self, method: str, path: str, body: Any = None, raw: Optional[bytes] = None,
              content_type: Optional[str] = None) -> Dict[str, Any]:
        if body is not None:
            raw, content_type = json.dumps(body).encode(), "application/json"
        status, data = self.request(method, path, raw, content_type)
        try:
            answer = json.loads(data)
        except ValueError:
            raise HmaLabError(f"{method} {path}: {status}, not JSON: {data[:200]!r}")
        if status != 200:
            raise HmaLabError(f"{method} {path}: {status} {answer.get('error', answer)}")
        return answer

    def cmdlet(self, line: str) -> str:
        """Runs one PowerShell line (`POST /cmdlet`) and returns its output text; raises
        `CmdletError` with the shell's error record when it fails. `$variables` persist for the
        lab's lifetime."""
        status, data = self.request("POST", "/cmdlet", line.encode(), "text/plain")
        try:
            answer = json.loads(data)
        except ValueError:
            raise HmaLabError(f"POST /cmdlet: {status}, not JSON: {data[:200]!r}")
        if not answer.get("ok"):
            raise CmdletError(line, answer.get("error", f"status {status}"))
        return answer["output"]

    def advance(self, seconds: float) -> Dict[str, Any]:
        """Moves the whole lab's clock forward (`POST /clock/advance`): token lifetimes,
        authorization codes, Exchange's settings cache. Returns `{"now", "offset_secs"}`."""
        q = urllib.parse.urlencode({"seconds": int(seconds)})
        return self._json("POST", f"/clock/advance?{q}")

    def journal(self) -> List[Dict[str, Any]]:
        """Every exchange through the front door so far (`GET /journal`), oldest first, with
        secrets redacted and JWTs decoded into each entry's `tokens`."""
        return self._json("GET", "/journal")["entries"]

    def har(self) -> Dict[str, Any]:
        """The journal as HAR 1.2 (`GET /journal?format=har`)."""
        status, data = self.request("GET", "/journal?format=har")
        if status != 200:
            raise HmaLabError(f"GET /journal?format=har: {status} {data[:200]!r}")
        return json.loads(data)

    def stats(self) -> Dict[str, Any]:
        """What the lab holds in memory (`GET /stats`)."""
        return self._json("GET", "/stats")

    def network(self, device: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        """With `device` (as in a lab file, e.g. `{"load_balancer": {...}}`), adds or changes it
        (`POST /network`); without, reads the devices. Returns `{"devices": ...}`."""
        if device is None:
            return self._json("GET", "/network")
        return self._json("POST", "/network", body=device)

    def certificate(self, host: str, fault: Optional[str]) -> Dict[str, Any]:
        """Sets a certificate fault (`expired`, `wrong_name`, `untrusted`) on a lab host, or
        clears it with `None` (`POST /certificates`)."""
        return self._json("POST", "/certificates", body={"host": host, "fault": fault})

    def run_scenario(self, path: PathLike, filter: Optional[str] = None) -> Dict[str, Any]:
        """`run_scenario` with this lab's binary (the scenario runs on labs of its own)."""
        return run_scenario(path, binary=self.binary, filter=filter)

    def __repr__(self) -> str:
        state = "running" if self.returncode is None else f"exited {self.returncode}"
        return f"<hma_lab.Lab {self.lab!r} pid={self.pid} {state} proxy={self.proxy}>"


def run_scenario(path: PathLike, binary: Optional[PathLike] = None,
                 filter: Optional[str] = None, jobs: Optional[int] = None) -> Dict[str, Any]:
    """Runs scenario files (`hma-lab run PATH --format json`), each on fresh in-process labs with
    its broken twin, and returns the JSON report (`total`, `passed`, `failed`, `scenarios`).
    A failing scenario is in the report (`passed: false`, its failed checks with expected and
    actual), and so is a file that does not load (its `error` names file, line and column);
    `HmaLabError` when hma-lab itself fails (no scenario found, an unreadable path)."""
    cmd = [find_binary(binary), "run", os.fspath(path), "--format", "json"]
    if filter:
        cmd += ["--filter", filter]
    if jobs:
        cmd += ["--jobs", str(jobs)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if out.returncode not in (0, 1) or not out.stdout.strip():
        raise HmaLabError(f"hma-lab run {os.fspath(path)} exited {out.returncode}: "
                          f"{out.stderr.strip()}")
    return json.loads(out.stdout)


def _read_ready_line(proc: subprocess.Popen, timeout: float) -> Optional[str]:
    """The first stdout line, or None when the process ends or `timeout` passes first."""
    box: List[bytes] = []
    t = threading.Thread(target=lambda: box.append(proc.stdout.readline()), daemon=True)
    t.start()
    t.join(timeout)
    if not box or not box[0].strip():
        return None
    return box[0].decode("utf-8", "replace").strip()


def _copy_ca(src: Path, dst: Path) -> None:
    """Copies the CA files from `src` to `dst` when `src` has both and `dst` has neither."""
    if all((src / f).is_file() for f in CA_FILES) and not any((dst / f).exists() for f in CA_FILES):
        for f in CA_FILES:
            shutil.copy2(src / f, dst / f)
        os.chmod(dst / "ca-key.pem", 0o600)
