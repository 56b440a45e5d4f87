/* discovery: which Bedrock models this account can stream (SPEC section 5),
 * and the flat-file cache of that list.
 *
 * Fetching: signed GET /foundation-models, then every page of
 * GET /inference-profiles for type=SYSTEM_DEFINED and type=APPLICATION (the
 * service lists only system-defined profiles when no type is given), all on
 * the kept-alive control-plane connection.
 *
 * Filters: a foundation model is a candidate when responseStreamingSupported
 * is true, outputModalities has TEXT, modelLifecycle.status is ACTIVE and its
 * maker passes providerFilter (lower-cased providerName, or the id prefix
 * before the first '.'). A candidate is listed itself only when
 * inferenceTypesSupported has ON_DEMAND (invoking the others by model id
 * fails with "on-demand throughput isn't supported"). An ACTIVE inference
 * profile is listed, with the capabilities of its foundation model
 * (models[0].modelArn after "foundation-model/"), when that model is a
 * candidate; otherwise it is left out. Entries with ids that are not
 * printable ASCII without spaces are dropped (ids reach terminals and URLs).
 *
 * Cache: one file per (region, providerFilter) under $BROCK_CACHE_DIR, else
 * $XDG_CACHE_HOME/brock, else ~/.cache/brock. Format (UTF-8, '\n' lines):
 *     brock-models-cache v2 TAB <fetched epoch> TAB <count> TAB <region> TAB <filter>
 *     <id> TAB <name> TAB <provider> TAB <input> TAB <kind> TAB <base>   (count lines)
 * filter is the normalised providerFilter (lower-case, sorted, unique,
 * comma-joined; "" = all); input is "text", "image" or "text+image"; kind is
 * "model" or "profile"; base is a profile's foundation model id ("" when
 * none), so an application profile (an opaque ARN) gets its model's limits. In every field '\\', TAB, LF and CR are written as
 * \\ \t \n \r. A file whose header, region, filter or line count does not
 * match is ignored (and replaced by the next refresh). Writes go to a
 * temporary file in the same directory, fsync, rename, fsync of the
 * directory, so a reader never sees half a file and two refreshers racing
 * leave one complete file. The parser (disc_cache_parse) does no I/O.
 *
 * Limits: DISC_MAX_MODELS entries, DISC_MAX_FIELD bytes per string,
 * DISC_MAX_BODY bytes per API answer, DISC_MAX_PAGES profile pages per type,
 * DISC_CACHE_MAX bytes of cache file. */
#ifndef BROCK_DISCOVERY_H
#define BROCK_DISCOVERY_H

#include <stddef.h>
#include <time.h>

#include "aws/aws.h"
#include "base/buf.h"
#include "bedrock/config.h"
#include "aws/creds.h"
#include "base/env.h"
#include "base/err.h"

#define DISC_MAX_MODELS 4096
#define DISC_MAX_FIELD 1024
#define DISC_MAX_BODY (8u << 20)
#define DISC_MAX_TOKENS (1 << 20)
#define DISC_MAX_PAGES 200
#define DISC_CACHE_MAX (4u << 20)
#define DISC_CACHE_MAGIC "brock-models-cache v2"

enum { DISC_IN_TEXT = 1u, DISC_IN_IMAGE = 2u };

struct disc_model {
	char *id;       /* model id or inference profile id */
	char *name;     /* modelName / inferenceProfileName (may be "") */
	char *provider; /* the maker: providerName lower-cased, else the id prefix */
	unsigned input; /* DISC_IN_* */
	int profile;    /* 1: an inference profile */
	int on_demand;  /* foundation models: ON_DEMAND supported (not cached) */
	char *base;     /* profiles: the foundation model id; "" when none (never NULL) */
};

struct disc_list {
	struct disc_model *v;
	size_t n, cap;
	time_t fetched; /* when the list was fetched (cache header) */
};

void disc_list_free(struct disc_list *l);
/* Appends a copy (lengths are byte counts; name/provider may be NULL = "").
 * -1 with ERR_OTHER at DISC_MAX_MODELS or out of memory. */
int disc_list_add(struct disc_list *l, const char *id, size_t idn, const char *name, size_t namen,
		  const char *provider, size_t provn, unsigned input, int profile, struct err *e);
/* Sets the base (foundation model id) of l->v[i]. */
int disc_list_set_base(struct disc_list *l, size_t i, const char *base, size_t n, struct err *e);
/* Index of id in l, or -1. */
long disc_list_find(const struct disc_list *l, const char *id, size_t idn);

