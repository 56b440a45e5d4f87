"""Control-plane fixtures: ListFoundationModels and ListInferenceProfiles in the real response shape.

The catalogue mixes every case discovery must handle: streaming text models, embedding models
(TEXT in, EMBEDDING out), image generators (IMAGE out), LEGACY models, models that do not stream,
and models that can only be invoked through an inference profile (inferenceTypesSupported is
["INFERENCE_PROFILE"]), across anthropic, amazon, meta, mistral, cohere, ai21 and deepseek.
"""

ACCOUNT = "123456789012"

# (modelId, name, provider, inputs, outputs, streaming, inference types, lifecycle, customizations)
T, I, E, V = "TEXT", "IMAGE", "EMBEDDING", "VIDEO"
OD, IP, PT = "ON_DEMAND", "INFERENCE_PROFILE", "PROVISIONED"

_MODELS = [
    # anthropic
    ("anthropic.claude-instant-v1", "Claude Instant", "Anthropic", [T], [T], True, [OD], "LEGACY", []),
    ("anthropic.claude-v2:1", "Claude", "Anthropic", [T], [T], True, [OD], "LEGACY", []),
    ("anthropic.claude-3-haiku-20240307-v1:0", "Claude 3 Haiku", "Anthropic", [T, I], [T], True, [OD, IP], "ACTIVE", []),
    ("anthropic.claude-3-sonnet-20240229-v1:0", "Claude 3 Sonnet", "Anthropic", [T, I], [T], True, [OD], "LEGACY", []),
    ("anthropic.claude-3-5-sonnet-20240620-v1:0", "Claude 3.5 Sonnet", "Anthropic", [T, I], [T], True, [OD, IP], "ACTIVE", []),
    ("anthropic.claude-3-5-haiku-20241022-v1:0", "Claude 3.5 Haiku", "Anthropic", [T], [T], True, [IP], "ACTIVE", []),
    ("anthropic.claude-3-7-sonnet-20250219-v1:0", "Claude 3.7 Sonnet", "Anthropic", [T, I], [T], True, [IP], "ACTIVE", []),
    ("anthropic.claude-sonnet-4-20250514-v1:0", "Claude Sonnet 4", "Anthropic", [T, I], [T], True, [IP], "ACTIVE", []),
    ("anthropic.claude-opus-4-1-20250805-v1:0", "Claude Opus 4.1", "Anthropic", [T, I], [T], True, [IP], "ACTIVE", []),
    ("anthropic.claude-sonnet-4-5-20250929-v1:0", "Claude Sonnet 4.5", "Anthropic", [T, I], [T], True, [IP], "ACTIVE", []),
    ("anthropic.claude-opus-4-6-v1:0", "Claude Opus 4.6", "Anthropic", [T, I], [T], True, [IP], "ACTIVE", []),
    # Claude Code 2.1's default model (claude-opus-5-5; in Bedrock mode us.anthropic.claude-opus-5-5)
    ("anthropic.claude-opus-5-5", "Claude Opus 5.5", "Anthropic", [T, I], [T], True, [IP], "ACTIVE", []),
    # amazon
    ("amazon.titan-text-express-v1", "Titan Text G1 - Express", "Amazon", [T], [T], True, [OD], "ACTIVE", ["FINE_TUNING"]),
    ("amazon.titan-text-lite-v1", "Titan Text G1 - Lite", "Amazon", [T], [T], True, [OD], "LEGACY", []),
    ("amazon.titan-embed-text-v1", "Titan Embeddings G1 - Text", "Amazon", [T], [E], False, [OD], "ACTIVE", []),
    ("amazon.titan-embed-text-v2:0", "Titan Text Embeddings V2", "Amazon", [T], [E], False, [OD], "ACTIVE", []),
    ("amazon.titan-embed-image-v1", "Titan Multimodal Embeddings G1", "Amazon", [T, I], [E], False, [OD], "ACTIVE", []),
    ("amazon.titan-image-generator-v2:0", "Titan Image Generator G1 v2", "Amazon", [T, I], [I], False, [OD], "ACTIVE", []),
    ("amazon.nova-canvas-v1:0", "Nova Canvas", "Amazon", [T, I], [I], False, [OD], "ACTIVE", []),
    ("amazon.nova-reel-v1:0", "Nova Reel", "Amazon", [T, I], [V], False, [OD], "ACTIVE", []),
    ("amazon.nova-micro-v1:0", "Nova Micro", "Amazon", [T], [T], True, [OD, IP], "ACTIVE", ["FINE_TUNING"]),
    ("amazon.nova-lite-v1:0", "Nova Lite", "Amazon", [T, I, V], [T], True, [OD, IP], "ACTIVE", []),
    ("amazon.nova-pro-v1:0", "Nova Pro", "Amazon", [T, I, V], [T], True, [OD, IP], "ACTIVE", []),
    ("amazon.nova-premier-v1:0", "Nova Premier", "Amazon", [T, I, V], [T], True, [IP], "ACTIVE", []),
    ("amazon.rerank-v1:0", "Rerank 1.0", "Amazon", [T], [T], False, [OD], "ACTIVE", []),
    # meta
    ("meta.llama3-8b-instruct-v1:0", "Llama 3 8B Instruct", "Meta", [T], [T], True, [OD], "LEGACY", []),
    ("meta.llama3-70b-instruct-v1:0", "Llama 3 70B Instruct", "Meta", [T], [T], True, [OD], "ACTIVE", []),
    ("meta.llama3-1-8b-instruct-v1:0", "Llama 3.1 8B Instruct", "Meta", [T], [T], True, [OD, IP], "ACTIVE", []),
    ("meta.llama3-1-70b-instruct-v1:0", "Llama 3.1 70B Instruct", "Meta", [T], [T], True, [OD, IP], "ACTIVE", []),
    ("meta.llama3-2-11b-instruct-v1:0", "Llama 3.2 11B Instruct", "Meta", [T, I], [T], True, [IP], "ACTIVE", []),
    ("meta.llama3-3-70b-instruct-v1:0", "Llama 3.3 70B Instruct", "Meta", [T], [T], True, [IP], "ACTIVE", []),
    ("meta.llama4-maverick-17b-instruct-v1:0", "Llama 4 Maverick 17B Instruct", "Meta", [T, I], [T], True, [IP], "ACTIVE", []),
    # mistral
    ("mistral.mistral-7b-instruct-v0:2", "Mistral 7B Instruct", "Mistral AI", [T], [T], True, [OD], "ACTIVE", []),
    ("mistral.mixtral-8x7b-instruct-v0:1", "Mixtral 8x7B Instruct", "Mistral AI", [T], [T], True, [OD], "ACTIVE", []),
    ("mistral.mistral-large-2402-v1:0", "Mistral Large (24.02)", "Mistral AI", [T], [T], True, [OD], "ACTIVE", []),
    ("mistral.pixtral-large-2502-v1:0", "Pixtral Large (25.02)", "Mistral AI", [T, I], [T], True, [IP], "ACTIVE", []),
    # cohere
    ("cohere.command-r-v1:0", "Command R", "Cohere", [T], [T], True, [OD], "ACTIVE", []),
    ("cohere.command-r-plus-v1:0", "Command R+", "Cohere", [T], [T], True, [OD], "ACTIVE", []),
    ("cohere.embed-english-v3", "Embed English", "Cohere", [T], [E], False, [OD], "ACTIVE", []),
    ("cohere.embed-multilingual-v3", "Embed Multilingual", "Cohere", [T], [E], False, [OD], "ACTIVE", []),
    ("cohere.rerank-v3-5:0", "Rerank 3.5", "Cohere", [T], [T], False, [OD], "ACTIVE", []),
    # ai21
    ("ai21.jamba-instruct-v1:0", "Jamba-Instruct", "AI21 Labs", [T], [T], True, [OD], "LEGACY", []),
    ("ai21.jamba-1-5-large-v1:0", "Jamba 1.5 Large", "AI21 Labs", [T], [T], True, [OD], "ACTIVE", []),
    ("ai21.jamba-1-5-mini-v1:0", "Jamba 1.5 Mini", "AI21 Labs", [T], [T], True, [OD], "ACTIVE", []),
    # deepseek
    ("deepseek.r1-v1:0", "DeepSeek-R1", "DeepSeek", [T], [T], True, [IP], "ACTIVE", []),
    ("deepseek.v3-v1:0", "DeepSeek-V3.1", "DeepSeek", [T], [T], True, [OD], "ACTIVE", []),
    # stability (image out only)
    ("stability.sd3-5-large-v1:0", "Stable Diffusion 3.5 Large", "Stability AI", [T, I], [I], False, [OD], "ACTIVE", []),
]


