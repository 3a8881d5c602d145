"""mockface: an offline emulator of Tencent Cloud's face-verification APIs -- the retired
legacy API and its Cloud API 3.0 successor (faceid with its token flows and element checks,
iai) -- for tests and CI."""

__version__ = "0.1.0"
