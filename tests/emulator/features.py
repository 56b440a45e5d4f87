"""Model-feature rules of the Bedrock runtime the emulator enforces (SPEC 3.5), kept apart from the
transport code: thinking shapes (adaptive-only models, budget rules), prompt-caching points
(supported models, at most 4, write-then-read usage), serviceTier, performanceConfig, guardrails,
requestMetadata, and CountTokens. Each rule answers the way Bedrock does, so brock's tests can fail.

The emulator's own idea of which model takes what is written here from Bedrock's documentation,
independently of brock's table (src/bedrock/known.c): a test that passes proves the two agree."""

import hashlib
import json
import re

ADAPTIVE_ONLY_MSG = ('"thinking.type.enabled" is not supported for this model. Use "thinking.type.adaptive" '
                     'and "output_config.effort" to control thinking behavior.')
CACHE_UNSUPPORTED_MSG = ("You invoked an unsupported model or your request did not allow prompt caching. "
                         "See the documentation for more information.")
GUARDRAIL_BLOCK_TEXT = "Sorry, the model cannot answer this question."
# guardrail ids the emulator knows: one that intervenes, one that lets everything pass
GUARDRAILS = {"gr-block": True, "gr-pass": False}

_GEO = ("us.", "us-gov.", "eu.", "apac.", "ap.", "ca.", "jp.", "au.", "global.")


class Refusal(Exception):
    def __init__(self, etype, message, status=400):
        super().__init__(message)
        self.status, self.etype, self.message = status, etype, message


def model_part(model_id):
    s = model_id.rsplit("/", 1)[-1]
    for g in _GEO:
        if s.startswith(g) and "." in s[len(g):]:
            return s[len(g):]
    return s


def claude_version(model_id):
    """(tier, major, minor) of a Claude id, or None. A date is never a minor version."""
    s = model_part(model_id)
    m = re.match(r"anthropic\.claude-(opus|sonnet|haiku)-(\d{1,2})(?:-(\d{1,2}))?(?=$|[-:])", s)
    if m:
        return m.group(1), int(m.group(2)), int(m.group(3) or 0)
    m = re.match(r"anthropic\.claude-(\d)(?:-(\d))?-(opus|sonnet|haiku)", s)
    if m:
        return m.group(3), int(m.group(1)), int(m.group(2) or 0)
    return None


def adaptive_only(model_id):
    v = claude_version(model_id)
    return bool(v) and (v[1] >= 5 or (v[0] == "opus" and v[1] == 4 and v[2] >= 7))


def takes_adaptive(model_id):
    v = claude_version(model_id)
    return bool(v) and (v[1] >= 5 or (v[1] == 4 and v[2] >= 6 and v[0] in ("opus", "sonnet")))


def takes_budget(model_id):
    v = claude_version(model_id)
    return bool(v) and not adaptive_only(model_id) and (v[1], v[2]) >= (3, 7)


def caches(model_id):
    """Prompt caching per the Bedrock prompt-caching page (GA models)."""
    s = model_part(model_id)
    if re.match(r"amazon\.nova-(micro|lite|pro|premier|2-lite|2-pro)", s):
        return True
    v = claude_version(model_id)
    if not v:
        return False
    return (v[1], v[2]) >= (3, 7) or (v[0] == "haiku" and (v[1], v[2]) == (3, 5))


