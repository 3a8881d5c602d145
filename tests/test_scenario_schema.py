"""Scenario validation: every message, with its file:line, and `mockface check`."""
from __future__ import annotations

import textwrap

import pytest
from click.testing import CliRunner

from mockface.cli import main
from mockface.core.scenarios.model import ScenarioError
from mockface.scenarios import load_scenario, parse_scenario


def problems_of(tmp_path, text: str) -> list[str]:
    path = tmp_path / "s.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return [f"{p.line}: {p.message}" for p in caught.value.problems]


def test_valid_scenario_parses_with_defaults(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text("rules:\n  - respond: {}\n")
    scenario = load_scenario(path)
    assert scenario.name == "ok" and scenario.description == ""
    rule = scenario.rules[0]
    assert len(rule.endpoints) == 5 and rule.times is None and not rule.cycle
    assert not rule.before_auth and rule.line == 2


def test_json_files_are_accepted(tmp_path):
    path = tmp_path / "j.json"
    path.write_text('{"name": "j", "rules": [{"endpoint": "livegetfour", '
                    '"respond": {"validate_data": "0042"}}]}')
    assert load_scenario(path).rules[0].responses[0].data == {"validate_data": "0042"}


@pytest.mark.parametrize("text,expected", [
    ("nmae: x\nrules: []\n", "1: unknown key 'nmae' in the scenario; did you mean 'name'?"),
    ("rules:\n  - endpiont: livegetfour\n    respond: {}\n",
     "2: unknown key 'endpiont' in rule 1; did you mean 'endpoint'?"),
    ("rules:\n  - respond: {similarty: 5}\n",
     "2: unknown key 'similarty' in a response; did you mean 'similarity'?"),
    ("rules:\n  - endpoint: livegetfor\n    respond: {}\n",
     "2: unknown endpoint 'livegetfor'; did you mean 'livegetfour'?"),
    ("rules:\n  - match: {idcard_numbr: '1'}\n    respond: {}\n",
     "2: unknown match field 'idcard_numbr'; did you mean 'idcard_number'?"),
    ("rules:\n  - respond: {fault: conection_reset}\n",
     "2: unknown fault 'conection_reset'; did you mean 'connection_reset'?"),
    ("description: x\n", "1: not a scenario: the top level must be a mapping with a 'rules' "
                          "list"),
    ("rules: {a: 1}\n", "1: rules must be a list, got a mapping"),
    ("rules:\n  - endpoint: livegetfour\n", "2: rule 1 has no 'respond'"),
    ("rules:\n  - respond: []\n", "2: respond must not be an empty list"),
    ("rules:\n  - respond: 5\n", "2: a response must be a mapping, got int"),
    ("rules:\n  - times: 0\n    respond: {}\n", "2: times must be >= 1, got 0"),
    ("rules:\n  - times: two\n    respond: {}\n", "2: times must be an integer, got str 'two'"),
    ("rules:\n  - cycle: yes please\n    respond: {}\n",
     "2: cycle must be true or false, got str 'yes please'"),
    ("rules:\n  - match: {seq: {regex: '('}}\n    respond: {}\n",
     "2: match.seq.regex is not a valid RE2 regular expression: missing ): ("),
    ("rules:\n  - match: {seq: {regex: a, present: true}}\n    respond: {}\n",
     "2: match.seq takes one of 'regex' or 'present'"),
    ("rules:\n  - match: {seq: {presnt: true}}\n    respond: {}\n",
     "2: unknown key 'presnt' in match.seq; did you mean 'present'?"),
    ("rules:\n  - match: {seq: [[1]]}\n    respond: {}\n", "2: match.seq must be a scalar"),
    ("rules:\n  - endpoint: idcardcompare\n    respond: {similarity: 100.5}\n",
     "3: similarity must be a number from 0 to 100, got 100.5"),
    ("rules:\n  - endpoint: livedetectpicture\n    respond: {score: 87.5}\n",
     "3: score must be an integer, got float 87.5"),
    ("rules:\n  - endpoint: livedetectpicture\n    respond: {score: 101}\n",
     "3: score must be from 0 to 100, got 101"),
    ("rules:\n  - endpoint: livedetectfour\n    respond: {sim: -1}\n",
     "3: sim must be from 0 to 100, got -1"),
    ("rules:\n  - endpoint: livegetfour\n    respond: {validate_data: 1234}\n",
     "3: validate_data must be a quoted string of digits, got 1234"),
    ("rules:\n  - endpoint: livegetfour\n    respond: {validate_data: '12a4'}\n",
     "3: validate_data must be a quoted string of digits, got '12a4'"),
    ("rules:\n  - endpoint: livegetfour\n    respond: {code: -5809}\n",
     "3: code -5809 is not documented for livegetfour (valid: 0, 3, 4,"),
    ("rules:\n  - endpoint: livedetectpicture\n    respond: {code: -4011}\n",
     "3: code -4011 is not documented for livedetectpicture"),
    ("rules:\n  - endpoint: livedetectfour\n    respond: {live_status: -4015}\n",
     "3: live_status -4015 is not a documented live code for livedetectfour (valid: 0, -5001,"),
    ("rules:\n  - endpoint: livedetectfour\n    respond: {compare_status: -5008}\n",
     "3: compare_status -5008 is not a documented compare code for livedetectfour"),
    ("rules:\n  - endpoint: livegetfour\n    respond: {similarity: 50}\n",
     "3: similarity is not part of the answer of livegetfour (it belongs to idcardcompare)"),
    ("rules:\n  - endpoint: livedetectfour\n    respond: {compare_status: -4015, sim: 80}\n",
     "3: sim cannot be set with a failing compare_status (they exist only when it is 0)"),
    ("rules:\n  - endpoint: livedetectfour\n    respond:\n      code: -4018\n      photo: abcd\n",
     "3: photo cannot be set with a failing compare_status"),
    ("rules:\n  - endpoint: idcardcompare\n    respond: {code: -5804, similarity: 50}\n",
     "3: code -5804 is a top-level error with no data: remove similarity"),
    ("rules:\n  - endpoint: livedetectfour\n    respond: {code: -5008, live_status: -5009}\n",
     "3: set either code or live_status, not both"),
    ("rules:\n  - respond: {fault: empty_body, code: 3}\n",
     "2: a fault answers nothing else: remove code"),
    ("rules:\n  - respond: {fault: {body: x}}\n",
     "2: fault mapping needs http_status (or timeout_ms)"),
    ("rules:\n  - respond: {fault: {timeout_ms: 10, http_status: 503}}\n",
     "2: fault {timeout_ms: ...} takes no other keys"),
    ("rules:\n  - respond: {fault: {http_status: 700}}\n",
     "2: fault.http_status must be from 100 to 599, got 700"),
    ("rules:\n  - respond: {delay_ms: [5, 1]}\n", "2: delay_ms min 5 is above max 1"),
    ("rules:\n  - respond: {delay_ms: [1, 2, 3]}\n",
     "2: delay_ms must be a number or [min, max], got a list (3 items)"),
    ("rules:\n  - respond: {delay_ms: -1}\n", "2: delay_ms must be from 0 to 600000, got -1"),
    ("rules:\n  - respond: {http_status: 42}\n", "2: http_status must be from 100 to 599, got 42"),
    ("rules:\n  - endpoint: livedetectfour\n    respond: {photo: '@@'}\n",
     "3: photo must be base64 text"),
    ("rules:\n  - respond: {code: 777, allow_undocumented: true}\n",
     "2: code 777 is undocumented: allow_undocumented needs a message"),
    ("rules: [\n", "2: not valid YAML/JSON"),
])
def test_validation_messages(tmp_path, text, expected):
    problems = problems_of(tmp_path, text)
    assert any(problem.startswith(expected) for problem in problems), problems


def test_code_list_names_valid_codes_for_the_endpoint(tmp_path):
    [problem] = problems_of(tmp_path, "rules:\n  - endpoint: livegetfour\n"
                                      "    respond: {code: 1}\n")
    assert "valid: 0, 3, 4, 5, 6, 9, 10, 11, 12, 13, 14, 15, 16, 21, 23, 24, 107, 108, 213" \
        in problem
    assert "allow_undocumented" in problem


def test_every_problem_is_reported_with_its_line(tmp_path):
    problems = problems_of(tmp_path, """\
        name: many
        rules:
          - endpoint: idcardcompare
            match:
              seq: "1"
              idcard_nam: x
            respond:
              - {similarity: 50}
              - {similarity: 500}
          - endpoint: livegetfour
            respond: {validate_data: "x"}
        """)
    assert problems == [
        "6: unknown match field 'idcard_nam'; did you mean 'idcard_name'?",
        "9: similarity must be a number from 0 to 100, got 500",
        "11: validate_data must be a quoted string of digits, got 'x'",
    ]


def test_allow_undocumented_with_message_is_accepted():
    scenario = parse_scenario({"rules": [{"endpoint": "livegetfour", "respond": {
        "code": 777, "message": "custom", "allow_undocumented": True}}]})
    response = scenario.rules[0].responses[0]
    assert (response.code, response.message) == (777, "custom")


def test_check_command_reports_and_exits_non_zero(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text("rules:\n  - respond: {}\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - respond: {scor: 5}\n")
    result = CliRunner().invoke(main, ["check", str(good), str(bad)])
    assert result.exit_code == 1
    assert f"{good}: ok (good, 1 rule)" in result.output
    assert f"{bad}:2: unknown key 'scor' in a response; did you mean 'score'?" in result.output
    assert CliRunner().invoke(main, ["check", str(good)]).exit_code == 0
    missing = CliRunner().invoke(main, ["check", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 1 and "nope.yaml:1: cannot read" in missing.output
