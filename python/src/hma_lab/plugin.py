"""The pytest plugin (entry point `pytest11`): fixtures that serve an hma-lab to real clients.

`hma_lab` is a fresh `hma-lab serve` per test — about a tenth of a second to start, so a test's
cmdlets and clock moves never leak into the next one — and `hma_lab_session` one lab for the
whole session. Every lab of a session presents the same CA (copied from the first lab's state
directory), so a CA trusted once stays trusted. `hma_lab_env` and `hma_lab_session_env` also
point requests, MSAL Python and exchangelib at the lab for the test (proxy and CA bundle, the
variables `hma-lab env` prints), restored afterwards. A failing test's report gets the lab's
journal (method, URL, status, `x-ms-diagnostics`), the first thing to read.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Iterator, Optional

import pytest

from . import Lab, find_binary, run_scenario

JOURNAL_LINES = 40


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("hma-lab", "hma-lab: an offline Azure AD + Exchange lab")
    group.addoption("--hma-lab-binary", metavar="PATH", default=None,
                    help="the hma-lab binary (default: $HMA_LAB_BIN, else the one the hma-lab "
                         "wheel installed next to this Python, else PATH)")
    group.addoption("--hma-lab-lab", metavar="NAME|FILE", default=None,
                    help="the lab the fixtures serve: a shipped lab's name or a lab file "
                         "(default: the hma_lab_lab ini value, else contoso)")
    parser.addini("hma_lab_lab", "default lab for the hma-lab fixtures", default="contoso")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "hma_lab(lab=None, args=()): the lab the `hma_lab` fixture serves for this test "
        "(a shipped lab's name or a lab file path) and extra `hma-lab serve` options")


def _default_lab(config: pytest.Config) -> str:
    return config.getoption("--hma-lab-lab") or config.getini("hma_lab_lab") or "contoso"


@pytest.fixture(scope="session")
def hma_lab_binary(pytestconfig: pytest.Config) -> str:
    """The path of the `hma-lab` binary the fixtures run."""
    return find_binary(pytestconfig.getoption("--hma-lab-binary"))


@pytest.fixture(scope="session")
def hma_lab_ca_dir(tmp_path_factory: pytest.TempPathFactory):
    """The session's lab CA directory: `ca.pem` (trust it) once the first lab has started."""
    return tmp_path_factory.mktemp("hma-lab-ca")


@pytest.fixture
def hma_lab(request: pytest.FixtureRequest, hma_lab_binary: str, hma_lab_ca_dir,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """A fresh `hma-lab serve` for this test (`@pytest.mark.hma_lab(lab=...)` picks the lab);
    stopped afterwards, and the test errors if the lab did not exit 0."""
    marker = request.node.get_closest_marker("hma_lab")
    kw: Dict[str, Any] = dict(marker.kwargs) if marker else {}
    if marker and marker.args:
        kw.setdefault("lab", marker.args[0])
    lab = Lab.start(binary=hma_lab_binary, lab=kw.get("lab") or _default_lab(request.config),
                    state_dir=tmp_path_factory.mktemp("hma-lab"), ca_dir=hma_lab_ca_dir,
                    args=kw.get("args", ()))
    request.node.stash[_LAB_KEY] = lab
    try:
        yield lab
    finally:
        lab.stop()


@pytest.fixture(scope="session")
def hma_lab_session(pytestconfig: pytest.Config, hma_lab_binary: str, hma_lab_ca_dir,
                    tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """One `hma-lab serve` for the whole session (state changes persist across tests)."""
    lab = Lab.start(binary=hma_lab_binary, lab=_default_lab(pytestconfig),
                    state_dir=tmp_path_factory.mktemp("hma-lab-session"), ca_dir=hma_lab_ca_dir)
    try:
        yield lab
    finally:
        lab.stop()


def _patch_env(monkeypatch: pytest.MonkeyPatch, lab: Lab) -> Lab:
    for name, value in lab.env.items():
        monkeypatch.setenv(name, value)
    return lab


@pytest.fixture
def hma_lab_env(hma_lab: Lab, monkeypatch: pytest.MonkeyPatch) -> Lab:
    """`hma_lab`, with its environment (`hma-lab env`: proxy, CA bundle) set for this test."""
    return _patch_env(monkeypatch, hma_lab)


@pytest.fixture
def hma_lab_session_env(request: pytest.FixtureRequest, hma_lab_session: Lab,
                        monkeypatch: pytest.MonkeyPatch) -> Lab:
    """`hma_lab_session`, with its environment set for this test."""
    request.node.stash[_LAB_KEY] = hma_lab_session
    return _patch_env(monkeypatch, hma_lab_session)


@pytest.fixture(scope="session")
def hma_lab_scenario(hma_lab_binary: str) -> Callable[..., Dict[str, Any]]:
    """`run(path, filter=None)`: `hma-lab run PATH --format json`, the JSON report."""

    def run(path: Any, filter: Optional[str] = None) -> Dict[str, Any]:
        return run_scenario(path, binary=hma_lab_binary, filter=filter)

    return run


_LAB_KEY = pytest.StashKey[Lab]()


def journal_summary(lab: Lab, limit: int = JOURNAL_LINES) -> str:
    """The lab's last `limit` exchanges, one a line: method, URL, status, x-ms-diagnostics."""
    entries = lab.journal()
    lines = []
    for e in entries[-limit:]:
        line = f"{e.get('method', '?')} {e.get('url', '?')} -> {e.get('status', '?')}"
        if e.get("error"):
            line += f" ({e['error']})"
        for name, value in e.get("response_headers") or []:
            if name.lower() == "x-ms-diagnostics":
                line += f"  x-ms-diagnostics: {value}"
        lines.append(line)
    skipped = len(entries) - len(lines)
    head = f"({skipped} earlier exchanges not shown)\n" if skipped > 0 else ""
    return head + ("\n".join(lines) if lines else "(no exchanges)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    lab = item.stash.get(_LAB_KEY, None)
    if lab is None or lab.returncode is not None:
        return
    try:
        report.sections.append(("hma-lab journal", journal_summary(lab)))
    except Exception as e:  # a dead lab must not hide the test's own failure
        report.sections.append(("hma-lab journal", f"unavailable: {e}"))
