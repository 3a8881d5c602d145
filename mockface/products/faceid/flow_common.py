"""What the token-flow actions share (contract-faceid-flows §1-4): the checks of what an
issuing action takes (RedirectUrl, Extra, the identity, the intention settings, the
nested objects), reading a token as its reader sees it, and the answer blocks built from a
token's outcome (``Text`` with its ``DetectDetail`` list, the ``InfoType`` blocks with the
sample media shipped in ``samples/``)."""
from __future__ import annotations

import base64
import datetime
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from ..tc3.request import Tc3Error
from .flows import Flows
from .flow_models import FLOW_CODES
from ...core.identity import well_formed_name
from ...core.tokens import EXPIRED, FINISHED, OPENED, TokenRecord

#: The longest RedirectUrl and Extra an issuing action takes (GetFaceIdToken: Extra 1,000).
MAX_URL = 1024
MAX_EXTRA = 1024
#: The longest Name (UTF-8 characters) and other free text of the requests.
MAX_NAME = 32
MAX_TEXT = 1024
#: Intention settings (意愿核身): the read-aloud text, the rounds, a question or an action
#: text, the answers of a question and each answer.
MAX_INTENTION_TEXT = 120
MAX_ROUNDS = 10
MAX_QUESTION = 250
MAX_ANSWERS = 50
MAX_ANSWER = 10
#: CompareLibType of the results: the authority's library, or the caller's photo.
AUTHORITY_LIB, OWN_LIB = "权威库", "业务方自有库"
_URL = re.compile(r"https?://[\x21-\x7e\u00a0-\U0010ffff]+", re.IGNORECASE)

#: The members of ``DetectInfoText`` (the SDK's model), in its order.
TEXT_FIELDS = (
    "ErrCode", "ErrMsg", "IdCard", "UseIDType", "Name", "OcrNation", "OcrAddress",
    "OcrBirth", "OcrAuthority", "OcrValidDate", "OcrName", "OcrIdCard", "OcrGender",
    "IdInfoFrom", "LiveStatus", "LiveMsg", "Comparestatus", "Comparemsg", "Sim", "Location",
    "Extra", "LivenessDetail", "LivenessInfoTag", "Mobile", "CompareLibType", "LivenessMode",
    "NFCRequestIds", "NFCBillingCounts", "PassNo", "VisaNum", "LivenessActionSequence")
CARD_FIELDS = ("OcrFront", "OcrBack", "ProcessedFrontImage", "ProcessedBackImage", "Avatar",
               "WarnInfos", "BackWarnInfos")
FRAME_FIELDS = ("BestFrame", "BestFrames")
VIDEO_FIELDS = ("LivenessVideo", "LivenessVideos")
#: What the sample ID card says besides the identity (the Ocr* members of a result).
CARD_TEXT = {"OcrNation": "汉", "OcrAddress": "北京市东城区景山前街4号",
             "OcrAuthority": "北京市公安局东城分局", "OcrValidDate": "2020.01.01-2040.01.01"}


# -- the sample media -------------------------------------------------------------------

@lru_cache(maxsize=None)
def sample(name: str) -> str:
    """The base64 text of the sample ``name`` shipped in ``samples/`` (``card-front.jpg``,
    ``card-back.jpg``, ``video.mp4``)."""
    data = resources.files(__package__).joinpath(f"samples/{name}").read_bytes()
    return base64.b64encode(data).decode("ascii")


# -- errors -----------------------------------------------------------------------------

def invalid(name: str, reason: str) -> Tc3Error:
    """InvalidParameterValue naming the parameter ``name``."""
    return Tc3Error("InvalidParameterValue", reason,
                    message=f"The value of the parameter `{name}` is invalid.")


def wrong_type(name: str, kind: str) -> Tc3Error:
    """InvalidParameter for a member ``name`` of the wrong type."""
    return Tc3Error("InvalidParameter", f"{name} must be {kind}",
                    message=f"The type of the parameter `{name}` is wrong.")


def missing(name: str, reason: str) -> Tc3Error:
    """InvalidParameter for a parameter the call's settings need but lack."""
    return Tc3Error("InvalidParameter", reason,
                    message=f"The parameter `{name}` is required here.")


# -- what the issuing actions take ------------------------------------------------------