def _check_thinking(model_id, req):
    amrf = req.get("additionalModelRequestFields")
    if amrf is None:
        return
    if not isinstance(amrf, dict):
        raise Refusal("ValidationException", "additionalModelRequestFields must be an object")
    th = amrf.get("thinking")
    part = model_part(model_id)
    if claude_version(model_id) is None:
        # another maker's model refuses Anthropic's fields; an opaque id (application profile) or an
        # Anthropic id of another shape is let through
        for k in ("thinking", "output_config", "anthropic_beta"):
            if k in amrf and "." in part and not part.startswith("anthropic."):
                raise Refusal("ValidationException", "extraneous key [%s] is not permitted" % k)
        return
    betas = amrf.get("anthropic_beta")
    if betas is not None:
        from invoke_emu import BEDROCK_BETAS
        if not isinstance(betas, list) or any(b not in BEDROCK_BETAS for b in betas):
            raise Refusal("ValidationException", "invalid beta flag")
    if th is None:
        return
    t = th.get("type") if isinstance(th, dict) else None
    if t == "enabled":
        if adaptive_only(model_id):
            raise Refusal("ValidationException", ADAPTIVE_ONLY_MSG)
        if not takes_budget(model_id):
            raise Refusal("ValidationException", "thinking: extended thinking is not supported for this model")
        b = th.get("budget_tokens")
        if not isinstance(b, int) or isinstance(b, bool) or b < 1024:
            raise Refusal("ValidationException",
                          "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024")
        mt = (req.get("inferenceConfig") or {}).get("maxTokens")
        if isinstance(mt, int) and mt <= b:
            raise Refusal("ValidationException",
                          "`max_tokens` must be greater than `thinking.budget_tokens`.")
    elif t == "adaptive":
        if not takes_adaptive(model_id):
            raise Refusal("ValidationException", '"thinking.type.adaptive" is not supported for this model.')
        if "budget_tokens" in th:
            raise Refusal("ValidationException", "thinking.adaptive.budget_tokens: Extra inputs are not permitted")
        eff = (amrf.get("output_config") or {}).get("effort")
        if eff is not None and eff not in ("low", "medium", "high", "max"):
            raise Refusal("ValidationException", "output_config.effort: Input should be 'low', 'medium', "
                          "'high' or 'max'")
    elif t == "disabled":
        if adaptive_only(model_id):
            raise Refusal("ValidationException", '"thinking.type.disabled" is not supported for this model.')
    else:
        raise Refusal("ValidationException", "thinking.type: Input tag %r found using 'type' does not match "
                      "any of the expected tags: 'enabled', 'adaptive', 'disabled'" % (t,))


def caches_tools(model_id):
    """The prompt-caching page's table: tools are a cacheable field for Claude, not for Nova."""
    return caches(model_id) and claude_version(model_id) is not None


def _cache_points(req):
    """(count, [ttl...]) of cachePoint blocks in tools, system and messages, in that order."""
    ttls = []

    def scan(blocks):
        for b in blocks or []:
            if isinstance(b, dict) and "cachePoint" in b:
                cp = b["cachePoint"]
                if not isinstance(cp, dict) or cp.get("type") != "default":
                    raise Refusal("ValidationException", "cachePoint.type must be 'default'")
                ttl = cp.get("ttl", "5m")
                if ttl not in ("5m", "1h"):
                    raise Refusal("ValidationException", "cachePoint.ttl must be '5m' or '1h'")
                ttls.append(ttl)

    scan((req.get("toolConfig") or {}).get("tools"))
    scan(req.get("system"))
    for m in req.get("messages") or []:
        if isinstance(m, dict):
            scan(m.get("content"))
    if "5m" in ttls and "1h" in ttls[ttls.index("5m"):]:
        raise Refusal("ValidationException", "a ttl='1h' cache_control block must not come after a "
                      "ttl='5m' cache_control block (tools, then system, then messages)")
    return ttls


def _check_history(req):
    """A reasoning block replayed without its signature is refused, as Bedrock does."""
    for m in req.get("messages") or []:
        for b in (m.get("content") or []) if isinstance(m, dict) else []:
            rc = b.get("reasoningContent") if isinstance(b, dict) else None
            if rc is None:
                continue
            rt = rc.get("reasoningText") if isinstance(rc, dict) else None
            if "redactedContent" not in rc and (not isinstance(rt, dict) or not rt.get("signature")):
                raise Refusal("ValidationException", "messages.content.reasoningContent: a thinking block "
                              "must carry its signature to be replayed")


