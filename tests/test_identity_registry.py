"""The identity registry grows (issue 23): an identity may carry phones, bank cards and ID
validity dates -- from config files (checked, with file:line messages), ``POST
/__mockface/identities`` and the pytest handle's ``new_identity`` -- and the registry finds
the owner of a phone or card by index, in memory and in Redis alike, with the reset
semantics of plain identities.  ``mockface identities`` generates such identities, and its
output loads back as config."""
from __future__ import annotations

import datetime
import json
import textwrap

import pytest
import yaml
from click.testing import CliRunner

from mockface.cli import main
from mockface.core import elements
from mockface.core.config import ConfigError, Settings, load_settings
from mockface.core.identity import (
    BankCard,
    IdentityRecord,
    Phone,
    RecordError,
    Validity,
    check_extras,
    valid_number,
    with_check_digit,
)
from mockface.core.state import IdentityRegistry, MemoryState
from mockface.emulator import Emulator
from mockface.identities import generate, is_valid
from mockface.products.legacy.stores import IDENTITIES
from mockface.testing import Mockface, MockfaceServer
from mockface.web.app import create_app
from mockface.web.server import start_background

from .redis_server import open_state
from .support import APPS, MAIN, REGISTERED_NAME, REGISTERED_NUMBER, make_settings

ZHANG = with_check_digit("11010519491231002")
LI = with_check_digit("44030419851120457")
WANG = with_check_digit("31011519900307123")
CMB_CREDIT = elements.with_luhn_digit("622575123456789")   # 16 digits
ICBC_DEBIT = elements.with_luhn_digit("622202123456789012")  # 19 digits
UNKNOWN_BIN = elements.with_luhn_digit("999999123456789")


def write(tmp_path, text: str):
    path = tmp_path / "mockface.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


# -- config files ---------------------------------------------------------------------------

def test_config_identities_carry_phones_bank_cards_and_validity(tmp_path):
    path = write(tmp_path, f"""\
        identities:
          - idcard_number: "{ZHANG}"
            idcard_name: 张三
            phones:
              - "13800138000"
              - 19212345678
              - {{number: "18912345678", status: 1, months: 5}}
            bank_cards:
              - {{number: "{CMB_CREDIT}"}}
              - {{number: "{ICBC_DEBIT}", bank: 工行牡丹卡, type: 4, status: 7}}
              - {{number: "{UNKNOWN_BIN}"}}
            validity: {{begin: "20100101", end: "00000000"}}
          - {{idcard_number: "{LI}", idcard_name: 李四}}
        """)
    settings = load_settings(path, env={})
    assert dict(settings.identities) == {ZHANG: "张三", LI: "李四"}
    assert dict(settings.identity_records) == {
        ZHANG: IdentityRecord(
            ZHANG, "张三",
            (Phone("13800138000", 0, 36), Phone("19212345678", 0, 36), Phone("18912345678", 1, 5)),
            (BankCard(CMB_CREDIT, None, 2, 0),  # the type follows from the BIN
             BankCard(ICBC_DEBIT, "工行牡丹卡", 4, 7),
             BankCard(UNKNOWN_BIN, None, 1, 0)),  # unknown BIN: 借记卡
            Validity("20100101", "00000000")),
        LI: IdentityRecord(LI, "李四"),
    }


IDENTITY = f"""\
    identities:
      - idcard_number: "{ZHANG}"
        idcard_name: 张三
"""


