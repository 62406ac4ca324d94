"""The package itself: the plugin and the binary come from the installed wheel, the version is
the workspace's, the fixtures' lifecycles (fresh per test, one per session, a shared CA), the
options and the marker, the scenario helper, and the failure report's journal section."""

import importlib.metadata
import json
import os
import pathlib
import subprocess
import sys
import sysconfig

import hma_lab
import pytest
from hma_lab import HmaLabError, Lab

REPO = pathlib.Path(__file__).resolve().parents[2]


def test_plugin_and_binary_come_from_the_installed_wheel(hma_lab_binary):
    # Not the source tree (python/src): the wheel's copy in this interpreter's site-packages.
    site = pathlib.Path(sysconfig.get_path("purelib")).resolve()
    assert pathlib.Path(hma_lab.__file__).resolve().parent == site / "hma_lab"
    eps = importlib.metadata.entry_points(group="pytest11")
    assert [(e.name, e.value) for e in eps if e.dist.name == "hma-lab"] == [
        ("hma_lab", "hma_lab.plugin")]
    # maturin's bin bindings install the binary into the venv's scripts directory.
    assert pathlib.Path(hma_lab_binary) == pathlib.Path(sysconfig.get_path("scripts")) / "hma-lab"
    assert "HMA_LAB_BIN" not in os.environ


def test_version_is_the_workspace_version(hma_lab_binary):
    meta = importlib.metadata.metadata("hma-lab")
    cargo = (REPO / "Cargo.toml").read_text()
    workspace_version = cargo.split("[workspace.package]", 1)[1].split('version = "', 1)[1]
    assert meta["Version"] == workspace_version.split('"', 1)[0]
    out = subprocess.run([hma_lab_binary, "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith(f"hma-lab {meta['Version']} (rev ")
    assert meta["License-Expression"] == "MIT OR Apache-2.0"
    assert meta["Name"] == "hma-lab"
    assert "Framework :: Pytest" in meta.get_all("Classifier")
    assert meta["Description-Content-Type"].startswith("text/markdown")


def test_ready_line_and_env(hma_lab, hma_lab_ca_dir):
    assert hma_lab.lab == "contoso"
    assert hma_lab.proxy.startswith("http://127.0.0.1:")
    assert hma_lab.https.startswith("https://127.0.0.1:")
    assert hma_lab.admin.startswith("http://127.0.0.1:")
    assert hma_lab.ca == str(hma_lab.state_dir / "ca.pem")
    env = hma_lab.env
    for name in ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"]:
        assert env[name] == hma_lab.proxy
    for name in ["REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "CURL_CA_BUNDLE", "NODE_EXTRA_CA_CERTS"]:
        assert env[name] == hma_lab.ca
    # Every lab of the session presents the session's CA.
    assert (hma_lab_ca_dir / "ca.pem").read_bytes() == pathlib.Path(hma_lab.ca).read_bytes()


def test_env_fixture_sets_and_the_lab_answers(hma_lab_env):
    assert os.environ["HTTPS_PROXY"] == hma_lab_env.proxy
    assert os.environ["REQUESTS_CA_BUNDLE"] == hma_lab_env.ca
    import requests  # through the environment alone

    r = requests.get("https://mail.contoso.com/EWS/Exchange.asmx", timeout=30)
    assert r.status_code == 401
    assert r.headers["X-FEServer"] == "EX1"


def test_env_fixture_restored_the_environment():
    # The test above ran with the lab's proxy; its monkeypatch is undone.
    assert os.environ.get("REQUESTS_CA_BUNDLE", "").find("hma-lab") == -1


def test_session_lab_is_shared_across_tests_1(hma_lab_session):
    hma_lab_session.cmdlet("$shared = 'kept'")
    assert hma_lab_session.cmdlet("$shared").strip() == "kept"


def test_session_lab_is_shared_across_tests_2(hma_lab_session_env):
    assert hma_lab_session_env.cmdlet("$shared").strip() == "kept"
    assert os.environ["HTTPS_PROXY"] == hma_lab_session_env.proxy


@pytest.mark.hma_lab(lab="contoso-federated", args=["--journal-size", "2"])
def test_marker_picks_the_lab_and_serve_options(hma_lab):
    assert hma_lab.lab == "contoso-federated"
    assert hma_lab.adfs == "https://adfs.contoso.com"
    assert hma_lab.stats()["journal"] == {"entries": 0, "cap": 2}


def test_unknown_lab_fails_with_hma_labs_message(hma_lab_binary, tmp_path):
    with pytest.raises(HmaLabError) as e:
        Lab.start(binary=hma_lab_binary, lab="nosuch", state_dir=tmp_path)
    assert "did not print its ready line" in str(e.value)
    assert ("nosuch: no built-in lab named 'nosuch' (built-in labs: contoso, contoso-pre-hma, "
            "contoso-federated, contoso-pta)") in str(e.value)


def test_stop_is_clean_and_idempotent(hma_lab_binary):
    lab = Lab.start(binary=hma_lab_binary)
    state = lab.state_dir
    assert (state / "serve.json").is_file()
    assert json.loads((state / "serve.json").read_text())["pid"] == lab.pid
    assert lab.stop() == 0
    assert lab.stop() == 0
    assert not state.exists()  # a temporary state directory is removed


def test_scenario_helper_runs_a_shipped_scenario(hma_lab_scenario):
    report = hma_lab_scenario(REPO / "scenarios" / "enable-hma-1-spns.yaml")
    assert (report["total"], report["passed"], report["failed"]) == (1, 1, 0)
    s = report["scenarios"][0]
    assert (s["name"], s["passed"], s["error"]) == ("enable-hma-1-spns", True, None)
    assert all(c["passed"] for c in s["main"]["checks"] + s["after_fix"]["checks"])


def test_scenario_helper_reports_a_failing_expectation(hma_lab_scenario, tmp_path):
    text = (REPO / "scenarios" / "enable-hma-1-spns.yaml").read_text()
    assert "    status: 400\n" in text
    broken = tmp_path / "enable-hma-1-spns.yaml"
    broken.write_text(text.replace("    status: 400\n", "    status: 401\n", 1))
    report = hma_lab_scenario(broken)
    assert (report["total"], report["passed"], report["failed"]) == (1, 0, 1)
    failed = [c for c in report["scenarios"][0]["main"]["checks"] if not c["passed"]]
    assert [(c["expectation"], c["expected"], c["actual"]) for c in failed] == [
        ("status: 401 (step 0)", "401", "400")]


def test_scenario_helper_names_file_line_and_column(hma_lab_scenario, tmp_path):
    bad = tmp_path / "x.yaml"
    bad.write_text("version: 1\nname: x\n  when: [\n")
    s = hma_lab_scenario(bad)["scenarios"][0]
    assert s["passed"] is False
    assert s["error"] == f"{bad}:3:7: mapping values are not allowed in this context"


def book_example():
    """The first Python block of the book's pytest page (the five-line example)."""
    page = (REPO / "docs" / "src" / "guide" / "pytest.md").read_text()
    return page.split("```python\n", 1)[1].split("```", 1)[0]


def test_the_books_example_passes(pytester):
    example = book_example()
    assert "def test_greg_signs_in(hma_lab_env):" in example
    # The package's README (its PyPI page) shows the same example.
    assert example in importlib.metadata.metadata("hma-lab").get_payload()
    pytester.makepyfile(test_example=example)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["test_example.py::test_greg_signs_in PASSED*"])


def test_lab_option_and_journal_in_a_failure_report(pytester):
    pytester.makepyfile(test_pre_hma='''
def test_lab(hma_lab):
    assert hma_lab.lab == "contoso-pre-hma"
    s = hma_lab.session()
    r = s.get("https://mail.contoso.com/EWS/Exchange.asmx", headers={"Authorization": "Bearer x"})
    assert r.status_code == 200
''')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--hma-lab-lab",
                                           "contoso-pre-hma")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*- hma-lab journal -*",
        "GET https://mail.contoso.com/EWS/Exchange.asmx -> 401  x-ms-diagnostics: 2000001;*",
    ])


