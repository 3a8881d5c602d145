"""The data of the token flows: the ErrCode tables of each flow, the token windows, and the
sizes, counts and values the nine actions accept (from the SDK's ``models.py`` and
evidence-faceid-flows.md; the actions read them, nothing here runs)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Code:
    """One code of a flow's table: its message and whether Tencent bills it."""

    message: str
    billed: bool = False


_CALL_ERROR = "调用方式出错，请参考DetectAuth接口文档"
_SERVICE_ERROR = "服务异常，请稍后重试"

#: ``Text.ErrCode`` of the detect (慧眼 H5 / mini program) and E证通 flows (返回码 pages
#: 1007/31082, 213/32309, 1007/95804, 1007/115318: one numbering).  Billed: 0, 1002 (Plus),
#: 2006, 2016.
DETECT_CODES: dict[int, Code] = {
    0: Code("成功", True),
    1: Code(_CALL_ERROR), 2: Code(_CALL_ERROR), 3: Code(_CALL_ERROR),
    4: Code(_SERVICE_ERROR), 8: Code(_SERVICE_ERROR), 10: Code(_SERVICE_ERROR),
    12: Code(_SERVICE_ERROR), 13: Code(_SERVICE_ERROR),
    14: Code("本次校验已完成"),
    15: Code("Token过期，请重试"),
    16: Code("已达到重试上限"),
    17: Code("本次流程未完成"),
    201: Code("微信拉图失败"),
    202: Code("视频获取失败"),
    203: Code("无此API权限"),
    204: Code("公众号或小程序未对慧眼授权"),
    301: Code("身份证号与传入不符"),
    302: Code("身份证已过期"),
    303: Code("身份证扫描识别失败"),
    1001: Code("引擎超时"),
    1002: Code("疑似非真人录制", True),
    1003: Code("人脸识别验证未成功"),
    1004: Code("人脸验证失败"),
    1005: Code("人脸验证失败"),
    1006: Code("证照库出错"),
    1007: Code("未拉取微信活体结果"),
    1008: Code("网络不稳定，请重试"),
    1101: Code("未检测到声音"),
    1102: Code("脸部未完整露出"),
    1103: Code("视频格式有误"),
    1104: Code("视频拉取失败，请重试"),
    1105: Code("视频声音太小"),
    1106: Code("视频为空，或大小不合适，请控制录制时长在6s左右"),
    1107: Code("视频像素太低"),
    1108: Code("声音识别失败"),
    1109: Code("未识别到唇动"),
    1201: Code("光线太暗"),
    1202: Code("光线太强"),
    1203: Code("脸离屏幕太近"),
    1204: Code("脸离屏幕太远"),
    1205: Code("未检测到动作配合"),
    1301: Code("疑似非真人录制"),
    1302: Code("人脸验证失败"),
    1303: Code("录制时间过短，请录制2秒以上的视频"),
    2001: Code("引擎超时"),
    2002: Code("姓名有误"),
    2003: Code("身份证号有误"),
    2004: Code("视频提取照片出错"),
    2005: Code("未查询到身份信息"),
    2006: Code("姓名和身份证号不匹配", True),
    2007: Code("未查询到照片"),
    2008: Code("未查询到照片"),
    2009: Code("照片分辨率过低"),
    2010: Code("脸部未完整露出"),
    2011: Code("无法判断为同一人（疑似非活体）"),
    2012: Code("检测到多张人脸"),
    2013: Code("脸部未完整露出"),
    2014: Code("像素太低"),
    2015: Code("比对失败"),
    2016: Code("无法判断为同一人（相似度未达到通过阈值）", True),
    2017: Code("权威数据源升级中"),
}

#: ``Result`` of the app (HuiYan SDK) flow, GetFaceIdResult (后台返回码 1007/101997).
APP_CODES: dict[int, Code] = {
    0: Code("成功", True),
    2: Code(_CALL_ERROR), 3: Code(_CALL_ERROR), 17: Code(_CALL_ERROR),
    4: Code(_SERVICE_ERROR), 7: Code(_SERVICE_ERROR), 8: Code(_SERVICE_ERROR),
    14: Code("本次校验已完成"),
    15: Code("token过期"),
    18: Code("超出限频次数"),
    19: Code("超出有效期"),
    1001: Code("引擎超时"),
    1003: Code("人脸验证失败"),
    1004: Code("人脸检测失败，无法提取比对照"),
    1005: Code("人脸验证失败"),
    1007: Code("活体检测失败，命中风控逻辑"),
    1202: Code("光线不佳"),
    2001: Code("引擎超时"),
    2002: Code("姓名有误"),
    2003: Code("身份证号有误"),
    2004: Code("视频提取照片出错"),
    2005: Code("未查询到身份信息"),
    2006: Code("姓名和身份证号不匹配", True),
    2007: Code("未查询到照片", True),
    2009: Code("照片分辨率过低", True),
    2011: Code("无法判断为同一人（疑似非活体）", True),
    2012: Code("检测到多张人脸", True),
    2013: Code("脸部未完整露出", True),
    2014: Code("像素太低", True),
    2015: Code("比对失败", True),
    2016: Code("无法判断为同一人（相似度未达到通过阈值）", True),
    2017: Code("权威数据源升级中"),
}

#: Each flow's table.
FLOW_CODES: dict[str, dict[int, Code]] = {"detect": DETECT_CODES, "eid": DETECT_CODES,
                                           "app": APP_CODES}

#: The user window of each flow, in seconds; every result is readable for READ_WINDOW.
USER_WINDOWS = {"detect": 7200, "eid": 600, "app": 600}
READ_WINDOW = 3 * 24 * 3600

#: LivenessMode of each configured liveness (1 数字, 2 动作, 3 静默).
LIVENESS_MODES = {"LIP": 1, "ACTION": 2, "SILENT": 3}
