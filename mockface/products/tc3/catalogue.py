"""Every Error.Code and failure Result name of API 3.0 ``faceid`` (and what ``iai`` shares),
with its Chinese description and the English message mockface answers with.

The Chinese descriptions are those of the official SDK (``tencentcloud-sdk-python-faceid``
``errorcodes.py``, Apache-2.0) and of Tencent's common error-code page; the English messages
are mockface's.  ``X-TC-Language: en-US`` picks the English one, anything else the Chinese.
A test checks that every name of the installed official SDK is here.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FaceIdCode:
    """One documented name: ``Error.Code`` for errors, ``Result`` for verification outcomes."""

    name: str
    zh: str
    en: str

    def message(self, language: str | None) -> str:
        return self.en if language == "en-US" else self.zh

    def as_dict(self) -> dict[str, str]:
        return {"code": self.name, "message": self.en, "meaning": self.zh}


_ENTRIES = [
    # common to every Cloud API 3.0 product (Tencent's common error codes)
    ("AuthFailure.InvalidAuthorization", "CAM签名/鉴权错误。",
     "The Authorization header or signature parameters are malformed."),
    ("AuthFailure.SignatureExpire", "签名过期。Timestamp 和服务器时间相差不得超过五分钟。",
     "The signature expired: the timestamp differs from the server time by more than 5 "
     "minutes."),
    ("AuthFailure.SecretIdNotFound", "密钥不存在。", "The SecretId does not exist."),
    ("AuthFailure.SignatureFailure", "签名错误。", "The signature does not match."),
    ("AuthFailure.TokenFailure", "token 错误。", "The token is invalid."),
    ("UnsupportedProtocol", "HTTP(S)请求协议错误，只支持 GET 和 POST 请求。",
     "Only GET and POST requests are supported."),
    ("NoSuchVersion", "接口版本不存在。", "The API version does not exist."),
    ("InvalidAction", "接口不存在。", "The action does not exist."),
    ("InvalidRequest", "请求 body 格式错误。", "The request body is malformed."),
    ("RequestSizeLimitExceeded", "请求包超过限制大小。", "The request is too large."),
    ("MissingParameter", "缺少参数错误。", "A required parameter is missing."),
    ("UnknownParameter", "未知参数错误。", "The request has a parameter the action does not "
                                         "define."),
    ("RequestLimitExceeded", "请求的次数超过了频率限制。", "Too many requests."),
    ("InternalError", "内部错误。", "Internal error."),
    ("InvalidParameter", "参数错误。", "Invalid parameter."),
    ("InvalidParameterValue", "参数取值错误。", "Invalid parameter value."),
    ("UnauthorizedOperation", "未授权操作。", "Unauthorized operation."),
    ("UnsupportedOperation", "操作不支持。", "Unsupported operation."),
    # faceid (the official SDK's errorcodes.py)
    ("FailedOperation.ActionCloseEye", "未检测到闭眼动作。", "No eye-closing action detected."),
    ("FailedOperation.ActionFaceClose", "脸离屏幕太近。", "The face is too close to the screen."),
    ("FailedOperation.ActionFaceFar", "脸离屏幕太远。", "The face is too far from the screen."),
    ("FailedOperation.ActionFaceLeft", "脸离屏幕太左。", "The face is too far to the left."),
    ("FailedOperation.ActionFaceRight", "脸离屏幕太右。", "The face is too far to the right."),
    ("FailedOperation.ActionFirstAction", "未检测到动作配合。",
     "The requested action was not performed."),
    ("FailedOperation.ActionLightDark", "光线太暗。", "The light is too dark."),
    ("FailedOperation.ActionLightStrong", "光线太强。", "The light is too strong."),
    ("FailedOperation.ActionNodetectFace", "未能检测到完整人脸。",
     "No complete face was detected."),
    ("FailedOperation.ActionOpenMouth", "未检测到张嘴动作。",
     "No mouth-opening action detected."),
    ("FailedOperation.CompareFail", "比对失败。", "The comparison failed."),
    ("FailedOperation.CompareLibServiceUnavailable", "比对库源维护中，暂时不可用",
     "The comparison database is under maintenance."),
    ("FailedOperation.CompareLowSimilarity", "比对相似度未达到通过标准。",
     "The similarity is below the pass threshold."),
    ("FailedOperation.CompareSystemError", "调用比对引擎接口出错。",
     "The comparison engine failed."),
    ("FailedOperation.CompressVideoError",
     "The video compression failed. Please try again or reduce the size of the input video.",
     "The video compression failed. Try again or send a smaller video."),
    ("FailedOperation.CoveredFace", "图中人脸存在遮挡，请传入无遮挡人脸图片",
     "The face is covered; send an image of an uncovered face."),
    ("FailedOperation.DbError", "数据库异常。", "Database error."),
    ("FailedOperation.DecryptSystemError", "解密失败。", "Decryption failed."),
    ("FailedOperation.DetectEngineSystemError", "服务引擎调用失败，请重试",
     "The detection engine failed; try again."),
    ("FailedOperation.DownLoadError", "文件下载失败。", "The file download failed."),
    ("FailedOperation.DownLoadTimeoutError", "文件下载超时。", "The file download timed out."),
    ("FailedOperation.EmptyImageError", "图片内容为空。", "The image is empty."),
    ("FailedOperation.EncryptSystemError", "加密失败。", "Encryption failed."),
    ("FailedOperation.FileSaveError", "文件存储失败，请稍后重试。",
     "The file could not be stored; try again later."),
    ("FailedOperation.IdFormatError", "输入的身份证号有误。", "The ID card number is invalid."),
    ("FailedOperation.IdNameMisMatch", "姓名和身份证号不一致，请核实后重试。",
     "The name does not match the ID card number."),
    ("FailedOperation.IdNoExistSystem", "库中无此号，请到户籍所在地进行核实。",
     "The ID card number is not in the database."),
    ("FailedOperation.IdPhotoNoExist", "库中无此号照片，请到户籍所在地进行核实。",
     "The database has no photo for this ID card number."),
    ("FailedOperation.IdPhotoPoorQuality", "证件图片质量差，请更新后重试。",
     "The ID photo is of poor quality."),
    ("FailedOperation.IdPhotoSystemNoanswer", "客户库自建库或认证中心返照失败，请稍后再试。",
     "The photo source did not answer; try again later."),
    ("FailedOperation.IdentityAuthLimitExceeded", "姓名/身份证号认证次数超过当日限制，请次日重试",
     "This name or ID card number reached today's verification limit."),
    ("FailedOperation.ImageBlur", "图片模糊。", "The image is blurred."),
    ("FailedOperation.ImageDecodeFailed", "图片解码失败。", "The image could not be decoded."),
    ("FailedOperation.ImageNoIdCard", "图片中未检测到身份证。", "No ID card in the image."),
    ("FailedOperation.ImageSizeTooLarge", "图片尺寸过大。", "The image is too large."),
    ("FailedOperation.IncompleteFace", "未检测到完整人脸，请传入完整人脸图片",
     "No complete face was detected; send an image of a whole face."),
    ("FailedOperation.InvalidTokenParameter", "Token不存在", "The token does not exist."),
    ("FailedOperation.LifePhotoDetectFaces", "检测到多张人脸。", "Several faces were detected."),
    ("FailedOperation.LifePhotoDetectFake", "实人比对没通过。",
     "The real-person comparison did not pass."),
    ("FailedOperation.LifePhotoDetectNoFaces", "未能检测到完整人脸。",
     "No complete face was detected."),
    ("FailedOperation.LifePhotoPoorQuality", "传入图片分辨率太低，请重新上传。",
     "The image resolution is too low."),
    ("FailedOperation.LifePhotoSizeError", "传入图片过大或过小。",
     "The image is too large or too small."),
    ("FailedOperation.LipFaceIncomplete", "脸部未完整露出。", "The face is not fully visible."),
    ("FailedOperation.LipMoveSmall", "嘴唇动作幅度过小。", "The lip movement is too small."),
    ("FailedOperation.LipNetFailed", "视频拉取失败，请重试。",
     "The video could not be fetched; try again."),
    ("FailedOperation.LipSizeError", "视频为空，或大小不合适，请控制录制时长在6s左右。",
     "The video is empty or of the wrong size; record about 6 seconds."),
    ("FailedOperation.LipVideoInvalid", "视频格式有误。", "The video format is invalid."),
    ("FailedOperation.LipVideoQuaility", "视频像素太低。", "The video resolution is too low."),
    ("FailedOperation.LipVoiceDetect", "未检测到声音。", "No voice was detected."),
    ("FailedOperation.LipVoiceLow", "视频声音太小。", "The voice in the video is too quiet."),
    ("FailedOperation.LipVoiceRecognize", "声音识别失败。", "The spoken digits were not "
                                                          "recognised."),
    ("FailedOperation.LivessBestFrameError", "人脸检测失败，无法提取比对照。",
     "Face detection failed: no frame to compare."),
    ("FailedOperation.LivessDetectFail", "活体检测没通过。", "The liveness check did not pass."),
    ("FailedOperation.LivessDetectFake", "疑似非真人录制。",
     "The video does not seem to show a live person."),
    ("FailedOperation.LivessSystemError", "调用活体引擎接口出错。", "The liveness engine failed."),
    ("FailedOperation.LivessUnknownError", "视频实人检测没通过。",
     "The video real-person check did not pass."),
    ("FailedOperation.NameFormatError", "输入的姓名有误。", "The name is invalid."),
    ("FailedOperation.OcrFailed", "Ocr识别失败。", "OCR failed."),
    ("FailedOperation.PoorImageQuality", "图片质量过差，请检查图片质量",
     "The image quality is too poor."),
    ("FailedOperation.RequestLimitExceeded", "调用次数超出限制。", "The call limit was exceeded."),
    ("FailedOperation.SilentDetectFail", "实人检测失败。", "The real-person check failed."),
    ("FailedOperation.SilentEyeLiveFail", "眼睛检测失败。", "The eye check failed."),
    ("FailedOperation.SilentFaceDetectFail", "视频未检测到人脸。", "No face in the video."),
    ("FailedOperation.SilentFaceQualityFail", "视频中人脸质量低。",
     "The face in the video is of low quality."),
    ("FailedOperation.SilentFaceWithMaskFail", "检测到带口罩。", "A face mask was detected."),
    ("FailedOperation.SilentMouthLiveFail", "嘴巴检测失败。", "The mouth check failed."),
    ("FailedOperation.SilentMultiFaceFail", "视频检测中有多个人脸。",
     "Several faces in the video."),
    ("FailedOperation.SilentPictureLiveFail", "疑似翻拍。",
     "The video seems to be a recording of a screen or photo."),
    ("FailedOperation.SilentThreshold", "实人检测未达到通过标准。",
     "The real-person check is below the pass threshold."),
    ("FailedOperation.SilentTooShort", "视频录制时间过短，请录制2秒以上的视频。",
     "The video is too short; record more than 2 seconds."),
    ("FailedOperation.StsUnAuthErrError", "STS未授权。", "STS is not authorised."),
    ("FailedOperation.UnKnown", "内部未知错误。", "Unknown internal error."),
    ("FailedOperation.UnregisteredEid", "该用户未注册E证通，请先注册并跟权威库核验。",
     "This user has not registered an eID."),
    ("FailedOperation.VideoDecodeFailed", "视频解码异常", "The video could not be decoded."),
    ("FailedOperation.VideoDurationExceeded", "视频时长过长，当前接口最大支持的视频时长为20s。",
     "The video is too long; at most 20 seconds."),
    ("InternalError.EncryptSystemError", "加密失败。", "Encryption failed."),
    ("InternalError.UnKnown", "内部未知错误。", "Unknown internal error."),
    ("InvalidParameter.UnsupportEncryptField", "存在不加密的字段，请参考文档修改。",
     "A field that must be encrypted is not."),
    ("InvalidParameterValue.BizTokenExpired", "BizToken过期。", "The BizToken expired."),
    ("InvalidParameterValue.BizTokenIllegal", "BizToken不合法。", "The BizToken is invalid."),
    ("InvalidParameterValue.RuleIdDisabled", "该ruleid已被您停用，请确认后重试。",
     "This RuleId is disabled."),
    ("InvalidParameterValue.RuleIdNotExist", "RuleId不存在，请到人脸核身控制台申请。",
     "This RuleId does not exist."),
    ("UnauthorizedOperation.ActivateError", "服务开通异常。", "Service activation failed."),
    ("UnauthorizedOperation.Activating", "服务开通中。", "The service is being activated."),
    ("UnauthorizedOperation.Arrears", "账号已欠费。", "The account is in arrears."),
    ("UnauthorizedOperation.ChargeStatusException", "计费状态异常。",
     "The billing status is abnormal."),
    ("UnauthorizedOperation.NonAuthorize", "账号未实名。",
     "The account has not completed identity verification."),
    ("UnauthorizedOperation.Nonactivated", "未开通服务。", "The service is not activated."),
]

#: name -> FaceIdCode, in the order above (common codes first).
CATALOGUE: dict[str, FaceIdCode] = {name: FaceIdCode(name, zh, en) for name, zh, en in _ENTRIES}

_IMAGE_RESULTS = tuple(f"FailedOperation.{name}" for name in (
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
_LIVENESS_RESULTS = tuple(name for name in CATALOGUE if name.startswith(_LIVENESS_PREFIXES)) \
    + _LIVENESS_EXTRA


def results_for(action: str) -> tuple[str, ...]:
    """The ``Result`` names an action answers besides ``Success`` (contract-faceid §5), in
    catalogue order; empty for actions without a Result."""
    if action in ("ImageRecognition", "ImageRecognitionV2"):
        names = _IMAGE_RESULTS
    elif action == "LivenessRecognition":
        names = _LIVENESS_RESULTS + _IMAGE_RESULTS
    elif action in ("LivenessCompare", "Liveness"):
        names = _LIVENESS_RESULTS
    else:
        return ()
    return tuple(name for name in CATALOGUE if name in names)


def codes_for(action: str | None = None) -> tuple[str, ...]:
    """Every name (``action`` None), or those ``action`` can answer: the Error.Codes every
    action shares and the action's ``Result`` names."""
    if action is None:
        return tuple(CATALOGUE)
    return tuple(name for name in CATALOGUE if not name.startswith("FailedOperation.")) + \
        results_for(action)
