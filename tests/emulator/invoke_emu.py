"""InvokeModel, InvokeModelWithResponseStream and CountTokens for the emulator.

Claude models take the Anthropic body Bedrock takes (anthropic_version
"bedrock-2023-05-31", no model/stream, anthropic_beta only from the list
Bedrock accepts: anything else is 400 "invalid beta flag") and answer with an
Anthropic message object, or, streaming, with `chunk` event frames whose
payload {"bytes": base64} holds one Anthropic event JSON. Titan Text
Embeddings v1/v2 and Cohere Embed answer with deterministic vectors.
CountTokens answers {"inputTokens": N}.

The scenario keys of Converse apply where they make sense (reply_text,
deltas, reasoning {text, signature}, tool_use, stop_reason, usage with
cacheReadInputTokens / cacheWriteInputTokens); failure injection works the
same because the stream goes through the handler's stream() with a Plan
subclass whose events are chunk frames.
"""
import base64
import hashlib
import json
import struct

ANTHROPIC_VERSION = "bedrock-2023-05-31"

# The betas Bedrock accepts for Claude (anthropic.h anth_default_betas).
BEDROCK_BETAS = (
    "computer-use-2024-10-22", "computer-use-2025-01-24", "computer-use-2025-11-24",
    "token-efficient-tools-2025-02-19", "interleaved-thinking-2025-05-14",
    "output-128k-2025-02-19", "dev-full-thinking-2025-05-14", "context-1m-2025-08-07",
    "context-management-2025-06-27", "effort-2025-11-24", "tool-search-tool-2025-10-19",
    "tool-examples-2025-10-29",
)

# Top-level keys InvokeModel refuses for Claude ("extraneous key"). `metadata` is accepted with
# `user_id` only (Claude Code sends it in Bedrock mode; any other key under it is refused, as
# LiteLLM #30629 saw).
EXTRANEOUS = ("model", "stream", "service_tier", "container", "inference_geo")


def is_claude(model_id):
    return "anthropic.claude" in model_id


def embed_family(model_id):
    if "titan-embed-text-v2" in model_id:
        return "titan-v2"
    if "titan-embed-text-v1" in model_id or "titan-embed-g1-text" in model_id:
        return "titan-v1"
    if "cohere.embed-" in model_id:
        return "cohere"
    return None


def vector(text, dim):
    """Deterministic unit-ish floats from the text."""
    out = []
    seed = hashlib.sha256(text.encode()).digest()
    while len(out) < dim:
        seed = hashlib.sha256(seed).digest()
        for i in range(0, 32, 4):
            (u,) = struct.unpack("<I", seed[i:i + 4])
            out.append(round(u / 2 ** 32 - 0.5, 6))
    return out[:dim]


