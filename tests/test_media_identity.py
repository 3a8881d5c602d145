"""Media sniffing and ID-number rules, on the committed fixtures and crafted bytes."""
from __future__ import annotations

import datetime

import pytest

from mockface.core.identity import check_digit, valid_number, well_formed_name, well_formed_number
from mockface.core.media import inspect_image, inspect_video

from .support import media

TODAY = datetime.date(2026, 11, 25)


@pytest.mark.parametrize("name,kind,decodes,size", [
    ("face.jpg", "jpeg", True, (300, 400)),
    ("face.png", "png", True, (300, 400)),
    ("face.bmp", "bmp", True, (120, 160)),
    ("face.gif", "gif", False, (None, None)),
    ("truncated.jpg", "jpeg", False, (300, 400)),
    ("garbage.bin", None, False, (None, None)),
])
def test_inspect_image(name, kind, decodes, size):
    info = inspect_image(media(name))
    assert (info.kind, info.decodes, (info.width, info.height)) == (kind, decodes, size)


def test_png_with_bad_crc_does_not_decode():
    data = bytearray(media("face.png"))
    data[20] ^= 0xFF  # inside IHDR
    assert not inspect_image(bytes(data)).decodes


def test_jpeg_magic_alone_does_not_decode():
    assert not inspect_image(b"\xff\xd8\xff\xe0" + bytes(100)).decodes


@pytest.mark.parametrize("name,kind,size,too_small", [
    ("video.mp4", "mp4", (480, 640), False),
    ("video-small.mp4", "mp4", (160, 120), True),
    ("video.flv", "flv", (480, 640), False),
    ("video.avi", "avi", (640, 480), False),
    ("video.webm", "webm", (None, None), False),
    ("face.jpg", None, (None, None), False),
])
def test_inspect_video(name, kind, size, too_small):
    info = inspect_video(media(name))
    assert (info.kind, (info.width, info.height), info.too_small) == (kind, size, too_small)


def test_gb11643_check_digit():
    assert check_digit("11010519491231002") == "X"
    assert valid_number("11010519491231002X", TODAY)
    assert not valid_number("110110199909090909", TODAY)  # the seed's sample: expected 4
    assert valid_number("110110199909090904", TODAY)


def test_number_and_name_forms():
    assert well_formed_number("11010519491231002X")
    assert not well_formed_number("11010519491231002x")
    assert not well_formed_number("1101051949123100")
    assert well_formed_name("欧阳娜娜") and well_formed_name("阿依古丽·买买提")
    assert not well_formed_name("·张三") and not well_formed_name("Tom")