@pytest.mark.parametrize("extra,message", [
    ('phones: ["12012345678"]',
     "4: identities[0].phones[0]: must be a mobile number: 11 digits on a mainland number "
     "segment (such as 138), got '12012345678'"),
    ('phones:\n  - "13800138000"\n  - "1380013800"',
     "6: identities[0].phones[1]: must be a mobile number: 11 digits on a mainland number "
     "segment (such as 138), got '1380013800'"),
    ('phones:\n  - number: "13800138000"\n    status: 3',
     "6: identities[0].phones[0].status: must be one of 0 (正常), 1 (停机), 2 (销号), "
     "4 (不在网), 5 (在网但不可用), 99 (未知), got 3"),
    ('phones: [{number: "13800138000", months: -1}]',
     "4: identities[0].phones[0].months: must be an integer from 0 to 1200, got -1"),
    ('phones: [{numbr: "13800138000"}]',
     "4: identities[0].phones[0].numbr: unknown key (allowed: months, number, status)"),
    ('phones: [{status: 1}]', "4: identities[0].phones[0].number: is required"),
    ('phones: "13800138000"', "4: identities[0].phones: must be a list, got '13800138000'"),
    ('phones: [[1]]', "4: identities[0].phones[0]: must be a mobile number or a mapping with "
                      "number, status and months, got a list (1 item)"),
    ('phones: ["13800138000", 13800138000]',
     "4: identities[0].phones[1]: repeats phones[0] (13800138000)"),
    ('bank_cards:\n  - number: "6225751234567890"',
     "5: identities[0].bank_cards[0].number: fails the Luhn check (its last digit would be "
     f"{CMB_CREDIT[-1]}), got '6225751234567890'"),
    ('bank_cards: [{number: "62257512345"}]',
     "4: identities[0].bank_cards[0].number: must be 16 to 19 digits, got '62257512345'"),
    ('bank_cards: [{number: "6225 7512 3456 7890"}]',
     "4: identities[0].bank_cards[0].number: must be 16 to 19 digits, "
     "got '6225 7512 3456 7890'"),
    (f'bank_cards: ["{CMB_CREDIT}"]',
     "4: identities[0].bank_cards[0]: must be a mapping with number, bank, type and status, "
     f"got '{CMB_CREDIT}'"),
    (f'bank_cards: [{{number: "{CMB_CREDIT}", type: 5}}]',
     "4: identities[0].bank_cards[0].type: must be one of 1 (借记卡), 2 (贷记卡), 3 (预付费卡), "
     "4 (准贷记卡), got 5"),
    (f'bank_cards: [{{number: "{CMB_CREDIT}", status: 13}}]',
     "4: identities[0].bank_cards[0].status: must be one of 0 (正常), 1 (未开通无卡支付), "
     "2 (此卡被没收), 3 (无效卡号), 4 (无对应发卡行), 5 (未初始化或睡眠卡), 6 (作弊卡/吞卡), "
     "7 (已挂失), 8 (已过期), 9 (受限制的卡), 10 (密码错误次数超限), 11 (发卡行不支持此交易), "
     "12 (卡状态异常), got 13"),
    (f'bank_cards: [{{number: "{CMB_CREDIT}", bank: ""}}]',
     "4: identities[0].bank_cards[0].bank: must be a non-empty string, got ''"),
    ('validity:\n  begin: "2020-01-01"\n  end: "20300101"',
     "5: identities[0].validity.begin: must be a date YYYYMMDD, got '2020-01-01'"),
    ('validity:\n  begin: "20200101"\n  end: "20300230"',
     "6: identities[0].validity.end: must be a date YYYYMMDD or 00000000 (long-term), "
     "got '20300230' (no such date)"),
    ('validity:\n  begin: "20200101"\n  end: "20100101"',
     "6: identities[0].validity.end: is before validity.begin (20100101 < 20200101)"),
    ('validity: {begin: "20200101"}', "4: identities[0].validity.end: is required"),
    ('validity: "20200101"',
     "4: identities[0].validity: must be a mapping with begin and end, got '20200101'"),
    ('validity: {begin: 20200101, end: 0}',
     "4: identities[0].validity.end: must be a date YYYYMMDD or 00000000 (long-term), got 0"),
    ('phone: ["13800138000"]',
     "4: identities[0].phone: unknown key (allowed: bank_cards, idcard_name, idcard_number, "
     "phones, validity); did you mean 'phones'?"),
])
def test_config_identity_errors_name_the_line_and_key(tmp_path, extra, message):
    text = IDENTITY + textwrap.indent(extra, " " * 8) + "\n"
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    assert str(caught.value) == f"{path}:{message}"


