/* config: the brock/OpenClaw config file (JSON5, SPEC section 4).
 *
 * Reading: config_load() resolves the path, parses the file and copies the
 * fields brock uses into a plain struct config (owned strings), so no other
 * module touches JSON5. Unknown keys are ignored; a wrong type is an
 * ERR_USAGE error naming the path ("models.bedrockDiscovery.refreshInterval:
 * expected a number").
 *
 * Editing (`brock config get|set|unset|file`): the file TEXT is edited in
 * place using the byte spans of the JSON5 tree, so comments, order and
 * formatting of everything else are kept byte for byte. The result is
 * re-parsed before it is written; a result that would not parse is refused
 * and the file stays untouched. Writes hold an exclusive flock on the
 * config's directory (file_lock_dir: no sidecar file) around
 * read-modify-write, and replace the file atomically (temp file in the same directory, fsync,
 * rename, fsync of the directory), always mode 0600; a missing parent
 * directory is created with mode 0700. A symlinked config file is edited
 * through the link (its target is replaced). */
#ifndef BROCK_CONFIG_H
#define BROCK_CONFIG_H

#include <stddef.h>

#include "base/buf.h"
#include "base/env.h"
#include "base/err.h"

#define CONFIG_PATH_MAX 4096

struct config_cost {
	double input, output, cache_read, cache_write; /* USD per 1M tokens */
};

struct config_model {
	char *id;             /* never NULL */
	char *name;           /* NULL when not configured */
	int reasoning;        /* -1 not configured, 0, 1 */
	char **input;         /* e.g. "text", "image" */
	size_t n_input;
	int has_cost;
	struct config_cost cost;
	long long context_window; /* 0 when not configured */
	long long max_tokens;     /* 0 when not configured */
};

struct config_provider {
	int present; /* models.providers["amazon-bedrock"] exists */
	char *base_url, *api, *auth; /* NULL when not configured */
	struct config_model *models;
	size_t n_models;
};

struct config_discovery {
	int enabled;   /* -1 not configured (default: credentials available), 0, 1 */
	char *region;  /* NULL when not configured */
	char **provider_filter; /* empty = all providers */
	size_t n_provider_filter;
	long long refresh_interval;       /* seconds, default 3600, 0 = no cache */
	long long default_context_window; /* default 32000 */
	long long default_max_tokens;     /* default 4096 */
};

/* bedrock.*: defaults of the Bedrock request features for chat and serve
 * (SPEC 3.5); NULL / 0 when not configured. */
struct config_features {
	char *service_tier;      /* bedrock.serviceTier */
	char *latency;           /* bedrock.latency */
	char *guardrail_id;      /* bedrock.guardrail.identifier */
	char *guardrail_version; /* bedrock.guardrail.version */
	int guardrail_trace;     /* bedrock.guardrail.trace (true/false, or "enabled") */
	char **meta_keys, **meta_values; /* bedrock.requestMetadata */
	size_t n_meta;
};

struct config {
	char path[CONFIG_PATH_MAX]; /* the file in use ("" when none could be found) */
	int exists;                 /* the file was there */
	struct config_provider bedrock;   /* models.providers["amazon-bedrock"] */
	struct config_discovery discovery; /* plugins...discovery over models.bedrockDiscovery */
	char *primary_model;        /* agents.defaults.model.primary, or NULL */
	struct config_features features; /* bedrock.* */
	char *serve_listen;         /* serve.listen, or NULL */
	char **serve_api_keys;      /* serve.apiKeys (secrets: wiped on free) */
	size_t n_serve_api_keys;
	long long serve_max_conns;        /* serve.maxConnections (0: the default) */
	long long serve_max_conns_per_ip; /* serve.maxConnectionsPerIp (0: the default) */
	char **serve_trusted_proxies;     /* serve.trustedProxies: numeric addresses */
	size_t n_serve_trusted_proxies;
	char **serve_allow_origins;       /* serve.allowOrigins: "https://app.example" */
	size_t n_serve_allow_origins;
	char **serve_anthropic_betas;     /* serve.anthropicBetas (NULL-terminated), or NULL */
	size_t n_serve_anthropic_betas;
	char *serve_log;                  /* serve.log: "json", "text" or NULL */
};

/* The config file in use: flag (--config) if given, else $BROCK_CONFIG, else
 * $XDG_CONFIG_HOME/brock/config.json5 (absolute XDG paths only), else
 * $HOME/.config/brock/config.json5. ERR_USAGE when none applies. */
int config_path(const struct env *env, const char *flag, char *out, size_t outn, struct err *e);

/* Loads the config in use. A missing file, or no path at all, is an empty
 * config. Parse errors read "FILE:LINE:COL: message" (ERR_USAGE). */
int config_load(const struct env *env, const char *flag, struct config *c, struct err *e);
/* Same from a named file / from text already in memory (name for messages). */
int config_load_file(const char *file, struct config *c, struct err *e);
int config_parse(const char *name, const char *text, size_t n, struct config *c, struct err *e);
void config_free(struct config *c);

/* `brock config get PATH`: the value as canonical JSON (no newline) appended
 * to out. An empty path is the whole document. ERR_USAGE when not set. */
int config_get_json(const char *file, const char *path_expr, struct buf *out, struct err *e);
/* `brock config set PATH VALUE`: VALUE is parsed as JSON5, else taken as a
 * string. Missing parent objects are created. */
int config_set(const char *file, const char *path_expr, const char *value_text, struct err *e);
/* `brock config unset PATH`: removes the member or array element (every
 * duplicate of the key). Unsetting what is not there succeeds and does not
 * write the file. */
int config_unset(const char *file, const char *path_expr, struct err *e);

/* The pure text edits behind config_set/config_unset (no I/O; used by tests
 * and the fuzzer). text may be blank (empty config). The result, appended to
 * out, has been re-parsed and checked. name is used in messages. */
int config_edit_set(const char *name, const char *text, size_t n, const char *path_expr,
		    const char *value_text, struct buf *out, struct err *e);
int config_edit_unset(const char *name, const char *text, size_t n, const char *path_expr,
		      struct buf *out, struct err *e);

#endif