def checked_text(params: Mapping[str, Any], name: str, limit: int) -> str | None:
    """The text parameter ``name`` (None when absent or empty); InvalidParameterValue
    when it has more than ``limit`` characters."""
    value = params.get(name)
    if value in (None, ""):
        return None
    if len(value) > limit:
        raise invalid(name, f"{name} is longer than {limit} characters")
    return plain_text(value, name)


def plain_text(value: str, name: str) -> str:
    """``value`` when it is text UTF-8 can carry (a token's data goes to JSON stores and
    pages); InvalidParameterValue for a lone surrogate."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise invalid(name, f"{name} holds a lone surrogate") from None
    return value


def checked_redirect(params: Mapping[str, Any]) -> str | None:
    """``RedirectUrl`` (None when absent): an ``http://`` or ``https://`` URL with a host,
    of at most 1,024 characters, no space or control character; else
    InvalidParameterValue."""
    url = checked_text(params, "RedirectUrl", MAX_URL)
    if url is None:
        return None
    if not _URL.fullmatch(url) or not urlsplit(url).hostname:
        raise invalid("RedirectUrl", "RedirectUrl must be an http:// or https:// URL")
    return url


def checked_identity(params: Mapping[str, Any], needed: bool,
                     number_ok: Callable[[str], bool]) -> dict[str, str] | None:
    """``{"IdCard", "Name"}`` from the parameters, or None when neither is given and the
    settings do not need them.  InvalidParameter when one lacks (or both, ``needed``);
    InvalidParameterValue for an ID number ``number_ok`` refuses or a name that is not
    2-30 Chinese characters (at most 32)."""
    number, name = params.get("IdCard") or None, params.get("Name") or None
    if number is None and name is None and not needed:
        return None
    if number is None or name is None:
        lacking = "IdCard" if number is None else "Name"
        raise missing(lacking, f"IdCard and Name are needed here; {lacking} is missing")
    if not number_ok(number):
        raise invalid("IdCard", f"IdCard {number[:40]!r} is not a valid ID number")
    if len(name) > MAX_NAME or not well_formed_name(name):
        raise invalid("Name", f"Name {name[:40]!r} is not 2-30 Chinese characters")
    return {"IdCard": number, "Name": name}


def checked_object(value: Any, name: str, members: Mapping[str, type]) -> dict[str, Any]:
    """The object parameter ``value`` (a dict; {} when absent): each member of its type
    (InvalidParameter otherwise), no member ``members`` lacks (UnknownParameter)."""
    if value is None:
        return {}
    for key, item in value.items():
        kind = members.get(key)
        if kind is None:
            raise Tc3Error("UnknownParameter", f"{name}.{str(key)[:40]} is not defined",
                           message=f"The parameter `{name}.{str(key)[:40]}` is not "
                                   "recognised.")
        if item is not None and not _is(item, kind):
            raise wrong_type(f"{name}.{key}", kind.__name__)
    return dict(value)


def checked_list(value: Any, name: str, members: Mapping[str, type],
                 required: tuple[str, ...]) -> list[dict[str, Any]]:
    """A list parameter of objects (``[]`` when absent): at most 10 rounds, each an object
    of ``members`` with its ``required`` members."""
    if value is None:
        return []
    if not 1 <= len(value) <= MAX_ROUNDS:
        raise invalid(name, f"{name} must have 1 to {MAX_ROUNDS} entries")
    items = []
    for index, item in enumerate(value):
        where = f"{name}[{index}]"
        if not isinstance(item, dict):
            raise wrong_type(where, "an object")
        checked = checked_object(item, where, members)
        for key in required:
            if checked.get(key) in (None, "", []):
                raise missing(f"{where}.{key}", f"{where}.{key} is missing")
        items.append(checked)
    return items


def checked_intention(params: Mapping[str, Any]) -> dict[str, Any]:
    """The intention settings (意愿核身) of DetectAuth or GetEidToken's Config:
    ``IntentionVerifyText`` (at most 120 characters), ``IntentionQuestions`` (1-10 rounds:
    ``Question`` at most 250 characters, 1-50 ``Answers`` of at most 10),
    ``IntentionActions`` (1-10 rounds of ``Text`` at most 250); the JSON-able settings
    kept with the token."""
    text = checked_text(params, "IntentionVerifyText", MAX_INTENTION_TEXT)
    questions = checked_list(params.get("IntentionQuestions"), "IntentionQuestions",
                             {"Question": str, "Answers": list}, ("Question", "Answers"))
    for index, question in enumerate(questions):
        where = f"IntentionQuestions[{index}]"
        answers = question["Answers"]
        if len(plain_text(question["Question"], f"{where}.Question")) > MAX_QUESTION:
            raise invalid(f"{where}.Question", f"longer than {MAX_QUESTION} characters")
        if len(answers) > MAX_ANSWERS:
            raise invalid(f"{where}.Answers", f"more than {MAX_ANSWERS} answers")
        for answer in answers:
            if not isinstance(answer, str):
                raise wrong_type(f"{where}.Answers", "a list of text")
            if not 0 < len(plain_text(answer, f"{where}.Answers")) <= MAX_ANSWER:
                raise invalid(f"{where}.Answers", f"an answer is 1 to {MAX_ANSWER} characters")
    actions = checked_list(params.get("IntentionActions"), "IntentionActions",
                           {"Text": str}, ("Text",))
    for index, item in enumerate(actions):
        if len(plain_text(item["Text"], f"IntentionActions[{index}].Text")) > MAX_QUESTION:
            raise invalid(f"IntentionActions[{index}].Text",
                          f"longer than {MAX_QUESTION} characters")
    return {"text": text, "questions": questions, "actions": actions}


def checked_choice(config: Mapping[str, Any], name: str, where: str,
                   choices: tuple[Any, ...]) -> None:
    """InvalidParameterValue when ``config[name]`` is given and not one of ``choices``."""
    if config.get(name) is not None and config[name] not in choices:
        raise invalid(f"{where}.{name}", f"{where}.{name} must be one of {choices}")


ENCRYPTION_MEMBERS = {"EncryptList": list, "CiphertextBlob": str, "Iv": str,
                      "Algorithm": str, "TagList": list}


def check_encryption(params: Mapping[str, Any]) -> None:
    """The shape of ``Encryption`` (its members and their types)."""
    checked_object(params.get("Encryption"), "Encryption", ENCRYPTION_MEMBERS)


def intention_type(intention: Mapping[str, Any], kind: Any = None) -> str:
    """``IntentionVerifyType`` of a token's intention settings: "0" 问答, "1" 点头, "2" 朗读,
    "" without any; ``kind`` (DetectAuth's Config.IntentionType 0/1) picks between
    questions and nods when both are given."""
    if intention.get("questions") and (kind in (None, 0) or not intention.get("actions")):
        return "0"
    if intention.get("actions"):
        return "1"
    return "2" if intention.get("text") else ""


# -- reading a token --------------------------------------------------------------------

def read(flows: Flows, token: Any, appid: str, unknown: Tc3Error) -> TokenRecord:
    """The record of ``token`` for ``appid``: ``unknown`` when there is no such token of
    this app, InvalidParameterValue.BizTokenExpired once its three-day read window is
    over (while the store still remembers it)."""
    record = flows.get(token, appid)
    if record is not None:
        return record
    if flows.past_reading(token, appid):
        raise Tc3Error("InvalidParameterValue.BizTokenExpired",
                       f"token {token} is past its three-day read window")
    raise unknown


def unfinished_code(flows: Flows, record: TokenRecord) -> int | None:
    """The ErrCode an unfinished token reads as: None inside its user window, after it
    15 (never opened) or 17 (opened, not finished) [choice]."""
    if flows.state(record) != EXPIRED:
        return None
    return 17 if record.state == OPENED else 15


def finished(flows: Flows, record: TokenRecord) -> bool:
    """Whether ``record`` has its outcome."""
    return flows.state(record) == FINISHED and record.outcome is not None


# -- the answer blocks ------------------------------------------------------------------

def null_block(names: tuple[str, ...]) -> dict[str, Any]:
    """A block with every member null (what an unrequested or unfinished block reads)."""
    return dict.fromkeys(names)


def ms(seconds: float) -> str:
    """A ReqTime: the 13-digit milliseconds of ``seconds``."""
    return str(int(round(seconds * 1000)))


def compare_lib(data: Mapping[str, Any]) -> str:
    """CompareLibType of a token: the caller's own photo, else the authority's library."""
    return str(data.get("compare_lib_type") or AUTHORITY_LIB)


def text_of(flows: Flows, record: TokenRecord, hide_identity: bool = False) -> dict[str, Any]:
    """``Text`` (DetectInfoText) of a token: every member null while unfinished in its
    window; ErrCode 15/17 after it; filled from the outcome once finished.
    ``hide_identity`` (E证通) answers ``IdCard``/``Name`` (and the Ocr* ones) empty."""
    text = null_block(TEXT_FIELDS)
    data = record.data
    code = unfinished_code(flows, record)
    if not finished(flows, record):
        if code is not None:
            text.update(ErrCode=code, ErrMsg=FLOW_CODES[record.flow][code].message,
                        Extra=data.get("extra") or "", LivenessDetail=[], Mobile="")
        return text
    outcome = record.outcome or {}
    final = outcome["attempts"][-1]
    identity = outcome.get("identity") or {}
    shown = {} if hide_identity else identity
    text.update(
        ErrCode=outcome["err_code"], ErrMsg=outcome["err_msg"],
        IdCard=shown.get("IdCard", ""), Name=shown.get("Name", ""), UseIDType=0,
        IdInfoFrom="OCR" if outcome.get("identity_from") == "ocr" else "其他",
        LiveStatus=final["live_status"], LiveMsg=final["live_msg"],
        Comparestatus=final["compare_status"], Comparemsg=final["compare_msg"],
        Sim=outcome["sim"], Extra=data.get("extra") or "",
        LivenessDetail=[detail(flows, record, attempt, shown) for attempt in
                        outcome["attempts"]],
        LivenessInfoTag=[], Mobile="", CompareLibType=compare_lib(data),
        LivenessMode=outcome.get("liveness_mode", 3), NFCRequestIds=[], NFCBillingCounts=0,
        LivenessActionSequence="1,2" if outcome.get("liveness_mode") == 2 else "")
    if outcome.get("identity_from") == "ocr":
        text.update(_card_text(shown))
    return text


def _card_text(identity: Mapping[str, str]) -> dict[str, Any]:
    """The Ocr* members the sample card reads as for ``identity`` (empty when hidden)."""
    number, name = identity.get("IdCard", ""), identity.get("Name", "")
    if not number:
        return {"OcrName": "", "OcrIdCard": "", **dict.fromkeys(CARD_TEXT, ""),
                "OcrBirth": "", "OcrGender": ""}
    born = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    return {"OcrName": name, "OcrIdCard": number, **CARD_TEXT,
            "OcrBirth": f"{born.year}/{born.month}/{born.day}",
            "OcrGender": "男" if int(number[16]) % 2 else "女"}


def detail(flows: Flows, record: TokenRecord, attempt: Mapping[str, Any],
           identity: Mapping[str, str]) -> dict[str, Any]:
    """One ``DetectDetail``: an attempt of the outcome (ReqTime in ms)."""
    entry = flows.code(record.flow, attempt["err_code"])
    return {"ReqTime": ms(attempt["time"]), "Seq": attempt["seq"],
            "Idcard": identity.get("IdCard", ""), "Name": identity.get("Name", ""),
            "Sim": attempt["sim"], "IsNeedCharge": bool(entry and entry.billed),
            "Errcode": attempt["err_code"], "Errmsg": attempt["err_msg"],
            "Livestatus": attempt["live_status"], "Livemsg": attempt["live_msg"],
            "Comparestatus": attempt["compare_status"], "Comparemsg": attempt["compare_msg"],
            "CompareLibType": compare_lib(record.data),
            "LivenessMode": (record.outcome or {}).get("liveness_mode", 3)}


def info_types(value: Any, digits: str) -> set[str]:
    """The blocks an ``InfoType`` asks for: its digits, each one of ``digits``; "0" (the
    default, also "") is all of them.  InvalidParameterValue for another character."""
    text = value or "0"
    if not all(char in digits for char in text):
        raise invalid("InfoType", f"InfoType must be digits of {digits}")
    return set(digits) - {"0"} if "0" in text else set(text)


def frame_count(params: Mapping[str, Any], most: int) -> int:
    """``BestFramesCount`` (0 when absent), at most ``most`` (the SDK's models: more gives
    ``most``); a negative count is InvalidParameterValue."""
    count = params.get("BestFramesCount") or 0
    if count < 0:
        raise invalid("BestFramesCount", f"BestFramesCount must be 0 to {most}")
    return min(int(count), most)


def card_block(params: Mapping[str, Any], photo: str, filled: bool) -> dict[str, Any]:
    """``IdCardData``: the sample card's two sides, the cut images with
    ``IsCutIdCardImage``, the avatar with ``IsNeedIdCardAvatar``; null members unless
    ``filled``."""
    if not filled:
        return null_block(CARD_FIELDS)
    cut = bool(params.get("IsCutIdCardImage"))
    return {"OcrFront": sample("card-front.jpg"), "OcrBack": sample("card-back.jpg"),
            "ProcessedFrontImage": sample("card-front.jpg") if cut else None,
            "ProcessedBackImage": sample("card-back.jpg") if cut else None,
            "Avatar": photo if params.get("IsNeedIdCardAvatar") else None,
            "WarnInfos": [], "BackWarnInfos": []}


def frame_block(count: int, photo: str, filled: bool) -> dict[str, Any]:
    """``BestFrame``: the best frame, and ``count`` frames when asked; null members unless
    ``filled``."""
    if not filled:
        return null_block(FRAME_FIELDS)
    return {"BestFrame": photo, "BestFrames": [photo] * count if count else None}


def video_block(record: TokenRecord, every: bool, filled: bool) -> dict[str, Any]:
    """``VideoData``: the sample video, and one per attempt with ``every``
    (IsReturnAllVideo); null members unless ``filled``."""
    if not filled:
        return null_block(VIDEO_FIELDS)
    attempts = (record.outcome or {}).get("attempts", [])
    return {"LivenessVideo": sample("video.mp4"),
            "LivenessVideos": [{"Seq": attempt["seq"], "Video": sample("video.mp4")}
                               for attempt in attempts] if every else None}


def intention_blocks(record: TokenRecord, wanted: set[str], photo: str,
                     done: bool) -> dict[str, Any]:
    """``IntentionVerifyData`` (InfoType 5, read-aloud), ``IntentionQuestionResult`` /
    ``IntentionActionResult`` (6), ``IsVerifyIntention`` and ``IntentionVerifyType``: each
    block null unless asked, finished and of the token's intention kind; the result passes
    unless the outcome's ``intention_code`` says otherwise."""
    kind = str(record.data.get("intention_type") or "")
    intention = record.data.get("intention") or {}
    code = int((record.outcome or {}).get("intention_code") or 0)
    message = "成功" if code == 0 else "意愿核身未通过"
    blocks: dict[str, Any] = {"IntentionVerifyData": None, "IntentionQuestionResult": None,
                              "IntentionActionResult": None}
    video = sample("video.mp4")
    if done and kind == "2" and "5" in wanted:
        blocks["IntentionVerifyData"] = {
            "IntentionVerifyVideo": video, "AsrResult": intention.get("text") or "",
            "ErrorCode": code, "ErrorMessage": message, "IntentionVerifyBestFrame": photo,
            "AsrResultSimilarity": None, "IntentionVerifyAudio": None}
    if done and kind == "0" and "6" in wanted:
        questions = intention.get("questions") or []
        blocks["IntentionQuestionResult"] = {
            "FinalResultDetailCode": code, "FinalResultMessage": message, "Video": video,
            "ScreenShot": [photo] * len(questions),
            "ResultCode": ["0" if code == 0 else "-1"] * len(questions),
            "AsrResult": [str(q["Answers"][0]) for q in questions], "Audios": [],
            "FinalResultCode": "0" if code == 0 else "-1"}
    if done and kind == "1" and "6" in wanted:
        actions = intention.get("actions") or []
        blocks["IntentionActionResult"] = {
            "FinalResultDetailCode": code, "FinalResultMessage": message,
            "Details": [{"Video": video, "ScreenShot": [photo]} for _ in actions]}
    blocks.update(IsVerifyIntention=bool(kind), IntentionVerifyType=kind)
    return blocks


def _is(value: Any, kind: type) -> bool:
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)
