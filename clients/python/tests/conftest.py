"""Starts a real ConvService for the session (or uses CONVSERVICE_URL), and skips cleanly where that cannot work."""
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

np = pytest.importorskip("numpy", reason="the client needs numpy (apt-get install python3-numpy)")

# Tests run against an installed package (pip install ./clients/python) or, failing that, this checkout's source.
if importlib.util.find_spec("convservice") is None:
    sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "src")))

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
# The build `dotnet test` left (CI builds Debug), or a Release build; else `dotnet run -c Release` builds one.
DLLS = [os.path.join(REPO, "src", "ConvService", "bin", c, "net10.0", "ConvService.dll") for c in ("Release", "Debug")]


def _free_port():
    # The project's machines reserve 5200-5299 for services like this one; take the first free port there.
    for port in range(5200, 5300):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    pytest.skip("no free port in 127.0.0.1:5200-5299 for the test service")


def _healthy(url):
    try:
        with urllib.request.urlopen(url + "/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


@pytest.fixture(scope="session")
def service_url():
    """The base URL of a live service: CONVSERVICE_URL, or one started here (the built dll, else `dotnet run`)."""
    if os.environ.get("CONVSERVICE_URL"):
        yield os.environ["CONVSERVICE_URL"].rstrip("/")
        return
    dotnet = shutil.which("dotnet")
    if dotnet is None:
        pytest.skip("dotnet is not installed, so no service can be started; set CONVSERVICE_URL to test against a running one")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    built = sorted((d for d in DLLS if os.path.exists(d)), key=os.path.getmtime, reverse=True)
    if built:
        command, cwd = [dotnet, built[0], "--urls", url], os.path.dirname(built[0])
    else:
        command, cwd = [dotnet, "run", "-c", "Release", "--project", os.path.join(REPO, "src", "ConvService"), "--urls", url], REPO
    log = open(os.path.join(os.environ.get("TMPDIR", "/tmp"), f"convservice-pytest-{port}.log"), "wb")
    env = dict(os.environ, ConvService__Workers="2", DOTNET_CLI_TELEMETRY_OPTOUT="1", DOTNET_NOLOGO="1")
    process = subprocess.Popen(command, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while not _healthy(url):
            if process.poll() is not None:
                pytest.fail(f"the service exited with {process.returncode} before answering /health; see {log.name}")
            if time.monotonic() > deadline:
                pytest.fail(f"the service did not answer {url}/health within 180 s; see {log.name}")
            time.sleep(0.25)
        yield url
    finally:
        # Our own process group only (start_new_session): `dotnet run` has a child that must go too.
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


@pytest.fixture()
def client(service_url):
    import convservice

    return convservice.Client(service_url)
