"""brock chat against the emulator: streaming text, options, attachments, errors, retries, exit codes."""

import json

MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
REF = "amazon-bedrock/" + MODEL


def last_runtime(h):
    log = h.emu.log("runtime")
    assert log, "no runtime request reached the emulator"
    return log[-1]


def req_json(entry):
    return json.loads(entry["body"])


def test_chat_streams_text(h):
    h.emu.config(reply_text="Hello from the emulator!", deltas=5)
    r = h.brock(["chat", "-m", REF, "hi there"])
    assert r.rc == 0, r
    assert r.stdout == "Hello from the emulator!\n", r
    assert "in=" in r.stderr and "stop=end_turn" in r.stderr, r
    e = last_runtime(h)
    assert e["route"] == "converse-stream", e
    assert e["model_id"] == MODEL, e
    b = req_json(e)
    assert b["messages"] == [{"role": "user", "content": [{"text": "hi there"}]}], b