/* The normalised provider filter: lower-case, trimmed, sorted, unique,
 * comma-joined ("" = every provider). Appended to out. */
int disc_filter_norm(const char *const *filter, size_t n, struct buf *out);
/* 1 when provider/id pass the normalised filter (see disc_filter_norm). */
int disc_filter_pass(const char *norm_filter, const char *provider, const char *id);

/* The maker segment of a model id (pointer into id, length): after an
 * ARN's last '/', past a geographic inference-profile prefix ("us.", "eu.",
 * "apac.", "global.", ...), up to the next '.'. Returns 1 when a geographic
 * prefix was skipped (the id is a system inference profile). */
int disc_id_maker(const char *id, const char **p, size_t *n);

/* ---- pure parsers of the API answers (fuzzed) ---- */

/* ListFoundationModels: appends every candidate (filters above) to fms,
 * with on_demand set. ERR_PROTO for malformed JSON or a missing
 * modelSummaries array, ERR_SERVICE for a 200 carrying an error type. */
int disc_parse_models(const char *body, size_t n, const char *norm_filter, struct disc_list *fms,
		      struct err *e);
/* One ListInferenceProfiles page: appends the ACTIVE profiles whose
 * foundation model is in fms to out (skipping ids already there); the page's
 * nextToken (decoded) replaces next (left empty on the last page). */
int disc_parse_profiles(const char *body, size_t n, const struct disc_list *fms,
			struct disc_list *out, struct buf *next, struct err *e);
/* The list users see: on-demand candidates of fms, appended to out. */
int disc_select_on_demand(const struct disc_list *fms, struct disc_list *out, struct err *e);

/* ---- the cache ---- */

/* The cache directory per the precedence above (absolute XDG paths only). */
int disc_cache_dir(const struct env *env, char *out, size_t n, struct err *e);
/* File name (no directory) for a region and a normalised filter:
 * "models-<region>.tsv", "models-<region>-<a+b>.tsv", or with a hash of the
 * filter ("models-<region>-f<16 hex>.tsv") when it has other characters. */
int disc_cache_name(const char *region, const char *norm_filter, char *out, size_t n);
/* Serialises l (fetched time l->fetched). */
int disc_cache_format(const struct disc_list *l, const char *region, const char *norm_filter,
		      struct buf *out);
/* Parses a cache file; ERR_PROTO when corrupt or written for another region
 * or filter. Never does I/O. */
int disc_cache_parse(const char *text, size_t n, const char *region, const char *norm_filter,
		     struct disc_list *out, struct err *e);
/* Reads a cache file: 1 when loaded, 0 when missing, unreadable, corrupt or
 * foreign (why in e, for -v). A bad cache is never an error. */
int disc_cache_load(const char *path, const char *region, const char *norm_filter,
		    struct disc_list *out, struct err *e);
/* Atomic write of dir/name (creates dir, mode 0700; file 0600). */
int disc_cache_store(const char *dir, const char *name, const struct disc_list *l,
		     const char *region, const char *norm_filter, struct err *e);

/* ---- the whole step ---- */

/* Signed calls to the control plane; fills out (fetched = now). */
int disc_fetch(struct aws *a, const struct aws_creds *creds, const char *norm_filter,
	       struct disc_list *out, struct err *e);

struct disc_opts {
	const struct config_discovery *cfg;
	const struct env *env;
	int refresh; /* --refresh: do not read the cache */
	time_t now;  /* 0: the real clock */
};

enum disc_source { DISC_OFF = 0, DISC_FETCHED, DISC_CACHED, DISC_STALE, DISC_SKIPPED };

struct disc_result {
	struct disc_list list;
	int source;        /* enum disc_source */
	char warning[768]; /* "" or a line for stderr (main prints it unless -q) */
	int store_failed;  /* fetched, but the cache file could not be written
			      (warning says why): an error for --refresh */
};

/* Discovery as SPEC 5 runs it: off when enabled is false; with enabled
 * unset, skipped (with a warning) when the chain yields no credentials; a
 * fresh cache is used without any call; otherwise fetch and store, falling
 * back to a stale cache with a warning when the fetch fails (not with
 * --refresh). Errors only when there is nothing to fall back on. */
int disc_run(struct aws *a, struct creds_chain *cc, const struct disc_opts *o,
	     struct disc_result *r, struct err *e);
void disc_result_free(struct disc_result *r);

#endif