def model_arn(region, model_id):
    return "arn:aws:bedrock:%s::foundation-model/%s" % (region, model_id)


def foundation_models(region):
    out = []
    for (mid, name, prov, inp, outp, stream, inf, life, cust) in _MODELS:
        out.append({
            "modelArn": model_arn(region, mid),
            "modelId": mid,
            "modelName": name,
            "providerName": prov,
            "inputModalities": list(inp),
            "outputModalities": list(outp),
            "responseStreamingSupported": stream,
            "customizationsSupported": list(cust),
            "inferenceTypesSupported": list(inf),
            "modelLifecycle": {"status": life},
        })
    return out


def find_model(model_id):
    for m in _MODELS:
        if m[0] == model_id:
            return m
    return None


def _profile(region, prefix, model_id, name, regions, status="ACTIVE"):
    pid = "%s.%s" % (prefix, model_id)
    return {
        "inferenceProfileName": "%s %s" % (prefix.upper(), name),
        "description": "Routes requests to %s in %s regions." % (name, prefix.upper()),
        "createdAt": "2024-08-30T12:00:00Z",
        "updatedAt": "2025-06-01T12:00:00Z",
        "inferenceProfileArn": "arn:aws:bedrock:%s:%s:inference-profile/%s" % (region, ACCOUNT, pid),
        "models": [{"modelArn": model_arn(r, model_id)} for r in regions],
        "inferenceProfileId": pid,
        "status": status,
        "type": "SYSTEM_DEFINED",
    }


