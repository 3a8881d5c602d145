"""mockface: an offline emulator of Tencent Cloud's legacy face-verification API."""

__version__ = "0.1.0"