def test_a_phone_or_card_given_to_two_config_identities_is_an_error(tmp_path):
    card = CMB_CREDIT
    path = write(tmp_path, f"""\
        identities:
          - {{idcard_number: "{ZHANG}", idcard_name: 张三, phones: ["13800138000"]}}
          - idcard_number: "{LI}"
            idcard_name: 李四
            phones: ["13900139000", "13800138000"]
        """)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    assert str(caught.value) == \
        f"{path}:5: identities[1].phones[1]: 13800138000 is identities[0]'s already"
    path = write(tmp_path, f"""\
        identities:
          - {{idcard_number: "{ZHANG}", idcard_name: 张三, bank_cards: [{{number: "{card}"}}]}}
          - {{idcard_number: "{LI}", idcard_name: 李四, bank_cards: [{{number: "{card}"}}]}}
        """)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    assert str(caught.value) == \
        f"{path}:3: identities[1].bank_cards[0]: {card} is identities[0]'s already"


def test_check_extras_says_where_and_what():
    with pytest.raises(RecordError) as caught:
        check_extras({"bank_cards": [{"number": CMB_CREDIT}, {"number": CMB_CREDIT}]})
    assert (caught.value.path, str(caught.value)) == (
        ("bank_cards", 1), f"bank_cards[1]: repeats bank_cards[0] ({CMB_CREDIT})")
    assert check_extras({"phones": None, "bank_cards": None, "validity": None}) == \
        {"phones": (), "bank_cards": (), "validity": None}


# -- the registry, in memory and in Redis -----------------------------------------------------

CONFIGURED = IdentityRecord(ZHANG, "张三", (Phone("13800138000"),),
                            (BankCard(CMB_CREDIT, None, 2),), Validity("20100101", "20300101"))
SETTINGS = Settings(apps=APPS, identities={ZHANG: "张三", REGISTERED_NUMBER: REGISTERED_NAME},
                    identity_records={ZHANG: CONFIGURED})


@pytest.fixture(params=["memory", "redis"])
def registry(request):
    if request.param == "memory":
        return MemoryState(SETTINGS).store(IDENTITIES)
    server = request.getfixturevalue("redis_server")
    return open_state(server.url(), SETTINGS).store(IDENTITIES)


def test_records_and_owners_of_configured_identities(registry):
    assert registry.record_for(ZHANG) == CONFIGURED
    assert registry.record_for(REGISTERED_NUMBER) == IdentityRecord(REGISTERED_NUMBER,
                                                                    REGISTERED_NAME)
    assert registry.record_for(LI) is None
    assert registry.owner_of_phone("13800138000") == CONFIGURED
    assert registry.owner_of_card(CMB_CREDIT) == CONFIGURED
    assert registry.owner_of_phone("13900139000") is None
    assert registry.owner_of_card(ICBC_DEBIT) is None
    assert (registry.name_for(ZHANG), registry.name_for(LI), len(registry)) == ("张三", None, 2)


def test_run_time_records_are_found_by_phone_and_card_and_go_with_their_appid(registry):
    li = IdentityRecord(LI, "李四", (Phone("13900139000", 2, 7), Phone("19212345678")),
                        (BankCard(ICBC_DEBIT, "工行", 1, 7),), Validity("20200101", "00000000"))
    wang = IdentityRecord(WANG, "王五", (Phone("18912345678"),))
    registry.add_record(li, "app-a")
    registry.add_record(wang, "app-b")
    assert registry.record_for(LI) == li and registry.name_for(LI) == "李四"
    assert registry.owner_of_phone("13900139000") == li
    assert registry.owner_of_phone("19212345678") == li
    assert registry.owner_of_card(ICBC_DEBIT) == li
    assert registry.owner_of_phone("18912345678") == wang
    assert len(registry) == 4
    registry.clear("app-a")
    assert registry.record_for(LI) is None
    assert (registry.owner_of_phone("13900139000"), registry.owner_of_card(ICBC_DEBIT)) == \
        (None, None)
    assert registry.owner_of_phone("18912345678") == wang
    registry.clear()
    assert registry.owner_of_phone("18912345678") is None
    assert registry.owner_of_phone("13800138000") == CONFIGURED  # configured ones stay
    assert len(registry) == 2