def tokens_of(obj):
    return max(1, len(json.dumps(obj)) // 4)


def check_claude_body(req, reply_cls):
    if req.get("anthropic_version") != ANTHROPIC_VERSION:
        raise reply_cls(400, "ValidationException",
                        "Malformed input request: anthropic_version must be %s" % ANTHROPIC_VERSION)
    for k in EXTRANEOUS:
        if k in req:
            raise reply_cls(400, "ValidationException",
                            "Malformed input request: #: extraneous key [%s] is not permitted" % k)
    md = req.get("metadata")
    if md is not None:
        if not isinstance(md, dict):
            raise reply_cls(400, "ValidationException", "metadata: Input should be a valid dictionary")
        for k in md:
            if k != "user_id":
                raise reply_cls(400, "ValidationException", "metadata.%s: Extra inputs are not permitted" % k)
    betas = req.get("anthropic_beta")
    if betas is not None:
        if not isinstance(betas, list):
            raise reply_cls(400, "ValidationException", "Malformed input request: anthropic_beta")
        for b in betas:
            if b not in BEDROCK_BETAS:
                raise reply_cls(400, "ValidationException", "invalid beta flag")
    if not isinstance(req.get("max_tokens"), int) or req["max_tokens"] < 1:
        raise reply_cls(400, "ValidationException",
                        "Malformed input request: #: required key [max_tokens] not found")
    msgs = req.get("messages")
    if not isinstance(msgs, list) or not msgs:
        raise reply_cls(400, "ValidationException",
                        "Malformed input request: #: required key [messages] not found")
    for m in msgs:
        if not isinstance(m, dict) or m.get("role") not in ("user", "assistant"):
            raise reply_cls(400, "ValidationException",
                            "messages: Unexpected role \"%s\"" % (m.get("role") if isinstance(m, dict) else m))


def last_user_text(req):
    for m in reversed(req.get("messages") or []):
        if m.get("role") != "user":
            continue
        c = m.get("content")
        if isinstance(c, str):
            return c
        for b in reversed(c or []):
            if isinstance(b, dict) and b.get("type") == "text":
                return b.get("text", "")
    return ""


def make_plan_class(plan_base):
    class AnthropicPlan(plan_base):
        """A Plan whose events are Anthropic events in chunk frames."""

        def __init__(self, cfg, req):
            conv = {"messages": [{"role": "user", "content": [{"text": last_user_text(req)}]}]}
            plan_base.__init__(self, cfg, conv)
            self.req = req
            self.thinking = bool(self.reasoning) and isinstance(req.get("thinking"), dict) and \
                req["thinking"].get("type") in ("enabled", "adaptive")
            u = cfg.get("usage") or {}
            self.in_tokens = u.get("inputTokens") or tokens_of(req.get("messages"))
            self.out_tokens = u.get("outputTokens") or max(1, len(self.full_text) // 4)
            self.cache_read = u.get("cacheReadInputTokens", 0)
            self.cache_write = u.get("cacheWriteInputTokens", 0)

        def a_usage(self):
            return {"input_tokens": self.in_tokens, "cache_creation_input_tokens": self.cache_write,
                    "cache_read_input_tokens": self.cache_read, "output_tokens": self.out_tokens}

        def stop_reason(self):
            return self.stop

        def blocks(self):
            out = []
            if self.thinking:
                out.append({"type": "thinking", "thinking": self.reasoning.get("text") or "",
                            "signature": self.reasoning.get("signature") or "c2lnbmF0dXJl"})
            if self.chunks:
                out.append({"type": "text", "text": self.full_text})
            for i, t in enumerate(self.tools):
                inp = t.get("input", {})
                if isinstance(inp, str):
                    inp = json.loads(inp)
                out.append({"type": "tool_use", "id": t.get("toolUseId", "toolu_emu%d" % i),
                            "name": t.get("name", "tool"), "input": inp})
            return out

        def message(self):
            return {"id": "msg_bdrk_emu", "type": "message", "role": "assistant",
                    "model": "claude-emulated", "content": self.blocks(),
                    "stop_reason": self.stop_reason(), "stop_sequence": None, "usage": self.a_usage()}

        def anthropic_events(self):
            start = self.message()
            start["content"] = []
            start["stop_reason"] = None
            start["usage"] = dict(self.a_usage(), output_tokens=1)
            yield {"type": "message_start", "message": start}
            for i, b in enumerate(self.blocks()):
                if b["type"] == "thinking":
                    yield {"type": "content_block_start", "index": i,
                           "content_block": {"type": "thinking", "thinking": "", "signature": ""}}
                    t = b["thinking"]
                    for piece in (t[:len(t) // 2], t[len(t) // 2:]):
                        if piece:
                            yield {"type": "content_block_delta", "index": i,
                                   "delta": {"type": "thinking_delta", "thinking": piece}}
                    yield {"type": "content_block_delta", "index": i,
                           "delta": {"type": "signature_delta", "signature": b["signature"]}}
                elif b["type"] == "text":
                    yield {"type": "content_block_start", "index": i,
                           "content_block": {"type": "text", "text": ""}}
                    for piece in self.chunks:
                        yield {"type": "content_block_delta", "index": i,
                               "delta": {"type": "text_delta", "text": piece}}
                else:
                    yield {"type": "content_block_start", "index": i,
                           "content_block": {"type": "tool_use", "id": b["id"], "name": b["name"],
                                             "input": {}}}
                    s = json.dumps(b["input"])
                    step = max(1, -(-len(s) // 3))
                    for j in range(0, len(s), step):
                        yield {"type": "content_block_delta", "index": i,
                               "delta": {"type": "input_json_delta", "partial_json": s[j:j + step]}}
                yield {"type": "content_block_stop", "index": i}
            yield {"type": "message_delta", "delta": {"stop_reason": self.stop_reason(), "stop_sequence": None},
                   "usage": {"output_tokens": self.out_tokens}}
            yield {"type": "message_stop", "amazon-bedrock-invocationMetrics": {
                "inputTokenCount": self.in_tokens, "outputTokenCount": self.out_tokens,
                "invocationLatency": 42, "firstByteLatency": 7}}

        def _events(self):
            for ev in self.anthropic_events():
                b = base64.b64encode(json.dumps(ev).encode()).decode()
                yield ("event", "chunk", {"bytes": b})

    return AnthropicPlan


def embeddings(model_id, req, reply_cls):
    """(body, headers) of an embeddings InvokeModel answer."""
    fam = embed_family(model_id)
    if fam in ("titan-v1", "titan-v2"):
        text = req.get("inputText")
        if not isinstance(text, str) or not text:
            raise reply_cls(400, "ValidationException", "Malformed input request: #: required key [inputText] not found")
        dim = 1536
        if fam == "titan-v2":
            dim = req.get("dimensions", 1024)
            if dim not in (256, 512, 1024):
                raise reply_cls(400, "ValidationException", "Malformed input request: #/dimensions: %r is not a valid enum value" % dim)
        elif "dimensions" in req:
            raise reply_cls(400, "ValidationException", "Malformed input request: #: extraneous key [dimensions] is not permitted")
        n = max(1, len(text.split()))
        return {"embedding": vector(text, dim), "inputTextTokenCount": n}, []
    texts = req.get("texts")
    if not isinstance(texts, list) or not texts or len(texts) > 96 or \
            not all(isinstance(t, str) and t for t in texts):
        raise reply_cls(400, "ValidationException", "Malformed input request: texts")
    if req.get("input_type") not in ("search_document", "search_query", "classification", "clustering"):
        raise reply_cls(400, "ValidationException", "Malformed input request: #: required key [input_type] not found")
    v4 = "embed-v4" in model_id
    dim = req.get("output_dimension", 1536 if v4 else 1024)
    if "output_dimension" in req and (not v4 or dim not in (256, 512, 1024, 1536)):
        raise reply_cls(400, "ValidationException", "Malformed input request: output_dimension")
    n = sum(max(1, len(t.split())) for t in texts)
    body = {"id": "emb-emu", "embeddings": [vector(t, dim) for t in texts],
            "response_type": "embeddings_floats", "texts": texts}
    return body, [("X-Amzn-Bedrock-Input-Token-Count", str(n))]


def count_tokens(req, reply_cls):
    inp = req.get("input") if isinstance(req, dict) else None
    if not isinstance(inp, dict):
        raise reply_cls(400, "ValidationException", "Malformed input request: input")
    if "invokeModel" in inp:
        try:
            body = json.loads(base64.b64decode(inp["invokeModel"]["body"], validate=True))
        except (ValueError, TypeError, KeyError):
            raise reply_cls(400, "ValidationException", "Malformed input request: invokeModel.body")
        check_claude_body(body, reply_cls)
        return {"inputTokens": tokens_of(body.get("messages")) + tokens_of(body.get("system") or "")}
    if "converse" in inp and isinstance(inp["converse"], dict):
        c = inp["converse"]
        return {"inputTokens": tokens_of(c.get("messages")) + tokens_of(c.get("system") or "")}
    raise reply_cls(400, "ValidationException", "Malformed input request: input")
