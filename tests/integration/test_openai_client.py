"""The gateway's SPEC 3.5 / 7.1 fields through the official openai npm client (tests/clients/openai,
pinned by tests/clients/package-lock.json with the other clients of test_clients.py):
reasoning_effort, service_tier, user, cache_control on a content part and on a tool,
anthropic_beta, and prompt_tokens_details.cached_tokens in the usage, streamed and not. Needs node
and `npm ci` in tests/clients (`make deps` runs it); a machine without them skips the test and
says why."""

import json
import os
import shutil
import subprocess

from test_models_features import body_of
from test_serve import serve

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENT = os.path.join(HERE, "..", "clients", "openai")
SONNET = "amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0"


def client(s, params):
    node = shutil.which("node")
    p = subprocess.run([node, os.path.join(CLIENT, "client.mjs"), "http://127.0.0.1:%d/v1" % s.port,
                        json.dumps(params)], capture_output=True, timeout=60,
                       env={"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/")})
    lines = [json.loads(l) for l in p.stdout.decode().splitlines() if l.strip()]
    return p.returncode, lines, p.stderr.decode()


def test_openai_client_features(h):
    from test_clients import need
    need(h, "openai")
    s = serve(h)
    sysp = {"role": "system", "content": [{"type": "text", "text": "Rules. " * 200,
                                           "cache_control": {"type": "ephemeral", "ttl": "1h"}}]}
    params = {"model": SONNET, "messages": [sysp, {"role": "user", "content": "hi"}],
              "reasoning_effort": "low", "service_tier": "priority", "user": "alice",
              "anthropic_beta": ["context-1m-2025-08-07"],
              "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}},
                         "cache_control": {"type": "ephemeral", "ttl": "1h"}}]}
    rc, out, err = client(s, params)
    assert rc == 0, (out, err)
    b = body_of(h)
    assert b["serviceTier"] == {"type": "priority"} and b["requestMetadata"] == {"user": "alice"}, b
    assert b["additionalModelRequestFields"] == {"anthropic_beta": ["context-1m-2025-08-07"],
                                                 "thinking": {"type": "enabled", "budget_tokens": 2048}}, b
    assert b["toolConfig"]["tools"][-1] == {"cachePoint": {"type": "default", "ttl": "1h"}}, b
    assert b["system"][-1] == {"cachePoint": {"type": "default", "ttl": "1h"}}, b
    assert out[0]["choices"][0]["message"]["content"], out
    # the same prefix again, streamed with usage: a cache read, counted in prompt_tokens too
    rc, out, err = client(s, dict(params, stream=True, stream_options={"include_usage": True}))
    assert rc == 0, (out, err)
    usage = [c["usage"] for c in out if c.get("usage")]
    assert len(usage) == 1, out
    u = usage[0]
    assert u["prompt_tokens_details"]["cached_tokens"] > 0, u
    assert u["prompt_tokens"] >= u["prompt_tokens_details"]["cached_tokens"], u
    # a bad service tier is the client's 400
    rc, out, err = client(s, dict(params, service_tier="gold"))
    assert rc == 3 and out[0]["error"]["status"] == 400, (out, err)