US = ["us-east-1", "us-east-2", "us-west-2"]
EU = ["eu-central-1", "eu-west-1", "eu-west-3"]
GL = ["us-east-1", "eu-west-1", "ap-northeast-1"]


def inference_profiles(region):
    """27 profiles: 24 system-defined (us., eu., global., apac.) + 3 application profiles."""
    p = []
    for mid in ("anthropic.claude-3-haiku-20240307-v1:0", "anthropic.claude-3-5-sonnet-20240620-v1:0",
                "anthropic.claude-3-5-haiku-20241022-v1:0", "anthropic.claude-3-7-sonnet-20250219-v1:0",
                "anthropic.claude-sonnet-4-20250514-v1:0", "anthropic.claude-opus-4-1-20250805-v1:0",
                "anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic.claude-opus-4-6-v1:0",
                "anthropic.claude-opus-5-5", "amazon.nova-micro-v1:0", "amazon.nova-lite-v1:0", "amazon.nova-pro-v1:0",
                "amazon.nova-premier-v1:0", "meta.llama3-2-11b-instruct-v1:0",
                "meta.llama3-3-70b-instruct-v1:0", "deepseek.r1-v1:0", "mistral.pixtral-large-2502-v1:0"):
        p.append(_profile(region, "us", mid, find_model(mid)[1], US))
    for mid in ("anthropic.claude-3-7-sonnet-20250219-v1:0", "anthropic.claude-sonnet-4-5-20250929-v1:0",
                "amazon.nova-pro-v1:0"):
        p.append(_profile(region, "eu", mid, find_model(mid)[1], EU))
    for mid in ("anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic.claude-opus-4-6-v1:0",
                "anthropic.claude-opus-5-5"):
        p.append(_profile(region, "global", mid, find_model(mid)[1], GL))
    # an inactive system profile: must not be listed by discovery
    p.append(_profile(region, "apac", "anthropic.claude-3-5-sonnet-20240620-v1:0", "Claude 3.5 Sonnet",
                      ["ap-northeast-1", "ap-southeast-2"], status="INACTIVE"))
    # application profiles: id is a generated suffix, not a model id
    for i, (mid, name) in enumerate((("anthropic.claude-3-haiku-20240307-v1:0", "team-haiku"),
                                     ("amazon.nova-pro-v1:0", "batch-nova"),
                                     ("amazon.titan-embed-text-v2:0", "search-embeddings"))):
        aid = "appprof%02dx7k2m9q" % i
        p.append({
            "inferenceProfileName": name,
            "description": "application inference profile",
            "createdAt": "2025-01-15T08:00:00Z",
            "updatedAt": "2025-01-15T08:00:00Z",
            "inferenceProfileArn": "arn:aws:bedrock:%s:%s:application-inference-profile/%s" % (region, ACCOUNT, aid),
            "models": [{"modelArn": model_arn(region, mid)}],
            "inferenceProfileId": aid,
            "status": "ACTIVE",
            "type": "APPLICATION",
        })
    return p


def profile_model_ids(region):
    return {p["inferenceProfileId"] for p in inference_profiles(region)}