def test_records_lists_the_configured_and_the_run_time_ones_newest_winning(registry):
    configured = {record.number: record for record in registry.records()}
    assert configured == {ZHANG: CONFIGURED,
                          REGISTERED_NUMBER: IdentityRecord(REGISTERED_NUMBER, REGISTERED_NAME)}
    li = IdentityRecord(LI, "李四", (Phone("13900139000"),))
    moved = IdentityRecord(ZHANG, "张叁")
    registry.add_record(li, "app-a")
    registry.add_record(moved, "app-a")
    listed = {record.number: record for record in registry.records()}
    assert listed == {ZHANG: moved, REGISTERED_NUMBER: configured[REGISTERED_NUMBER], LI: li}
    registry.clear("app-a")
    assert {record.number: record for record in registry.records()} == configured


def test_a_run_time_record_replaces_the_configured_one_until_cleared(registry):
    moved = IdentityRecord(ZHANG, "张叁", (Phone("13700137000"),))
    registry.add_record(moved, "app-a")
    assert registry.record_for(ZHANG) == moved and registry.name_for(ZHANG) == "张叁"
    assert registry.owner_of_phone("13700137000") == moved
    # the configured phone and card belong to nobody while the number is re-registered
    assert registry.owner_of_phone("13800138000") is None
    assert registry.owner_of_card(CMB_CREDIT) is None
    registry.clear("app-b")
    assert registry.record_for(ZHANG) == moved
    registry.clear("app-a")
    assert registry.record_for(ZHANG) == CONFIGURED
    assert registry.owner_of_phone("13800138000") == CONFIGURED
    assert registry.owner_of_phone("13700137000") is None


def test_a_phone_registered_twice_belongs_to_the_last_one_then_back(registry):
    li = IdentityRecord(LI, "李四", (Phone("13800138000"),))
    wang = IdentityRecord(WANG, "王五", (Phone("13800138000"),), (BankCard(CMB_CREDIT),))
    registry.add_record(li, "app-a")
    assert registry.owner_of_phone("13800138000") == li  # before the configured owner
    registry.add_record(wang, "app-b")
    assert registry.owner_of_phone("13800138000") == wang
    assert registry.owner_of_card(CMB_CREDIT) == wang
    registry.clear("app-b")
    assert registry.owner_of_phone("13800138000") == li
    assert registry.owner_of_card(CMB_CREDIT) == CONFIGURED
    registry.clear("app-a")
    assert registry.owner_of_phone("13800138000") == CONFIGURED


def test_re_registering_a_number_drops_its_old_phones(registry):
    registry.add_record(IdentityRecord(LI, "李四", (Phone("13900139000"),)), "app-a")
    registry.add(LI, "李四", "app-a")  # the legacy call: a name alone
    assert registry.record_for(LI) == IdentityRecord(LI, "李四")
    assert registry.owner_of_phone("13900139000") is None


def test_redis_reads_entries_of_earlier_releases(redis_server):
    state = open_state(redis_server.url(), SETTINGS)
    registry = state.store(IDENTITIES)
    key = f"{state.prefix}identities"
    state.redis.hset(key, LI, json.dumps(["李四", "app-a"]))  # [name, appid]
    state.redis.hset(key, WANG, "王五")  # a bare name
    assert registry.record_for(LI) == IdentityRecord(LI, "李四")
    assert registry.record_for(WANG) == IdentityRecord(WANG, "王五")
    assert (registry.name_for(LI), registry.name_for(WANG)) == ("李四", "王五")
    registry.clear("app-a")
    assert (registry.name_for(LI), registry.name_for(WANG)) == (None, "王五")


def test_redis_keeps_the_record_as_json_in_the_same_hash_and_indexes(redis_server):
    state = open_state(redis_server.url(), SETTINGS)
    registry = state.store(IDENTITIES)
    record = IdentityRecord(LI, "李四", (Phone("13900139000"),), (BankCard(ICBC_DEBIT),))
    registry.add_record(record, "app-a")
    stored = json.loads(state.redis.hget(f"{state.prefix}identities", LI))
    assert stored == {**record.as_dict(), "appid": "app-a"}
    assert state.redis.hget(f"{state.prefix}identities:phones", "13900139000") == LI.encode()
    assert state.redis.hget(f"{state.prefix}identities:cards", ICBC_DEBIT) == LI.encode()
    # a second process sees it
    other = open_state(redis_server.url().split("?")[0] + "?prefix=" + state.prefix,
                       SETTINGS).store(IDENTITIES)
    assert other.owner_of_card(ICBC_DEBIT) == record


