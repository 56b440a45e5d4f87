"""The official clients against `brock serve` (SPEC 7.1 to 7.3): `openai`, `@anthropic-ai/sdk`,
`@aws-sdk/client-bedrock-runtime` and Claude Code (`claude -p`), pinned by tests/clients/package-lock.json
(vendor/deps.sh runs `npm ci` there). Each test starts the gateway in front of the emulator with a key,
runs one case of a node script in tests/clients with the endpoint and key in its environment, and asserts
on the JSON line the script prints (what the client saw) and on what the emulator received.

The tests skip only when node or the npm modules are missing (with the reason); a missing gateway
route is a failure."""

import base64
import json
import os
import shutil
import struct
import subprocess
import sys

from test_serve import MODEL, REF, serve

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CLIENTS = os.path.join(ROOT, "tests", "clients")
sys.path.insert(0, os.path.join(ROOT, "tests", "emulator"))
import invoke_emu  # noqa: E402

KEY = "sk-brock-clients-key-0001"
EMBED = "amazon.titan-embed-text-v2:0"


def need(h, package):
    """Skip (with the reason) when node or the package is not installed; never for brock's sake.
    Under CI (CI=true) the recipe installed them, so their absence is a failure, not a skip."""
    why = None
    if not shutil.which("node"):
        why = "node is not installed (vendor/deps.sh installs nodejs and npm)"
    elif not os.path.isfile(os.path.join(CLIENTS, "node_modules", package, "package.json")):
        why = "%s is not installed: run vendor/deps.sh (npm ci in tests/clients)" % package
    if why and os.environ.get("CI") == "true":
        raise AssertionError("CI: " + why)
    if why:
        h.skip(why)


def gateway(h, args=(), env=None):
    e = {"BROCK_API_KEYS": h.secret(KEY)}
    e.update(env or {})
    return serve(h, args, env=e)


