"""What the wheel is made of: every package listed, floors equal to the pinned lowest
versions that CI installs, the mapped folders.  (.ci/wheel_check.py installs the real wheel.)"""
from __future__ import annotations

import configparser
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETUP = configparser.ConfigParser()
SETUP.read(ROOT / "setup.cfg")


def listed(section: str, key: str) -> list[str]:
    return [line.strip() for line in SETUP[section][key].splitlines()
            if line.strip() and not line.strip().startswith("#")]


def test_every_package_directory_is_listed():
    found = {".".join(p.relative_to(ROOT).parts) for p in (ROOT / "mockface").rglob("*")
             if p.is_dir() and p.name != "__pycache__"} | {"mockface"}
    mapped = {"mockface.scenarios": "scenarios", "mockface.fixtures": "fixtures"}
    assert set(listed("options", "packages")) == found | set(mapped)
    assert dict(line.replace(" ", "").split("=") for line in listed("options", "package_dir")) \
        == mapped


def test_declared_floors_are_the_versions_ci_pins():
    pins = dict(line.split("==") for line in
                (ROOT / ".ci" / "lowest-versions.txt").read_text().splitlines()
                if line and not line.startswith("#"))
    requirements = listed("options", "install_requires") + \
        listed("options.extras_require", "test") + listed("options.extras_require", "faker")
    for requirement in requirements:
        name, floor = re.fullmatch(r"([\w-]+)>=([\d.]+)(?:,<\d+)?", requirement).groups()
        assert pins[name] == floor or pins[name] == floor + ".0", requirement
    assert listed("options", "install_requires").count("waitress>=3.0.1,<4") == 1


def test_license_and_manifest_exist():
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    manifest = (ROOT / "MANIFEST.in").read_text()
    for folder in ("scenarios", "fixtures", "tests", "examples"):
        assert f"graft {folder}" in manifest
