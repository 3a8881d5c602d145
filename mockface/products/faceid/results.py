"""The ``Result`` values of ``faceid``'s actions: IdCardVerification's table and its charged
codes (the official SDK's models.py), and the catalogue names the media verifications
answer (contract-faceid §5)."""
from __future__ import annotations

from .codes import CODES

#: IdCardVerification results and their descriptions.
ID_RESULTS = {
    "0": "姓名和身份证号一致",
    "-1": "姓名和身份证号不一致",
    "-2": "非法身份证号（长度、校验位等不正确）",
    "-3": "非法姓名（长度、格式等不正确）",
    "-4": "证件库服务异常",
    "-5": "证件库中无此身份证记录",
    "-6": "权威比对系统升级中，请稍后再试",
    "-7": "认证次数超过当日限制",
}
#: The IdCardVerification results Tencent bills (收费); the others are free.
ID_CHARGED = ("0", "-1")

IMAGE_RESULTS = tuple(f"FailedOperation.{name}" for name in (
    "CompareFail", "CompareLibServiceUnavailable", "CompareLowSimilarity",
    "CompareSystemError", "DecryptSystemError", "IdFormatError", "IdNameMisMatch",
    "IdNoExistSystem", "IdPhotoNoExist", "IdPhotoPoorQuality", "IdPhotoSystemNoanswer",
    "IdentityAuthLimitExceeded", "LifePhotoDetectFaces", "LifePhotoDetectFake",
    "LifePhotoDetectNoFaces", "LifePhotoPoorQuality", "LifePhotoSizeError", "NameFormatError",
    "StsUnAuthErrError", "UnKnown", "ImageDecodeFailed"))
_LIVENESS_PREFIXES = tuple(f"FailedOperation.{prefix}" for prefix in (
    "Action", "Lip", "Silent", "Livess", "LifePhoto", "Compare"))
_LIVENESS_EXTRA = tuple(f"FailedOperation.{name}" for name in (
    "DownLoadError", "DownLoadTimeoutError", "CompressVideoError", "UnKnown",
    "ImageDecodeFailed", "VideoDecodeFailed"))
LIVENESS_RESULTS = tuple(code.name for code in CODES
                         if code.name.startswith(_LIVENESS_PREFIXES)) + _LIVENESS_EXTRA
