"""Review findings: one test per bug fixed in the commands (cmd_*.c, ctx.c, main.c, aws.c)."""

import os
import re

MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
REF = "amazon-bedrock/" + MODEL
LONG = "Malformed input request: " + "expected one of [a, b] at #/messages; " * 20


def one_error_line(r):
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r
    return lines[0]


def test_review_200_error_ends_with_one_parenthesis(h):
    """An HTTP 200 that carries an error type: '... (request id X)', one ')' (not '))')."""
    shapes = [dict(), dict(fail_header=False, fail_body="typed"), dict(fail_body="empty"),
              dict(fail_header=False, fail_body={"__type": "UnknownOperationException"})]
    for kn in shapes:
        for extra in ([], ["--no-stream"], ["--json"]):
            h.emu.reset()
            h.emu.config(fail_next=1, fail_status=200, **kn)
            r = h.brock(["chat", "-m", REF] + extra + ["hi"])
            assert r.rc == 5, (kn, extra, r)
            rid = h.emu.log("runtime")[-1]["request_id"]
            line = one_error_line(r)
            assert "UnknownOperationException" in line, (kn, extra, r)
            assert line.endswith(" (request id %s)" % rid), (kn, extra, r)
            assert not line.endswith("))"), (kn, extra, r)


def test_review_long_error_message_keeps_request_id(h):
    """A long AWS error message must not push the request id out of the one error line."""
    assert len(LONG) > 600
    h.emu.config(fail_next=1, fail_status=400, fail_type="ValidationException", fail_message=LONG)
    r = h.brock(["chat", "-m", REF, "hi"])
    assert r.rc == 5, r
    rid = h.emu.log("runtime")[-1]["request_id"]
    line = one_error_line(r)
    assert line.startswith("brock: ValidationException: Malformed input request: "), r
    assert line.endswith(" (request id %s)" % rid), r


def test_review_long_error_message_keeps_request_id_models(h):
    h.emu.config(fail_next=1, fail_route="foundation-models", fail_status=400,
                 fail_type="ValidationException", fail_message=LONG)
    r = h.brock(["models", "list", "--refresh"])
    assert r.rc == 5, r
    rid = h.emu.log("foundation-models")[-1]["request_id"]
    line = one_error_line(r)
    assert "ValidationException: Malformed input request: " in line, r
    assert line.endswith(" (request id %s)" % rid), r


def test_review_long_exception_in_stream_keeps_request_id(h):
    h.emu.config(reply_text="abcdefgh", deltas=4, exception_after=3,
                 exception_type="validationException", exception_message=LONG)
    r = h.brock(["chat", "-m", REF, "hi"])
    assert r.rc == 5, r
    assert r.stdout == "abcd\n", r
    rid = h.emu.log("runtime")[-1]["request_id"]
    line = one_error_line(r)
    assert line.startswith("brock: validationException: Malformed input request: "), r
    assert line.endswith(" (request id %s)" % rid), r


def test_review_long_200_error_keeps_request_id(h):
    h.emu.config(fail_next=1, fail_status=200, fail_header=False,
                 fail_body={"__type": "UnknownOperationException", "message": LONG})
    r = h.brock(["chat", "-m", REF, "hi"])
    assert r.rc == 5, r
    rid = h.emu.log("runtime")[-1]["request_id"]
    line = one_error_line(r)
    assert line.startswith("brock: UnknownOperationException: Malformed input request: "), r
    assert line.endswith(" (request id %s)" % rid), r
    assert re.search(r"\(request id", line[:-60]) is None, r


def test_review_model_ref_invalid_utf8_is_usage_error(h):
    """SPEC 3.1: invalid UTF-8 in user input is exit 2, never sent (the model ref is user input)."""
    bad = os.fsdecode(b"amazon-bedrock/us.anthropic.claude\xff-v1:0")  # the raw byte on argv
    r = h.brock(["chat", "-m", bad, "hi"])
    assert r.rc == 2, r
    assert "UTF-8" in r.stderr, r
    assert not h.emu.log("runtime"), "the bad model id was sent"


def test_review_command_value_is_not_a_global_option(h):
    # `-s -v` gives the system prompt "-v"; -v must not turn on verbose mode
    r = h.brock(["chat", "-m", "us.anthropic.claude-sonnet-4-5-20250929-v1:0", "-s", "-v", "hi"])
    assert r.rc == 0, r.stderr
    assert "request body" not in r.stderr, r.stderr
    body = h.emu.log(route="converse-stream")[-1]["body"]
    assert '"-v"' in body, body


def test_review_named_missing_config_is_usage_error(h):
    r = h.brock(["--config", h.tmp + "/nope.json5", "chat", "-m", "x.y", "hi"])
    assert r.rc == 2, (r.rc, r.stderr)
    assert "does not exist" in r.stderr, r.stderr
