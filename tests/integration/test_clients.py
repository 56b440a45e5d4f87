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
    """Skip (with the reason) when node or the package is not installed; never for brock's sake."""
    if not shutil.which("node"):
        h.skip("node is not installed (vendor/deps.sh installs nodejs and npm)")
    if not os.path.isfile(os.path.join(CLIENTS, "node_modules", package, "package.json")):
        h.skip("%s is not installed: run vendor/deps.sh (npm ci in tests/clients)" % package)


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