def test_the_legacy_registry_still_answers_names_alone():
    legacy = IdentityRegistry({ZHANG: "张三"})
    assert (legacy.name_for(ZHANG), legacy.record_for(ZHANG)) == \
        ("张三", IdentityRecord(ZHANG, "张三"))
    legacy.add(LI, "李四", "x")
    assert legacy.name_for(LI) == "李四" and len(legacy) == 2


# -- the admin API ------------------------------------------------------------------------------

def test_admin_registers_a_whole_record(client, emulator):
    answer = client.post("/__mockface/identities", json={
        "idcard_number": LI, "idcard_name": "李四", "appid": MAIN.appid,
        "phones": ["13900139000", {"number": "19212345678", "status": 4, "months": 2}],
        "bank_cards": [{"number": CMB_CREDIT, "status": 7}],
        "validity": {"begin": "20200101", "end": "20400101"}})
    assert answer.status_code == 201
    assert answer.get_json() == {
        "idcard_number": LI, "idcard_name": "李四", "appid": MAIN.appid,
        "phones": [{"number": "13900139000", "status": 0, "months": 36},
                   {"number": "19212345678", "status": 4, "months": 2}],
        "bank_cards": [{"number": CMB_CREDIT, "bank": None, "type": 2, "status": 7}],
        "validity": {"begin": "20200101", "end": "20400101"}}
    registry = emulator.state.store(IDENTITIES)
    assert registry.owner_of_phone("19212345678") == IdentityRecord(
        LI, "李四", (Phone("13900139000"), Phone("19212345678", 4, 2)),
        (BankCard(CMB_CREDIT, None, 2, 7),), Validity("20200101", "20400101"))
    emulator.reset(MAIN.appid)
    assert registry.owner_of_phone("19212345678") is None


def test_admin_answers_a_name_alone_as_before(client):
    answer = client.post("/__mockface/identities",
                         json={"idcard_number": LI, "idcard_name": "李四"})
    assert (answer.status_code, answer.get_json()) == (
        201, {"idcard_number": LI, "idcard_name": "李四", "appid": None})


@pytest.mark.parametrize("extra,message", [
    ({"phones": ["1380013800"]}, "phones[0]: must be a mobile number: 11 digits on a "
                                 "mainland number segment (such as 138), got '1380013800'"),
    ({"bank_cards": [{"number": "6225751234567890"}]},
     f"bank_cards[0].number: fails the Luhn check (its last digit would be {CMB_CREDIT[-1]}), "
     "got '6225751234567890'"),
    ({"validity": {"begin": "20200101", "end": "2019"}},
     "validity.end: must be a date YYYYMMDD or 00000000 (long-term), got '2019'"),
    ({"validity": {"begin": "20200101", "end": "20190101"}},
     "validity.end: is before validity.begin (20190101 < 20200101)"),
    ({"phones": "13800138000"}, "phones must be a JSON array"),
])
def test_admin_refuses_malformed_extras(client, extra, message):
    answer = client.post("/__mockface/identities",
                         json={"idcard_number": LI, "idcard_name": "李四", **extra})
    assert answer.status_code == 400
    assert answer.get_json()["error"].startswith(message)


def test_the_admin_document_shows_the_new_keys(client):
    paths = client.get("/__mockface/openapi/admin.json").get_json()["paths"]
    schema = paths["/__mockface/identities"]["post"]["requestBody"]["content"][
        "application/json"]["schema"]
    assert {name: value["type"] for name, value in schema["properties"].items()} == {
        "idcard_number": "string", "idcard_name": "string", "phones": "array",
        "bank_cards": "array", "validity": "object", "appid": "string"}


# -- the generator and the pytest handle ---------------------------------------------------------

TODAY = datetime.date(2026, 12, 4)