def node(h, s, script, case, timeout=90, **env):
    """Run `node tests/clients/SCRIPT CASE` against the gateway; -> the JSON it printed."""
    e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": h.home,
         "BROCK_URL": "http://127.0.0.1:%d" % s.port, "BROCK_KEY": KEY, "BROCK_MODEL": REF,
         "BROCK_EMBED_MODEL": EMBED, "NO_PROXY": "*"}
    e.update({k: str(v) for k, v in env.items()})
    p = subprocess.run(["node", os.path.join(CLIENTS, script), case], env=e, cwd=h.tmp,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    out, err = p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
    assert p.returncode == 0, "%s %s exited %s\nstdout: %s\nstderr: %s\nbrock: %s" % (
        script, case, p.returncode, out[-2000:], err[-4000:], s.stderr()[-2000:])
    lines = [line for line in out.splitlines() if line.startswith("{")]
    assert lines, "%s %s printed no JSON: %s %s" % (script, case, out, err)
    return json.loads(lines[-1])


def runtime_bodies(h):
    return [json.loads(e["body"]) for e in h.emu.log("runtime")]


# ---- openai ------------------------------------------------------------------

def openai(h, case, **env):
    need(h, "openai")
    s = gateway(h)
    return s, node(h, s, "openai.mjs", case, **env)


def test_openai_chat(h):
    h.emu.config(reply_text="Hello from the emulator!", usage={"inputTokens": 11, "outputTokens": 7})
    _, r = openai(h, "chat")
    assert r["object"] == "chat.completion" and r["id"].startswith("chatcmpl-") and r["model"] == REF, r
    assert r["message"]["role"] == "assistant" and r["message"]["content"] == "Hello from the emulator!", r
    assert r["finish"] == "stop", r
    assert r["usage"]["prompt_tokens"] == 11 and r["usage"]["completion_tokens"] == 7, r
    assert r["usage"]["total_tokens"] == 18, r
    (body,) = runtime_bodies(h)
    assert h.emu.log("runtime")[0]["model_id"] == MODEL
    assert body["system"] == [{"text": "Be brief."}], body
    assert body["messages"] == [{"role": "user", "content": [{"text": "hello openai"}]}], body
    assert body["inferenceConfig"]["maxTokens"] == 100, body


def test_openai_chat_stream_include_usage(h):
    pieces = ["Hel", "lo ", "wor", "ld \U0001F600"]
    h.emu.config(reply_chunks=pieces, usage={"inputTokens": 5, "outputTokens": 4, "cacheReadInputTokens": 3})
    _, r = openai(h, "chat_stream")
    assert r["text"] == "".join(pieces), r
    assert r["finish"] == ["stop"], r
    assert len(r["ids"]) == 1 and r["ids"][0].startswith("chatcmpl-") and r["models"] == [REF], r
    # one usage chunk with no choices; prompt_tokens counts the cached tokens too
    assert len(r["usage"]) == 1 and r["usage"][0]["choices"] == 0, r
    u = r["usage"][0]["usage"]
    assert u["prompt_tokens"] == 8 and u["completion_tokens"] == 4, u
    assert u["prompt_tokens_details"]["cached_tokens"] == 3, u
    assert h.emu.log("runtime")[0]["route"] == "converse-stream"
    assert runtime_bodies(h)[0]["inferenceConfig"]["maxTokens"] == 100
    h.emu.reset()
    _, r = openai(h, "chat_stream_no_usage")
    assert r["text"] == "You said: no usage" and r["usage"] == [] and r["finish"] == ["stop"], r


def test_openai_tools(h):
    h.emu.config(reply_text="Let me check.", tool_use=[
        {"toolUseId": "tooluse_1", "name": "get_weather", "input": {"city": "Paris"}, "chunks": 3}])
    _, r = openai(h, "tools")
    msg = r["message"]
    assert r["finish"] == "tool_calls", r
    assert msg["content"] == "Let me check.", msg
    (tc,) = msg["tool_calls"]
    assert tc["id"] == "tooluse_1" and tc["type"] == "function", tc
    assert tc["function"]["name"] == "get_weather" and json.loads(tc["function"]["arguments"]) == {"city": "Paris"}
    first, second = runtime_bodies(h)
    spec = first["toolConfig"]["tools"][0]["toolSpec"]
    assert spec["name"] == "get_weather" and spec["inputSchema"]["json"]["required"] == ["city"], spec
    # the second turn carries the call and its result back as Bedrock blocks
    roles = [m["role"] for m in second["messages"]]
    assert roles == ["user", "assistant", "user"], second
    use = [b["toolUse"] for b in second["messages"][1]["content"] if "toolUse" in b]
    assert use == [{"toolUseId": "tooluse_1", "name": "get_weather", "input": {"city": "Paris"}}], second
    res = second["messages"][2]["content"][0]["toolResult"]
    assert res["toolUseId"] == "tooluse_1" and res["content"] == [{"text": "Sunny, 21 C"}], res


def test_openai_tools_stream(h):
    h.emu.config(reply_text="", tool_use=[
        {"toolUseId": "tu_a", "name": "get_weather", "input": {"city": "Oslo"}, "chunks": 3},
        {"toolUseId": "tu_b", "name": "get_weather", "input": {"city": "Rome"}, "chunks": 2}])
    _, r = openai(h, "tools_stream")
    assert sorted(r["tools"]) == ["0", "1"], r
    assert r["tools"]["0"]["id"] == "tu_a" and json.loads(r["tools"]["0"]["args"]) == {"city": "Oslo"}, r
    assert r["tools"]["1"]["id"] == "tu_b" and json.loads(r["tools"]["1"]["args"]) == {"city": "Rome"}, r
    assert r["finish"] == ["tool_calls"], r


def test_openai_reasoning_effort(h):
    h.emu.config(reasoning={"text": "Let me think about it.", "signature": "sig-openai-1"}, reply_text="42")
    _, r = openai(h, "reasoning")
    assert r["message"]["content"] == "42", r
    assert r["message"]["reasoning_content"] == "Let me think about it.", r
    assert r["stream"]["reasoning"] == "Let me think about it." and r["stream"]["text"] == "42", r
    high, low = (b["additionalModelRequestFields"]["thinking"] for b in runtime_bodies(h))
    assert high["type"] == "enabled" and low["type"] == "enabled", (high, low)
    assert high["budget_tokens"] > low["budget_tokens"] > 0, (high, low)


def test_openai_errors(h):
    _, r = openai(h, "bad_key")
    e = r["error"]
    assert e and e["class"] == "AuthenticationError" and e["status"] == 401 and e["isApiError"], r
    assert e["code"] == "invalid_api_key", e
    h.emu.reset()
    # Bedrock's ResourceNotFoundException for the first model; another provider's ref and an unknown
    # model looked up by the gateway itself never reach Bedrock
    h.emu.config(failures=[{"route": "runtime", "count": 1, "status": 404, "type": "ResourceNotFoundException",
                            "message": "Model not found"}])
    _, r = openai(h, "unknown_model")
    for m in ("amazon-bedrock/no.such-model-v9:0", "openai/gpt-4o", "retrieve"):
        assert r[m] and r[m]["class"] == "NotFoundError" and r[m]["status"] == 404, (m, r)
        assert r[m]["code"] == "model_not_found", (m, r)
    assert [e["model_id"] for e in h.emu.log("runtime")] == ["no.such-model-v9:0"], h.emu.log("runtime")


def test_openai_stream_error_after_first_byte(h):
    h.emu.config(reply_chunks=["one ", "two ", "three"], exception_after=3,
                 exception_type="modelStreamErrorException", exception_message="stream broke (emulated)")
    _, r = openai(h, "stream_error")
    assert r["text"] == "one two ", r  # what came before the failure, then an error, never a quiet stop
    assert r["finish"] == [], r
    e = r["error"]
    assert e and e["isApiError"] and "stream broke (emulated)" in e["message"], r


def test_openai_models(h):
    _, r = openai(h, "models")
    assert REF in r["ids"] and len(r["ids"]) > 10, r
    assert r["one"]["id"] == REF and r["one"]["object"] == "model", r


def _floats(b64):
    raw = base64.b64decode(b64)
    return list(struct.unpack("<%df" % (len(raw) // 4), raw))


def _close(a, b):
    return len(a) == len(b) and all(abs(x - y) < 1e-6 for x, y in zip(a, b))


def test_openai_embeddings_float_and_base64(h):
    _, r = openai(h, "embeddings")
    f = r["float"]
    assert f["object"] == "list" and f["model"].endswith(EMBED), f
    assert [d["index"] for d in f["data"]] == [0, 1] and all(d["object"] == "embedding" for d in f["data"]), f
    for d, text in zip(f["data"], ("first text", "second text")):
        assert _close(d["embedding"], invoke_emu.vector(text, 1024)), (text, d["embedding"][:4])
    assert f["usage"]["prompt_tokens"] == 4, f["usage"]
    # encoding_format base64: little-endian float32, the same vector
    b = r["base64"]
    emb = b["data"][0]["embedding"]
    assert isinstance(emb, str), b
    assert _close(_floats(emb), invoke_emu.vector("first text", 1024)), _floats(emb)[:4]
    # no encoding_format: the SDK asks for base64 and decodes it; dimensions reach Titan
    d = r["default"]
    assert _close(d["data"][1]["embedding"], invoke_emu.vector("second text", 256)), d["data"][1]["embedding"][:4]
    invokes = h.emu.log("invoke")
    assert len(invokes) == 2 + 1 + 2, [e["path"] for e in invokes]  # Titan takes one text per call
    bodies = [json.loads(e["body"]) for e in invokes]
    assert [b["inputText"] for b in bodies] == ["first text", "second text", "first text"] + \
        ["first text", "second text"], bodies
    assert [b.get("dimensions") for b in bodies[3:]] == [256, 256], bodies


# ---- @anthropic-ai/sdk ---------------------------------------------------------

CLAUDE = "claude-sonnet-4-5-20250929"       # Anthropic's own name: the gateway resolves it (SPEC 7.2)
UPSTREAM = ("converse", "converse-stream", "invoke", "invoke-with-response-stream")


def anthropic(h, case, **env):
    need(h, "@anthropic-ai/sdk")
    s = gateway(h)
    return s, node(h, s, "anthropic.mjs", case, BROCK_ANTHROPIC_MODEL=CLAUDE, **env)


def upstream(h):
    """The model calls the gateway made, whichever Bedrock API it chose (Converse or InvokeModel)."""
    return [e for e in h.emu.log() if e["route"] in UPSTREAM]


def _anth_block(b):
    t = b.get("type")
    if t == "text":
        out = [("text", b["text"])]
    elif t == "image":
        out = [("image", b["source"]["data"])]
    elif t == "tool_use":
        out = [("tool_use", b["id"], b["name"], b["input"])]
    elif t == "tool_result":
        c = b.get("content")
        text = c if isinstance(c, str) else "".join(x.get("text", "") for x in c or [])
        out = [("tool_result", b["tool_use_id"], text)]
    elif t in ("thinking", "redacted_thinking"):
        out = [(t, b.get("thinking", b.get("data")), b.get("signature"))]
    else:
        out = [(t,)]
    if b.get("cache_control"):
        out.append(("cache", b["cache_control"].get("ttl")))
    return out


def _converse_block(b):
    if "text" in b:
        return [("text", b["text"])]
    if "image" in b:
        return [("image", b["image"]["source"]["bytes"])]
    if "toolUse" in b:
        u = b["toolUse"]
        return [("tool_use", u["toolUseId"], u["name"], u["input"])]
    if "toolResult" in b:
        r = b["toolResult"]
        return [("tool_result", r["toolUseId"], "".join(x.get("text", "") for x in r["content"]))]
    if "reasoningContent" in b:
        rc = b["reasoningContent"]
        if "redactedContent" in rc:
            return [("redacted_thinking", rc["redactedContent"], None)]
        return [("thinking", rc["reasoningText"]["text"], rc["reasoningText"].get("signature"))]
    if "cachePoint" in b:
        return [("cache", b["cachePoint"].get("ttl"))]
    return [tuple(b)]


def turns(entry):
    """-> (system blocks, [(role, blocks)], tools): one shape for a Converse or an Anthropic body."""
    body = json.loads(entry["body"])
    if entry["route"].startswith("converse"):
        system = [x for b in body.get("system", []) for x in _converse_block(b)]
        msgs = [(m["role"], [x for b in m["content"] for x in _converse_block(b)]) for m in body["messages"]]
        tools = []
        for t in (body.get("toolConfig") or {}).get("tools", []):
            tools += [("tool", t["toolSpec"]["name"])] if "toolSpec" in t else [("cache", t["cachePoint"].get("ttl"))]
        return system, msgs, tools
    assert body["anthropic_version"] == "bedrock-2023-05-31", body
    sysv = body.get("system") or []
    system = [("text", sysv)] if isinstance(sysv, str) else [x for b in sysv for x in _anth_block(b)]
    msgs = []
    for m in body["messages"]:
        c = m["content"]
        msgs.append((m["role"], [("text", c)] if isinstance(c, str) else [x for b in c for x in _anth_block(b)]))
    tools = []
    for t in body.get("tools", []):
        tools.append(("tool", t["name"]))
        if t.get("cache_control"):
            tools.append(("cache", t["cache_control"].get("ttl")))
    return system, msgs, tools


def real_events(events):
    return [e for e in events if e["type"] != "ping"]


def check_event_order(events):
    ev = real_events(events)
    types = [e["type"] for e in ev]
    assert types[0] == "message_start" and types[-2:] == ["message_delta", "message_stop"], types
    open_ = set()
    for e in ev[1:-2]:
        if e["type"] == "content_block_start":
            assert e["index"] not in open_, types
            open_.add(e["index"])
        elif e["type"] == "content_block_delta":
            assert e["index"] in open_, types
        elif e["type"] == "content_block_stop":
            open_.remove(e["index"])
        else:
            raise AssertionError("unexpected %s in %s" % (e["type"], types))
    assert not open_, types
    return ev


def test_anthropic_message(h):
    h.emu.config(reply_text="Hello from the emulator!", usage={"inputTokens": 11, "outputTokens": 7})
    _, m = anthropic(h, "message")
    assert m["type"] == "message" and m["role"] == "assistant" and m["id"], m
    assert m["content"] == [{"type": "text", "text": "Hello from the emulator!"}] or \
        [(b["type"], b["text"]) for b in m["content"]] == [("text", "Hello from the emulator!")], m
    assert m["stop_reason"] == "end_turn" and m["usage"]["input_tokens"] == 11, m
    assert m["usage"]["output_tokens"] == 7, m
    (e,) = upstream(h)
    # Anthropic's name resolved against the catalog: the geo profile of the box's region first
    assert e["model_id"] == "us.anthropic.claude-sonnet-4-5-20250929-v1:0", e["model_id"]
    system, msgs, _ = turns(e)
    assert system == [("text", "Be brief.")], system
    assert msgs == [("user", [("text", "hello anthropic")])], msgs
    body = json.loads(e["body"])
    if e["route"] == "invoke":
        assert body["max_tokens"] == 200 and body["temperature"] == 0.5 and body["stop_sequences"] == ["STOP"]
    else:
        ic = body["inferenceConfig"]
        assert ic["maxTokens"] == 200 and ic["temperature"] == 0.5 and ic["stopSequences"] == ["STOP"], ic
    h.emu.reset()
    _, m = anthropic(h, "bearer")
    assert m["content"][0]["text"] == "You said: bearer hello", m


def test_anthropic_stream(h):
    pieces = ["Hel", "lo ", "wor", "ld \U0001F600"]
    h.emu.config(reply_chunks=pieces, usage={"inputTokens": 5, "outputTokens": 4})
    _, r = anthropic(h, "stream")
    ev = check_event_order(r["events"])
    start = ev[0]["message"]
    assert start["role"] == "assistant" and start["content"] == [], start
    assert "cache_creation_input_tokens" in start["usage"] and "cache_read_input_tokens" in start["usage"], start
    deltas = [e["delta"]["text"] for e in ev if e["type"] == "content_block_delta"]
    assert "".join(deltas) == "".join(pieces) and len(deltas) >= 2, deltas
    assert ev[-2]["delta"]["stop_reason"] == "end_turn" and ev[-2]["usage"]["output_tokens"] == 4, ev[-2]
    f = r["final"]
    assert f["content"] == [{"type": "text", "text": "".join(pieces)}] or f["content"][0]["text"] == "".join(pieces)
    assert f["usage"]["input_tokens"] == 5 and f["usage"]["output_tokens"] == 4, f["usage"]
    (e,) = upstream(h)
    assert e["route"] in ("converse-stream", "invoke-with-response-stream"), e["route"]


def test_anthropic_tools(h):
    h.emu.config(reply_text="Let me check.", tool_use=[
        {"toolUseId": "toolu_01", "name": "get_weather", "input": {"city": "Paris"}, "chunks": 3}])
    _, r = anthropic(h, "tools")
    first = r["first"]
    assert first["stop_reason"] == "tool_use", first
    assert [b["type"] for b in first["content"]] == ["text", "tool_use"], first
    use = first["content"][1]
    assert use["id"] == "toolu_01" and use["name"] == "get_weather" and use["input"] == {"city": "Paris"}, use
    e1, e2 = upstream(h)
    assert turns(e1)[2] == [("tool", "get_weather")], turns(e1)
    _, msgs, _ = turns(e2)
    assert [m[0] for m in msgs] == ["user", "assistant", "user"], msgs
    assert ("tool_use", "toolu_01", "get_weather", {"city": "Paris"}) in msgs[1][1], msgs
    assert msgs[2][1] == [("tool_result", "toolu_01", "Sunny, 21 C")], msgs


def test_anthropic_tools_stream(h):
    h.emu.config(reply_text="", reply_chunks=[], tool_use=[
        {"toolUseId": "toolu_a", "name": "get_weather", "input": {"city": "Oslo"}, "chunks": 3},
        {"toolUseId": "toolu_b", "name": "get_weather", "input": {"city": "Rome"}, "chunks": 2}])
    _, r = anthropic(h, "tools_stream")
    ev = check_event_order(r["events"])
    starts = [e["content_block"] for e in ev if e["type"] == "content_block_start"]
    assert [(b["type"], b["id"]) for b in starts] == [("tool_use", "toolu_a"), ("tool_use", "toolu_b")], starts
    kinds = {e["delta"]["type"] for e in ev if e["type"] == "content_block_delta"}
    assert kinds == {"input_json_delta"}, kinds
    f = r["final"]
    assert [b["input"] for b in f["content"]] == [{"city": "Oslo"}, {"city": "Rome"}], f
    assert f["stop_reason"] == "tool_use", f


def test_anthropic_thinking_signature_replayed(h):
    h.emu.config(reasoning={"text": "Step one, step two.", "signature": "c2lnLWFudGhyb3BpYy0x"}, reply_text="42")
    _, r = anthropic(h, "thinking")
    ev = check_event_order(r["first"]["events"])
    dt = [e["delta"]["type"] for e in ev if e["type"] == "content_block_delta"]
    assert "thinking_delta" in dt and "signature_delta" in dt and "text_delta" in dt, dt
    content = r["first"]["final"]["content"]
    assert content[0]["type"] == "thinking" and content[0]["thinking"] == "Step one, step two.", content
    assert content[0]["signature"] == "c2lnLWFudGhyb3BpYy0x", content
    assert content[1] == {"type": "text", "text": "42"} or content[1]["text"] == "42", content
    e1, e2 = upstream(h)
    body = json.loads(e1["body"])
    thinking = body.get("thinking") or body.get("additionalModelRequestFields", {}).get("thinking")
    assert thinking == {"type": "enabled", "budget_tokens": 2048}, body
    # the second turn carries the thinking block back with its signature, before the text
    _, msgs, _ = turns(e2)
    assert [m[0] for m in msgs] == ["user", "assistant", "user"], msgs
    assert msgs[1][1][0] == ("thinking", "Step one, step two.", "c2lnLWFudGhyb3BpYy0x"), msgs[1]
    assert ("text", "42") in msgs[1][1], msgs[1]
    assert r["second"]["content"][0]["signature"] == "c2lnLWFudGhyb3BpYy0x", r["second"]


def test_anthropic_image(h):
    _, m = anthropic(h, "image")
    assert m["content"][0]["text"] == "You said: what colour is this?", m
    (e,) = upstream(h)
    _, msgs, _ = turns(e)
    png = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg==")
    assert msgs == [("user", [("image", png), ("text", "what colour is this?")])], msgs
    body = json.loads(e["body"])
    if e["route"].startswith("converse"):
        assert body["messages"][0]["content"][0]["image"]["format"] == "png", body
    else:
        assert body["messages"][0]["content"][0]["source"]["media_type"] == "image/png", body


def test_anthropic_cache_control(h):
    h.emu.config(usage={"inputTokens": 20, "outputTokens": 3, "cacheReadInputTokens": 100,
                        "cacheWriteInputTokens": 50})
    _, r = anthropic(h, "cache_control")
    ev = check_event_order(r["events"])
    u = ev[0]["message"]["usage"]
    assert u["cache_read_input_tokens"] == 100 and u["cache_creation_input_tokens"] == 50, u
    assert u["input_tokens"] == 20, u
    f = r["final"]["usage"]
    assert f["cache_read_input_tokens"] == 100 and f["cache_creation_input_tokens"] == 50, f
    (e,) = upstream(h)
    system, msgs, tools = turns(e)
    assert system == [("text", "A long stable system prompt."), ("cache", None)], system
    assert msgs == [("user", [("text", "cached context"), ("cache", None), ("text", "the question")])], msgs
    assert tools == [("tool", "get_weather"), ("cache", "1h")], tools


class _Refused(Exception):
    def __init__(self, status, etype, message):
        Exception.__init__(self, "%s %s %s" % (status, etype, message))


def test_anthropic_count_tokens(h):
    _, r = anthropic(h, "count_tokens")
    ct = h.emu.log("count-tokens")
    assert len(ct) == 1 and not upstream(h), h.emu.log()
    assert ct[0]["model_id"].endswith("anthropic.claude-sonnet-4-5-20250929-v1:0"), ct[0]["model_id"]
    want = invoke_emu.count_tokens(json.loads(ct[0]["body"]), _Refused)["inputTokens"]
    assert r == {"input_tokens": want} and want > 5, (r, want)


def test_anthropic_errors(h):
    # the next two model calls fail, whichever Bedrock API the gateway uses (not the catalog's calls)
    h.emu.config(failures=[{"route": r, "count": 1, "status": 429, "type": "ThrottlingException"} for r in UPSTREAM] +
                 [{"route": r, "count": 1, "status": 400, "type": "ValidationException",
                   "message": "max_tokens: too big"} for r in UPSTREAM])
    _, r = anthropic(h, "errors")

    def err(name, cls, status, etype):
        e = r[name]["error"]
        assert e and e["class"] == cls and e["status"] == status and e["type"] == etype and e["isApiError"], (name, r)

    err("bad_key", "AuthenticationError", 401, "authentication_error")
    err("unknown_model", "NotFoundError", 404, "not_found_error")
    err("upstream1", "RateLimitError", 429, "rate_limit_error")
    err("upstream2", "BadRequestError", 400, "invalid_request_error")
    assert "max_tokens: too big" in r["upstream2"]["error"]["message"], r
    assert len(upstream(h)) == 2, [e["model_id"] for e in upstream(h)]  # neither refusal reached Bedrock
    h.emu.reset()
    _, r = anthropic(h, "bad_key_stream")
    assert r["error"] and r["error"]["class"] == "AuthenticationError" and r["error"]["status"] == 401, r


def test_anthropic_stream_error_after_first_byte(h):
    h.emu.config(reply_chunks=["one ", "two ", "three"], exception_after=3,
                 exception_type="modelStreamErrorException", exception_message="stream broke (emulated)")
    _, r = anthropic(h, "stream_error")
    ev = [t for t in r["events"] if t != "ping"]
    assert ev and ev[0] == "message_start" and "message_stop" not in ev, r
    e = r["error"]
    assert e and e["isApiError"] and "stream broke (emulated)" in e["message"], r
    assert e["type"] in ("api_error", "overloaded_error"), e


def test_anthropic_models_list(h):
    _, r = anthropic(h, "models")
    assert r["all"] and all(m["type"] == "model" and m["id"] and "display_name" in m and "created_at" in m
                            for m in r["all"]), r["all"][:3]
    ids = [m["id"] for m in r["all"]]
    assert len(ids) == len(set(ids)), ids
    assert any("claude-sonnet-4-5" in i for i in ids), ids
    f = r["first"]
    assert f["data"] > 0 and f["first_id"] == ids[0] and isinstance(f["has_more"], bool), f


# ---- @aws-sdk/client-bedrock-runtime through the pass-through ------------------

def bedrock(h, case, http1=False, config=False, s=None):
    """One case of bedrock.mjs as SPEC 7.3 configures the SDK: the endpoint and the gateway key as
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME / AWS_BEARER_TOKEN_BEDROCK (or in the client's config), no AWS
    credentials at all (the gateway signs with its own)."""
    need(h, "@aws-sdk/client-bedrock-runtime")
    s = s or gateway(h)
    env = {"AWS_REGION": "us-east-1", "BROCK_MODEL": MODEL, "AWS_EC2_METADATA_DISABLED": "true",
           "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED": "true",
           "AWS_CONFIG_FILE": os.path.join(h.tmp, "none"), "AWS_SHARED_CREDENTIALS_FILE": os.path.join(h.tmp, "none")}
    if config:
        env["BROCK_CONFIG"] = "1"
    else:
        env.update(AWS_ENDPOINT_URL_BEDROCK_RUNTIME="http://127.0.0.1:%d" % s.port, AWS_BEARER_TOKEN_BEDROCK=KEY)
    if http1:
        env["BROCK_HTTP1"] = "1"
    return s, node(h, s, "bedrock.mjs", case, **env)


def check_passthrough_auth(h, entries):
    """The gateway signed each call with its own credentials; the client's key went no further."""
    for e in entries:
        assert e["auth"]["verdict"] == "ok" and e["auth"]["akid"] == h.emu.akid, e["auth"]
        assert KEY not in json.dumps(e["headers"]), e["headers"]


def _bedrock_converse(h, **kw):
    h.emu.config(reply_text="Hello from the emulator!", usage={"inputTokens": 11, "outputTokens": 7})
    s, r = bedrock(h, "converse", **kw)
    assert r["status"] == 200, r
    assert r["output"]["message"] == {"role": "assistant", "content": [{"text": "Hello from the emulator!"}]}, r
    assert r["stopReason"] == "end_turn" and r["usage"]["inputTokens"] == 11 and r["usage"]["outputTokens"] == 7, r
    (e,) = h.emu.log("converse")
    assert e["model_id"] == MODEL, e
    body = json.loads(e["body"])
    assert body["system"] == [{"text": "Be brief."}] and body["inferenceConfig"] == {"maxTokens": 100}, body
    check_passthrough_auth(h, [e])
    return s


def test_bedrock_sdk_converse(h):
    _bedrock_converse(h)


def test_bedrock_sdk_converse_http1(h):
    """The same through the SDK's HTTP/1.1 handler: tells a missing route from a missing transport."""
    _bedrock_converse(h, http1=True)


def test_bedrock_sdk_config_endpoint_and_token(h):
    """Endpoint and key given in the client's config (`endpoint`, `token`) instead of the environment."""
    need(h, "@aws-sdk/client-bedrock-runtime")
    _bedrock_converse(h, config=True)


def test_bedrock_sdk_converse_stream(h):
    h.emu.config(reply_chunks=["Hel", "lo"], tool_use=[
        {"toolUseId": "tu_1", "name": "get_weather", "input": {"city": "Paris"}, "chunks": 3}],
        usage={"inputTokens": 5, "outputTokens": 4})
    _, r = bedrock(h, "converse_stream")
    ev = [x for x in r["events"] if isinstance(x, str)]
    assert ev[0] == "messageStart" and "stop:tool_use" in ev and ev[-1] == "metadata", ev
    assert r["text"] == "Hello" and json.loads(r["toolInput"]) == {"city": "Paris"}, r
    assert {"usage": {"inputTokens": 5, "outputTokens": 4, "totalTokens": 9}} in r["events"], r
    (e,) = h.emu.log("converse-stream")
    assert json.loads(e["body"])["toolConfig"]["tools"][0]["toolSpec"]["name"] == "get_weather", e
    check_passthrough_auth(h, [e])


def test_bedrock_sdk_invoke(h):
    h.emu.config(reply_text="Invoked.", usage={"inputTokens": 9, "outputTokens": 2})
    _, r = bedrock(h, "invoke")
    b = r["body"]
    assert b["type"] == "message" and b["content"] == [{"type": "text", "text": "Invoked."}], b
    assert b["usage"]["input_tokens"] == 9 and b["usage"]["output_tokens"] == 2, b
    assert r["contentType"] == "application/json", r
    (e,) = h.emu.log("invoke")
    assert json.loads(e["body"]) == {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 200,
                                     "messages": [{"role": "user", "content": "invoke bedrock"}],
                                     "system": "Be brief."}, e["body"]
    check_passthrough_auth(h, [e])


def test_bedrock_sdk_invoke_stream(h):
    h.emu.config(reply_chunks=["a", "b", "c"], usage={"inputTokens": 3, "outputTokens": 3})
    _, r = bedrock(h, "invoke_stream")
    types = [e.get("type") for e in r["events"]]
    assert types[0] == "message_start" and types[-1] == "message_stop", types
    text = "".join(e["delta"]["text"] for e in r["events"] if e.get("type") == "content_block_delta")
    assert text == "abc", r
    (e,) = h.emu.log("invoke-with-response-stream")
    check_passthrough_auth(h, [e])


def test_bedrock_sdk_count_tokens(h):
    _, r = bedrock(h, "count_tokens")
    ct = h.emu.log("count-tokens")
    assert len(ct) == 2, ct
    want = [invoke_emu.count_tokens(json.loads(e["body"]), _Refused)["inputTokens"] for e in ct]
    assert [r["converse"], r["invoke"]] == want, (r, want)
    check_passthrough_auth(h, ct)


def test_bedrock_sdk_errors(h):
    _, r = bedrock(h, "bad_key")
    assert r["error"] and r["error"]["status"] == 401, r
    assert not h.emu.log("converse"), h.emu.log()
    h.emu.config(fail_next=1, fail_route="converse", fail_status=429, fail_type="ThrottlingException")
    _, r = bedrock(h, "upstream_error")
    # Bedrock's own error reaches the SDK as the same typed exception
    assert r["error"] == {"name": "ThrottlingException", "status": 429,
                          "message": "Too many requests, please wait before trying again."}, r


# ---- Claude Code (`claude -p`) -------------------------------------------------

CLAUDE_BIN = os.path.join(CLIENTS, "node_modules", ".bin", "claude")


def claude(h, s, prompt, mode_env, timeout=120):
    """Run `claude -p PROMPT` with a fresh HOME and nothing but the gateway to talk to."""
    need(h, "@anthropic-ai/claude-code")
    v = subprocess.run([CLAUDE_BIN, "--version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    if v.returncode != 0 or b"Claude Code" not in v.stdout:
        h.skip("Claude Code's native binary is not installed (npm ci in tests/clients ran without its postinstall)")
    home = os.path.join(h.tmp, "claude-home")
    os.makedirs(home, exist_ok=True)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home, "NO_PROXY": "*",
           "DISABLE_TELEMETRY": "1", "DISABLE_AUTOUPDATER": "1", "DISABLE_ERROR_REPORTING": "1",
           "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"}
    env.update(mode_env)
    p = subprocess.run([CLAUDE_BIN, "-p", prompt], env=env, cwd=h.tmp, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    out, err = p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
    assert p.returncode == 0, "claude -p exited %s\nstdout: %s\nstderr: %s\nbrock: %s\nemulator: %s" % (
        p.returncode, out[-2000:], err[-2000:], s.stderr()[-3000:],
        [(e["route"], e.get("model_id"), e["status"], e.get("error")) for e in upstream(h)])
    return out


def test_claude_code_through_the_anthropic_api(h):
    """ANTHROPIC_BASE_URL + ANTHROPIC_AUTH_TOKEN, Claude Code's defaults otherwise: its own model name
    (claude-opus-5-5 in 2.1), /v1/messages?beta=true, eight anthropic-beta values, a system role inside
    messages, cache_control, adaptive thinking, a dozen tools."""
    h.emu.config(reply_text="PONG from the emulator", usage={"inputTokens": 4000, "outputTokens": 5})
    s = gateway(h)
    out = claude(h, s, "Say PONG", {"ANTHROPIC_BASE_URL": "http://127.0.0.1:%d" % s.port,
                                    "ANTHROPIC_AUTH_TOKEN": KEY})
    assert out.strip() == "PONG from the emulator", out
    calls = upstream(h)
    assert calls and all(e["status"] == 200 for e in calls), [(e["route"], e["status"], e.get("error")) for e in calls]
    e = calls[-1]
    assert e["route"] in ("converse-stream", "invoke-with-response-stream"), e["route"]
    # Claude Code's model name resolved against the catalog (geo profile of the box's region)
    assert e["model_id"] == "us.anthropic.claude-opus-5-5", e["model_id"]
    body = json.loads(e["body"])
    thinking = body.get("thinking") or body.get("additionalModelRequestFields", {}).get("thinking")
    assert thinking and thinking["type"] == "adaptive", body.get("thinking")
    system, msgs, tools = turns(e)
    assert len([t for t in tools if t[0] == "tool"]) >= 5, tools
    assert ("text", "Say PONG") in [b for role, blocks in msgs if role == "user" for b in blocks], msgs
    assert all(role in ("user", "assistant") for role, _ in msgs), [r for r, _ in msgs]
    assert ("cache", None) in system + [b for _, blocks in msgs for b in blocks], system
    betas = e.get("anthropic_beta") or body.get("anthropic_beta") or []
    assert set(betas) <= set(invoke_emu.BEDROCK_BETAS), betas  # only the betas Bedrock takes went on
    check_passthrough_auth(h, calls)


def test_claude_code_bedrock_mode(h):
    """CLAUDE_CODE_USE_BEDROCK=1 with ANTHROPIC_BEDROCK_BASE_URL at the gateway and the gateway key as
    AWS_BEARER_TOKEN_BEDROCK: Claude Code's Bedrock client through the pass-through, no AWS credentials."""
    h.emu.config(reply_text="PONG through the pass-through", usage={"inputTokens": 4000, "outputTokens": 5})
    s = gateway(h)
    out = claude(h, s, "Say PONG", {"CLAUDE_CODE_USE_BEDROCK": "1", "AWS_REGION": "us-east-1",
                                    "ANTHROPIC_BEDROCK_BASE_URL": "http://127.0.0.1:%d" % s.port,
                                    "AWS_BEARER_TOKEN_BEDROCK": KEY, "AWS_EC2_METADATA_DISABLED": "true"})
    assert out.strip() == "PONG through the pass-through", out
    calls = upstream(h)
    streams = [e for e in calls if e["route"] == "invoke-with-response-stream" and e["status"] == 200]
    assert streams, [(e["route"], e["model_id"], e["status"], e.get("error")) for e in calls]
    # Claude Code's own Bedrock model id, forwarded as it came
    assert streams[-1]["model_id"] == "us.anthropic.claude-opus-5-5", streams[-1]["model_id"]
    body = json.loads(streams[-1]["body"])
    assert body["anthropic_version"] == "bedrock-2023-05-31" and body["max_tokens"] > 0, sorted(body)
    check_passthrough_auth(h, calls)
