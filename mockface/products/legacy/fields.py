"""The request fields of the five endpoints (contract §3-4): the one definition the body
parser reads its field names from, the OpenAPI document is generated from, and the tests
hold the service to (each required field, left out, gives its ``missing_code``)."""
from __future__ import annotations

from dataclasses import dataclass

#: What a well-formed ID number and name look like (contract §4; the check digit and birth
#: date are checked beyond the pattern).
ID_NUMBER_PATTERN = "^[0-9]{17}[0-9X]$"
ID_NAME_PATTERN = "^[\u3400-\u9fff\u00b7]{2,30}$"
DIGITS_PATTERN = "^[0-9]+$"


@dataclass(frozen=True)
class Field:
    """One request field: text (a JSON string or form field) or media (base64 in JSON, a
    file part in multipart)."""

    name: str
    description: str
    media: bool = False
    required: bool = False
    missing_code: int | None = None  # the code a request without it gets
    pattern: str | None = None


_APPID = Field("appid", "The app id; must equal the signature's appid.", required=True,
               missing_code=21)
_BUCKET = Field("bucket", "A bucket of the app (checked when the app lists buckets).")
_SIGN = Field("sign", "Accepted and ignored: the signature travels in Authorization.")
_NUMBER = Field("idcard_number", "The ID card number (18 characters, GB 11643).",
                required=True, missing_code=-5801, pattern=ID_NUMBER_PATTERN)
_NAME = Field("idcard_name", "The name on the ID card (2-30 Chinese characters).",
              required=True, missing_code=-5801, pattern=ID_NAME_PATTERN)
_VALIDATE_DATA = Field("validate_data", "The lip-reading code the person read out "
                                        "(digits, as issued by livegetfour).",
                       required=True, missing_code=21, pattern=DIGITS_PATTERN)
_VIDEO = Field("video", "The liveness video (MP4, FLV, AVI or WebM).", media=True,
               required=True, missing_code=-5805)
_SEQ = Field("seq", "A client sequence value; ignored.")

FIELDS: dict[str, tuple[Field, ...]] = {
    "idcardcompare": (
        _APPID, _BUCKET, _NUMBER, _NAME,
        Field("image", "The face photo (JPEG, PNG or BMP); needed unless url is given "
                       "(neither: -5805).", media=True),
        Field("url", "A photo URL, used instead of image (never fetched)."),
        Field("session_id", "Echoed in the answer's session_id."), _SEQ, _SIGN),
    "livedetectpicture": (
        _APPID, _BUCKET,
        Field("image", "The photo to check (JPEG, PNG or BMP).", media=True, required=True,
              missing_code=-5805),
        Field("url", "A photo URL, used instead of image (never fetched)."), _SEQ, _SIGN),
    "livegetfour": (_APPID, _BUCKET, _SEQ, _SIGN),
    "idcardlivedetectfour": (_APPID, _BUCKET, _VALIDATE_DATA, _NUMBER, _NAME, _VIDEO, _SEQ,
                             _SIGN),
    "livedetectfour": (
        _APPID, _BUCKET, _VALIDATE_DATA,
        Field("compare_flag", "true: also compare the video with card (any case).",
              required=True, missing_code=21, pattern="^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])$"),
        _VIDEO,
        Field("card", "The photo to compare with (JPEG, PNG or BMP); needed with "
                      "compare_flag=true (-5805).", media=True), _SEQ, _SIGN),
}

TEXT_FIELDS = frozenset(f.name for fields in FIELDS.values() for f in fields if not f.media)
MEDIA_FIELDS = frozenset(f.name for fields in FIELDS.values() for f in fields if f.media)