def test_generated_identities_carry_valid_phones_cards_and_dates():
    people = generate(200, seed=11, phone_count=2, card_count=2, today=TODAY)
    assert all(is_valid(person, TODAY) for person in people)
    for person in people:
        assert set(person) == {"idcard_number", "idcard_name", "phones", "bank_cards",
                               "validity"}
        assert len(person["phones"]) == len({p["number"] for p in person["phones"]}) == 2
        for phone in person["phones"]:
            assert elements.valid_mobile(phone["number"]) and phone["status"] == 0
        for card in person["bank_cards"]:
            entry = elements.bank_of(card["number"])
            assert entry is not None and elements.well_formed_card(card["number"])
            assert len(card["number"]) == entry.length
            assert (card["bank"], card["type"], card["status"]) == \
                (entry.account_bank, entry.card_type, 0)
        begin, end = person["validity"]["begin"], person["validity"]["end"]
        assert begin <= TODAY.strftime("%Y%m%d")
        assert end == "00000000" or end > TODAY.strftime("%Y%m%d")
        check_extras(person)
    assert generate(3, seed=11, phone_count=2, card_count=2, today=TODAY) == people[:3]
    assert {"phones", "bank_cards", "validity"}.isdisjoint(
        generate(1, seed=1, phone_count=0, card_count=0, validity_dates=False)[0])
    assert generate(1, phones=[])[0]["phones"] == []


def test_generated_validity_follows_the_age_rules():
    for person in generate(300, seed=5, today=TODAY):
        number, dates = person["idcard_number"], person["validity"]
        assert valid_number(number, TODAY)
        born = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        begin = datetime.date(int(dates["begin"][:4]), int(dates["begin"][4:6]),
                              int(dates["begin"][6:]))
        age = (begin - born).days // 365
        if dates["end"] == "00000000":
            assert age >= 46
        else:
            years = int(dates["end"][:4]) - begin.year
            assert years == (5 if age < 16 else 10 if age < 26 else 20)


def test_generator_overrides_are_checked():
    with pytest.raises(RecordError, match=r"phones\[0\]: must be a mobile number"):
        generate(1, phones=["123"])
    with pytest.raises(ValueError, match="unknown identity field"):
        generate(1, phone=["13800138000"])


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_the_identities_command_loads_as_config(tmp_path, fmt):
    result = CliRunner().invoke(main, ["identities", "-n", "6", "--seed", "4",
                                       "--bank-cards", "2", "--format", fmt])
    assert result.exit_code == 0, result.output
    people = json.loads(result.output) if fmt == "json" else \
        yaml.safe_load(result.output)["identities"]
    config = tmp_path / "mockface.yaml"
    config.write_text(result.output if fmt == "yaml" else
                      yaml.safe_dump({"identities": people}, allow_unicode=True),
                      encoding="utf-8")
    settings = load_settings(config, env={})
    assert len(settings.identity_records) == 6
    for person in people:
        record = settings.identity_records[person["idcard_number"]]
        assert record.as_dict() == person
        assert len(record.phones) == 1 and len(record.bank_cards) == 2


def test_the_yaml_output_is_one_block_per_identity():
    result = CliRunner().invoke(main, ["identities", "-n", "1", "--seed", "2", "--no-validity",
                                       "--phones", "0"])
    lines = result.output.splitlines()
    assert lines[0] == "identities:"
    assert lines[1].startswith('  - idcard_number: "') and lines[2].startswith("    idcard_name: ")
    assert lines[3:5] == ["    bank_cards:", lines[4]] and lines[4].startswith("      - {number: ")
    assert len(lines) == 5


def test_new_identity_registers_the_whole_record_on_the_server():
    emulator = Emulator(make_settings())
    background = start_background(create_app(emulator=emulator))
    try:
        with MockfaceServer.attach(background.url, worker="registry") as server, \
                Mockface(server) as handle:
            person = handle.new_identity()
            registry = emulator.state.store(IDENTITIES)
            record = registry.record_for(person["idcard_number"])
            assert record is not None and record.as_dict() == person
            assert registry.owner_of_phone(person["phones"][0]["number"]) == record
            assert registry.owner_of_card(person["bank_cards"][0]["number"]) == record
            fixed = handle.new_identity(idcard_name="张三", phones=["13800138000"],
                                        bank_cards=[], validity=None)
            assert fixed["idcard_name"] == "张三"
            assert fixed["phones"] == [{"number": "13800138000", "status": 0, "months": 36}]
            assert "bank_cards" not in fixed and "validity" not in fixed
            handle.reset()
            assert registry.record_for(person["idcard_number"]) is None
    finally:
        background.stop()
