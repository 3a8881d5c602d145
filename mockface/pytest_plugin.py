"""pytest fixtures for mockface, registered through the ``pytest11`` entry point; the handle
they give is ``mockface.testing``'s.

``mockface_server`` (session) starts a server in a background thread on a free loopback port,
or attaches to one given by ``--mockface-url`` / ``MOCKFACE_URL`` / the ``mockface_url`` ini
key.  ``mockface`` (function) is a freshly reset ``Mockface`` handle on it, with the
``@pytest.mark.mockface`` scenario and loose checks applied; ``mockface_proxy`` points
unmodified clients at the server for one test.
"""
from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from .client import TOKEN_ENV
from .testing import Clock as Clock  # re-exported: these classes used to live here
from .testing import Credentials as Credentials
from .testing import Mockface, MockfaceServer

URL_ENV = "MOCKFACE_URL"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mockface", "mockface test double")
    group.addoption("--mockface-url", help="Attach to a running mockface server instead of "
                                           f"starting one (also ${URL_ENV}).")
    group.addoption("--mockface-scenarios", action="append", default=[], metavar="DIR",
                    help="Directory searched for scenario names by the in-process server "
                         "(repeatable).")
    group.addoption("--mockface-timeout", type=float, default=None, metavar="SECONDS",
                    help="How long to wait for the server to become healthy (default 30).")
    group.addoption("--mockface-tls", action="store_true", default=None,
                    help="Start the in-process server with --tls (HTTPS from the local CA; "
                         "mockface.ca_cert is its certificate).")
    parser.addini("mockface_url", "URL of a running mockface server to attach to.")
    parser.addini("mockface_tls", "Start the in-process server with --tls.", type="bool",
                  default=False)
    parser.addini("mockface_timeout", "Seconds to wait for the server to become healthy.",
                  default="30")
    parser.addini("mockface_scenarios", "Directories searched for scenario names.",
                  type="linelist", default=[])


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "mockface(scenario=None, loose=False): activate a scenario (a name, path, "
                   "dict or a list of them) and/or loose signature checks for this test")


def _server_for(config: pytest.Config) -> MockfaceServer:
    """The server the options and ini keys ask for: attached to a URL (one namespace per
    xdist worker) or started in-process."""
    url = config.getoption("--mockface-url") or os.environ.get(URL_ENV) or \
        config.getini("mockface_url")
    timeout = config.getoption("--mockface-timeout") or float(config.getini("mockface_timeout"))
    if url:
        worker = getattr(config, "workerinput", {}).get("workerid", "main")
        return MockfaceServer.attach(url, os.environ.get(TOKEN_ENV), worker, timeout)
    dirs = list(config.getoption("--mockface-scenarios") or []) + \
        list(config.getini("mockface_scenarios") or [])
    tls = config.getoption("--mockface-tls") or config.getini("mockface_tls")
    return MockfaceServer.start(dirs, timeout, tls=bool(tls))


@pytest.fixture(scope="session")
def mockface_server(request: pytest.FixtureRequest) -> Iterator[MockfaceServer]:
    """A mockface server for the whole session (one per xdist worker when in-process)."""
    with _server_for(request.config) as server:
        yield server


@pytest.fixture
def mockface_proxy(mockface: Mockface, monkeypatch: pytest.MonkeyPatch,
                   tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Points unmodified clients at the server for one test (restored afterwards): the
    proxy variables and a CA bundle that trusts the server's certificates, as
    ``Mockface.proxy_env`` gives them.  Returns that environment."""
    environment = mockface.proxy_env(tmp_path_factory.mktemp("mockface-ca") / "bundle.pem")
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return environment


@pytest.fixture
def mockface(mockface_server: MockfaceServer,
             request: pytest.FixtureRequest) -> Iterator[Mockface]:
    """A freshly reset mockface for one test; see ``mockface.testing.Mockface`` for its
    methods.  A clock the test froze or advanced is put back afterwards (it is
    server-wide)."""
    with Mockface(mockface_server) as handle:
        marker = request.node.get_closest_marker("mockface")
        if marker is not None:
            scenario = marker.kwargs.get("scenario")
            for source in scenario if isinstance(scenario, (list, tuple)) else [scenario]:
                if source is not None:
                    handle.use(source)
            if marker.kwargs.get("loose"):
                handle.loose(True)
        yield handle
