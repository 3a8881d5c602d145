"""Fixtures: a frozen clock, an emulator with the test apps, an in-process client and a real
HTTP server on a free loopback port."""
from __future__ import annotations

import os

import pytest
from hypothesis import settings

from mockface.core.clock import Clock
from mockface.emulator import Emulator
from mockface.scenarios import ScenarioEngine, search_path
from mockface.web.app import create_app
from mockface.web.server import start_background

from .redis_server import RedisServer, close_opened
from .support import NOW, Caller, make_settings

settings.register_profile("ci", max_examples=60, deadline=None)
settings.register_profile("fuzz", max_examples=3000, deadline=None)
settings.load_profile(os.environ.get("MOCKFACE_HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session", autouse=True)
def private_ca_dir(tmp_path_factory):
    """The local CA of every server these tests start (in this process or in subprocesses
    and pytester runs, which inherit the variable) lives in a temporary directory, never in
    the user's data directory."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MOCKFACE_CA_DIR", str(tmp_path_factory.mktemp("mockface-ca")))
        patch.delenv("MOCKFACE_STATE", raising=False)  # servers keep their state in memory
        yield


@pytest.fixture(autouse=True)
def lean_pytester(request, monkeypatch):
    """pytest sessions started by pytester skip the plugins of Faker and Hypothesis, which
    mockface's tests install and the example suites do not use (each costs about a second of
    start-up)."""
    if "pytester" in request.fixturenames:
        request.getfixturevalue("pytester")  # first: it clears PYTEST_ADDOPTS when made
        monkeypatch.setenv("PYTEST_ADDOPTS", "-p no:faker -p no:hypothesispytest")


@pytest.fixture
def clock() -> Clock:
    clock = Clock()
    clock.freeze(NOW)
    return clock


@pytest.fixture
def emulator(clock) -> Emulator:
    return Emulator(make_settings(), clock)


@pytest.fixture
def client(emulator):
    return create_app(emulator=emulator).test_client()


@pytest.fixture
def call(client) -> Caller:
    return Caller(client)


@pytest.fixture(scope="module")
def live_server():
    """A real waitress server on a free loopback port, with the test apps and real time."""
    server = start_background(create_app(make_settings()))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def scenario_server():
    """A real server whose scenario engine searches the repository's library; each test
    resets it after use (see the ``scripted`` fixture)."""
    emulator = Emulator(make_settings(), scenarios=ScenarioEngine(search_path()),
                        allow_scenario_header=True)
    server = start_background(create_app(emulator=emulator))
    yield server, emulator
    server.stop()


@pytest.fixture
def scripted(scenario_server):
    server, emulator = scenario_server
    yield server, emulator.scenarios
    emulator.scenarios.reset()


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    """A redis-server of its own for one test module."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def states_closed():
    """Every Redis state a test opens (``redis_server.open_state`` and friends) is closed,
    its listener joined, when the test ends: none may log into the next test."""
    yield
    close_opened()
