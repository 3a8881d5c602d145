"""Fixtures: a frozen clock, an emulator with the test apps, an in-process client and a real
HTTP server on a free loopback port."""
from __future__ import annotations

import pytest

from mockface.app import create_app
from mockface.clock import Clock
from mockface.emulator import Emulator
from mockface.server import start_background

from .support import NOW, Caller, make_settings


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