def _prefix_key(model_id, req):
    """What the last cache point covers: everything before it, hashed."""
    parts = []
    last = None
    seq = [("tool", b) for b in ((req.get("toolConfig") or {}).get("tools") or [])]
    seq += [("system", b) for b in (req.get("system") or [])]
    for m in req.get("messages") or []:
        for b in (m.get("content") or []) if isinstance(m, dict) else []:
            seq.append((m.get("role"), b))
    for i, (_, b) in enumerate(seq):
        if isinstance(b, dict) and "cachePoint" in b:
            last = i
    if last is None:
        return None, 0
    for where, b in seq[:last]:
        parts.append(json.dumps([where, b], sort_keys=True))
    text = "\n".join(parts)
    return hashlib.sha256((model_part(model_id) + "\n" + text).encode()).hexdigest(), max(1, len(text) // 4)


def _check_tier_and_more(req):
    st = req.get("serviceTier")
    if st is not None:
        if not isinstance(st, dict) or st.get("type") not in ("priority", "default", "flex", "reserved"):
            raise Refusal("ValidationException", "1 validation error detected: Value at 'serviceTier.type' "
                          "failed to satisfy constraint: Member must satisfy enum value set: "
                          "[priority, default, flex, reserved]")
    pc = req.get("performanceConfig")
    if pc is not None:
        if not isinstance(pc, dict) or pc.get("latency") not in ("standard", "optimized"):
            raise Refusal("ValidationException", "1 validation error detected: Value at "
                          "'performanceConfig.latency' failed to satisfy constraint: Member must satisfy enum "
                          "value set: [standard, optimized]")
    md = req.get("requestMetadata")
    if md is not None:
        if not isinstance(md, dict) or len(md) > 16 or not all(
                isinstance(k, str) and isinstance(v, str) and 1 <= len(k) <= 256 and len(v) <= 256
                for k, v in md.items()):
            raise Refusal("ValidationException", "requestMetadata: expected at most 16 string keys and values "
                          "of at most 256 characters")
    g = req.get("guardrailConfig")
    if g is not None:
        gid = g.get("guardrailIdentifier") if isinstance(g, dict) else None
        ver = g.get("guardrailVersion") if isinstance(g, dict) else None
        if gid is None or ver is None:
            raise Refusal("ValidationException", "guardrailConfig needs guardrailIdentifier and guardrailVersion")
        if gid.rsplit("/", 1)[-1] not in GUARDRAILS or not (ver == "DRAFT" or str(ver).isdigit()):
            raise Refusal("ValidationException",
                          "The guardrail identifier or version provided in the request does not exist.")
        if g.get("trace") not in (None, "enabled", "disabled", "enabled_full"):
            raise Refusal("ValidationException", "guardrailConfig.trace must be enabled or disabled")


def check(model_id, req, cache):
    """Refuses what Bedrock refuses; returns the extras of the answer: usage additions, serviceTier,
    guardrail outcome. cache is the emulator's prompt cache (prefix hash -> tokens), kept across
    requests until the scenario is reset."""
    _check_thinking(model_id, req)
    _check_tier_and_more(req)
    _check_history(req)
    ttls = _cache_points(req)
    out = {"usage": {}}
    if ttls:
        if not caches(model_id):
            raise Refusal("ValidationException", CACHE_UNSUPPORTED_MSG)
        tools = (req.get("toolConfig") or {}).get("tools") or []
        if not caches_tools(model_id) and any(isinstance(b, dict) and "cachePoint" in b for b in tools):
            raise Refusal("ValidationException", "This model does not support cache points in toolConfig.tools.")
        if len(ttls) > 4:
            raise Refusal("ValidationException", "A maximum of 4 blocks with cache_control may be provided. "
                          "Found %d." % len(ttls))
        key, tokens = _prefix_key(model_id, req)
        if key in cache:
            out["usage"] = {"cacheReadInputTokens": tokens, "cacheWriteInputTokens": 0}
        else:
            cache[key] = tokens
            out["usage"] = {"cacheReadInputTokens": 0, "cacheWriteInputTokens": tokens}
    if "serviceTier" in req:
        out["serviceTier"] = req["serviceTier"]
    g = req.get("guardrailConfig")
    if g:
        gid = g["guardrailIdentifier"].rsplit("/", 1)[-1]
        out["guardrail"] = {"intervened": GUARDRAILS[gid], "trace": g.get("trace") in ("enabled", "enabled_full"),
                            "id": gid, "version": g["guardrailVersion"]}
    return out


def guardrail_trace(gr):
    """The metadata trace of a guardrail assessment, in Bedrock's shape."""
    assessment = {"topicPolicy": {"topics": [{"name": "Emulated", "type": "DENY", "action": "BLOCKED"}]}} \
        if gr["intervened"] else {}
    return {"guardrail": {"inputAssessment": {gr["id"]: assessment},
                          "modelOutput": [] if gr["intervened"] else ["(emulated)"]}}