def test_lab_from_the_ini_file(pytester):
    pytester.makeini("[pytest]\nhma_lab_lab = contoso-federated\n")
    pytester.makepyfile(test_ini='''
def test_lab(hma_lab, hma_lab_session):
    assert (hma_lab.lab, hma_lab_session.lab) == ("contoso-federated", "contoso-federated")
    assert hma_lab.adfs == "https://adfs.contoso.com"
    assert hma_lab.cmdlet("(Get-AdfsProperties).HostName").strip() == "adfs.contoso.com"
''')
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_binary_option_names_a_missing_binary(tmp_path):
    missing = tmp_path / "nowhere" / "hma-lab"
    with pytest.raises(HmaLabError, match=f"hma-lab binary not found at '{missing}'"):
        hma_lab.find_binary(missing)


def test_a_serve_that_is_not_ready_is_stopped_and_named(tmp_path):
    chatty = tmp_path / "chatty"
    chatty.write_text("#!/bin/sh\necho 'on stderr' >&2\necho hello\nexec sleep 30\n")
    silent = tmp_path / "silent"
    silent.write_text("#!/bin/sh\nexec sleep 30\n")
    for f in (chatty, silent):
        f.chmod(0o755)
    with pytest.raises(HmaLabError) as e:
        Lab.start(binary=chatty, state_dir=tmp_path / "a")
    assert "printed 'hello' instead of its ready line (Expecting value" in str(e.value)
    assert str(e.value).endswith("(exit -9): on stderr")
    with pytest.raises(HmaLabError) as e:
        Lab.start(binary=silent, state_dir=tmp_path / "b", timeout=0.5)
    assert "did not print its ready line within 0.5 s (exit -9)" in str(e.value)
