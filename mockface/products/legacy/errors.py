"""The documented error catalogue and the exception that carries a code.

Every code the seed lists in its face (人脸) and face-verification (人脸核身) tables lives in
``CATALOGUE`` with its documented Chinese meaning, the English message mockface answers with,
the HTTP status the contract chooses, where the code is placed in a response and which
endpoints document it.  Nothing else in the package invents codes or messages.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


#: The five endpoints (the names their paths, scenarios and journal use).
ENDPOINTS: tuple[str, ...] = (
    "idcardcompare",
    "livedetectpicture",
    "livegetfour",
    "idcardlivedetectfour",
    "livedetectfour",
)
VIDEO_ENDPOINTS = frozenset({"idcardlivedetectfour", "livedetectfour"})


class Placement(str, Enum):
    """Where a code appears in a response."""

    TOP = "top"  # top-level ``code`` with a non-200 status and no ``data``
    LIVE = "live"  # in-band ``data.live_status`` on the video endpoints, top-level code 0
    COMPARE = "compare"  # in-band ``data.compare_status`` on the video endpoints


@dataclass(frozen=True)
class ErrorCode:
    """One documented code.

    ``message`` is the top-level English message; ``constant`` is the upper-snake value used
    for ``live_msg``/``compare_msg`` when the code is reported in-band.
    """

    code: int
    meaning: str
    message: str
    http_status: int
    endpoints: frozenset[str]
    constant: str
    in_band: Placement | None = None

    def as_dict(self) -> dict:
        """A JSON-ready description (for ``mockface codes --json`` and the admin API)."""
        return {"code": self.code, "message": self.message, "http_status": self.http_status,
                "constant": self.constant, "meaning": self.meaning,
                "in_band": self.in_band.value if self.in_band else None,
                "endpoints": [name for name in ENDPOINTS if name in self.endpoints]}


class ApiError(Exception):
    """A documented failure: raised anywhere in the flow, rendered as ``{"code", "message"}``."""

    def __init__(self, code: int, message: str | None = None, http_status: int | None = None,
                 detail: str = "") -> None:
        entry = CATALOGUE[code]
        self.code = code
        self.message = message if message is not None else entry.message
        self.http_status = http_status if http_status is not None else entry.http_status
        self.detail = detail  # for the server log only, never sent to the client
        super().__init__(f"{code} {self.message}" + (f" ({detail})" if detail else ""))


_ALL = frozenset(ENDPOINTS)
_IMAGE = frozenset({"idcardcompare", "livedetectpicture"})
_VIDEO = VIDEO_ENDPOINTS
_ID = frozenset({"idcardcompare", "idcardlivedetectfour"})
_NOT_PICTURE = _ALL - {"livedetectpicture"}

# Auth and request layer: (code, meaning, message, HTTP status).
_AUTH = [
    (3, "错误的请求；其中 message:account abnormal,errorno is:2 为账号欠费停服",
     "invalid request", 400),
    (4, "签名为空", "has no sign or sign is empty", 401),
    (5, "签名串错误", "sign format error", 400),
    (6, "签名中的 appid/bucket 与操作目标不匹配", "appid or bucket not match sign", 401),
    (9, "签名过期", "sign expired", 401),
    (10, "appid 不存在", "appid not exist", 401),
    (11, "secretid 不存在", "secretid not exist", 401),
    (12, "appid 和 secretid 不匹配", "appid and secretid not match", 401),
    (13, "重放攻击", "replay attack", 401),
    (14, "签名校验失败", "sign no pass", 401),
    (15, "操作太频繁，触发频控", "request too frequent", 429),
    (16, "Bucket 不存在", "bucket not exist", 401),
    (21, "无效参数", "invalid parameter", 400),
    (23, "请求包体过大", "request body too large", 400),
    (24, "无权限，未申请服务", "service not applied", 403),
    (107, "鉴权服务不可用", "auth service internal error", 503),
    (108, "鉴权服务不可用", "auth service unavailable", 503),
    (213, "内部错误", "internal error", 500),
]

# Business codes: (code, meaning, constant, endpoints, in-band placement on video endpoints).
_LIVE_CODES = [
    (-5001, "视频无效，上传文件不符合视频要求", "VIDEO_FORMAT_INVALID"),
    (-5002, "唇语失败", "VIDEO_LIP_RECOG_FAILED"),
    (-5005, "自拍照解析照片不足，视频里检测到的人脸较少", "VIDEO_FACE_GETIMAGE_FAILED"),
    (-5007, "视频没有声音", "VIDEO_NO_AUDIO"),
    (-5008, "语音识别失败，视频里的人读错数字", "VIDEO_AUDIO_RECOG_FAILED"),
    (-5009, "视频人脸检测失败，没有嘴或者脸", "VIDEO_FACE_DETECT_FAILED"),
    (-5010, "唇动检测失败，视频里的人嘴巴未张开或者张开幅度小", "VIDEO_LIP_MOVE_FAILED"),
    (-5011, "活体检测失败(活体其他错误都归类到里面)", "VIDEO_LIVE_DETECT_FAILED"),
    (-5012, "视频中噪声太大", "VIDEO_AUDIO_TOO_NOISY"),
    (-5013, "视频里的声音太小", "VIDEO_AUDIO_TOO_QUIET"),
    (-5014, "活体检测 level 参数无效", "VIDEO_LEVEL_INVALID"),
    (-5015, "视频像素太低，最小 270*480", "VIDEO_RESOLUTION_TOO_LOW"),
    (-5016, "视频里的人不是活体（翻拍等攻击）", "VIDEO_NOT_LIVE"),
]
_COMPARE_CODES = [
    (-4006, "视频中自拍照特征提取失败", "VIDEO_FACE_FEATURE_FAILED"),
    (-4007, "视频中自拍照之间对比失败", "VIDEO_FACE_COMPARE_FAILED"),
    (-4009, "Card 照片提取特征失败", "CARD_FEATURE_FAILED"),
    (-4010, "自拍照与Card照片相似度计算失败", "CARD_SIMILARITY_FAILED"),
    (-4011, "照片解码失败", "PHOTO_DECODE_FAILED"),
    (-4012, "照片人脸检测失败", "PHOTO_FACE_DETECT_FAILED"),
    (-4015, "自拍照人脸检测失败", "SELFIE_FACE_DETECT_FAILED"),
    (-4016, "自拍照解码失败", "SELFIE_DECODE_FAILED"),
    (-4017, "Card 照片人脸检测失败", "CARD_FACE_DETECT_FAILED"),
    (-4018, "Card 照片解码失败", "CARD_DECODE_FAILED"),
]
_IDENTITY_CODES = [
    (-5801, "请求缺少身份证号码或身份证姓名", "IDCARD_INFO_MISSING", _ALL, None),
    (-5802, "服务器内部错误，服务暂时不可用", "SERVICE_UNAVAILABLE", _ALL, None),
    (-5803, "身份证姓名与身份证号码不一致", "IDCARD_NAME_NUMBER_MISMATCH", _ALL, Placement.COMPARE),
    (-5804, "身份证号码无效", "IDCARD_NUMBER_INVALID", _ALL, None),
    (-5805, "用户未输入图像或者 url 下载失败", "NO_IMAGE_OR_URL", _ALL, None),
    # Documented only in livedetectpicture's table; the contract uses -5806 for ID format errors.
    (-5806, "身份证号码或者身份证姓名格式错误", "IDCARD_FORMAT_INVALID",
     _ID | {"livedetectpicture"}, None),
    (-5807, "查询身份证信息错误", "IDCARD_QUERY_FAILED", frozenset({"livedetectpicture"}), None),
    (-5809, "用户身份证登记照无效", "IDCARD_PHOTO_INVALID", _ID, Placement.COMPARE),
    (-5817, "证件照质量较差，请到户籍所在地派出所进行核实", "IDCARD_PHOTO_POOR_QUALITY", _ID,
     Placement.COMPARE),
]
# The general face table (人脸错误码说明), referenced by every endpoint's "more codes" link.
_FACE_TABLE = [
    (-1101, "人脸检测失败", "FACE_DETECT_FAILED"),
    (-1102, "图片解码失败", "IMAGE_DECODE_FAILED"),
    (-1103, "特征处理失败", "FEATURE_PROCESS_FAILED"),
    (-1104, "提取轮廓错误", "EXTRACT_CONTOUR_FAILED"),
    (-1105, "提取性别错误", "EXTRACT_GENDER_FAILED"),
    (-1106, "提取表情错误", "EXTRACT_EXPRESSION_FAILED"),
    (-1107, "提取年龄错误", "EXTRACT_AGE_FAILED"),
    (-1108, "提取姿态错误", "EXTRACT_POSE_FAILED"),
    (-1109, "提取眼镜错误", "EXTRACT_GLASSES_FAILED"),
    (-1200, "特征存储错误", "FEATURE_STORE_FAILED"),
    (-1300, "图片为空", "IMAGE_EMPTY"),
    (-1301, "参数为空", "PARAMETER_EMPTY"),
    (-1302, "个体已存在", "PERSON_EXISTS"),
    (-1303, "个体不存在", "PERSON_NOT_EXIST"),
    (-1304, "参数过长", "PARAMETER_TOO_LONG"),
    (-1305, "人脸不存在", "FACE_NOT_EXIST"),
    (-1306, "组不存在", "GROUP_NOT_EXIST"),
    (-1307, "组列表不存在", "GROUP_LIST_NOT_EXIST"),
    (-1308, "url 图片下载失败", "URL_DOWNLOAD_FAILED"),
    (-1309, "人脸个数超过限制", "TOO_MANY_FACES"),
    (-1310, "个体个数超过限制", "TOO_MANY_PERSONS"),
    (-1311, "组个数超过限制", "TOO_MANY_GROUPS"),
    (-1312, "对个体添加了几乎相同的人脸", "DUPLICATE_FACE"),
    (-1400, "非法的图片格式", "IMAGE_FORMAT_INVALID"),
    (-1403, "图片下载失败", "IMAGE_DOWNLOAD_FAILED"),
]

# Which endpoint tables of the seed list each -40xx/-50xx code.
_LIVE_ENDPOINTS = {code: _ALL for code, _, _ in _LIVE_CODES}
_LIVE_ENDPOINTS[-5016] = _NOT_PICTURE  # livedetectpicture's table stops at -5015
_COMPARE_ENDPOINTS = {code: _ALL for code, _, _ in _COMPARE_CODES}
_COMPARE_ENDPOINTS[-4011] = _NOT_PICTURE
_COMPARE_ENDPOINTS[-4012] = _NOT_PICTURE


def _message(constant: str) -> str:
    return constant.lower().replace("_", " ")


def _build() -> dict[int, ErrorCode]:
    table: dict[int, ErrorCode] = {}
    for code, meaning, message, status in _AUTH:
        constant = message.upper().replace(" ", "_")
        table[code] = ErrorCode(code, meaning, message, status, _ALL, constant)
    for code, meaning, constant in _LIVE_CODES:
        table[code] = ErrorCode(code, meaning, _message(constant), 400, _LIVE_ENDPOINTS[code],
                                constant, Placement.LIVE)
    for code, meaning, constant in _COMPARE_CODES:
        table[code] = ErrorCode(code, meaning, _message(constant), 400,
                                _COMPARE_ENDPOINTS[code], constant, Placement.COMPARE)
    for code, meaning, constant, endpoints, placement in _IDENTITY_CODES:
        table[code] = ErrorCode(code, meaning, _message(constant), 400, endpoints, constant,
                                placement)
    for code, meaning, constant in _FACE_TABLE:
        table[code] = ErrorCode(code, meaning, _message(constant), 400, _ALL, constant)
    return dict(sorted(table.items(), key=lambda item: (item[0] < 0, abs(item[0]))))


CATALOGUE: dict[int, ErrorCode] = _build()

#: The message the seed documents for code 3 when the account is in arrears.
SUSPENDED_MESSAGE = "account abnormal,errorno is:2"


def codes_for(endpoint: str) -> list[ErrorCode]:
    """Every catalogue entry documented for ``endpoint``, in catalogue order."""
    if endpoint not in ENDPOINTS:
        raise ValueError(f"unknown endpoint {endpoint!r}; expected one of {', '.join(ENDPOINTS)}")
    return [entry for entry in CATALOGUE.values() if endpoint in entry.endpoints]


#: Codes recorded in compare_status although their table row is a liveness one.
_ALSO_COMPARE = frozenset({-5005})


def in_band_codes(endpoint: str, placement: Placement) -> list[int]:
    """The non-zero codes ``endpoint`` may report in ``live_status`` or ``compare_status``."""
    codes = [entry.code for entry in codes_for(endpoint)
             if placement_on(endpoint, entry.code) is placement]
    if placement is Placement.COMPARE and endpoint in VIDEO_ENDPOINTS:
        codes += [code for code in sorted(_ALSO_COMPARE, reverse=True) if code not in codes]
    return codes


def placement_on(endpoint: str, code: int) -> Placement:
    """Where ``code`` goes in a response of ``endpoint``: in-band only on the video endpoints."""
    entry = CATALOGUE[code]
    if endpoint in VIDEO_ENDPOINTS and entry.in_band is not None:
        if entry.in_band is Placement.COMPARE and endpoint == "livedetectfour" and code <= -5800:
            return Placement.TOP  # livedetectfour has no identity registry to compare against
        return entry.in_band
    return Placement.TOP
