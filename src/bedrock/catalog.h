/* catalog: the models brock offers (SPEC 5): the configured models
 * (models.providers["amazon-bedrock"].models) merged with the discovered
 * ones, their tags, model refs, and the three renderings of
 * `brock models list` (table, plain, JSON).
 *
 * Merge: configured models come first, in config order, and are always
 * listed; a discovered model with the same id adds what the config leaves
 * out (name, input) and the tags discovered/profile. The other discovered
 * models follow, sorted by maker then id. contextWindow/maxTokens are the
 * configured values, else the known-model table's (known.h), else the
 * discovery defaults; reasoning is the configured value, else the table's,
 * else false; cost only from the config. The config's
 * agents.defaults.model.primary gets the "default" tag; when it names an
 * amazon-bedrock model that is in neither list it is listed anyway. */
#ifndef BROCK_CATALOG_H
#define BROCK_CATALOG_H

#include <stddef.h>

#include "base/buf.h"
#include "bedrock/config.h"
#include "bedrock/discovery.h"
#include "base/err.h"

#define CATALOG_PROVIDER "amazon-bedrock"

enum {
	CAT_TAG_DEFAULT = 1u << 0,
	CAT_TAG_CONFIGURED = 1u << 1,
	CAT_TAG_DISCOVERED = 1u << 2,
	CAT_TAG_PROFILE = 1u << 3,
	CAT_TAG_REASONING = 1u << 4
};

struct cat_model {
	char *id;       /* model id, profile id or ARN */
	char *name;     /* never NULL (the id when nothing better is known) */
	char *maker;    /* "anthropic", "amazon", ... (providerName or id prefix) */
	unsigned input; /* DISC_IN_* */
	long long context_window, max_tokens;
	int reasoning;
	int has_cost;
	struct config_cost cost;
	unsigned tags; /* CAT_TAG_* */
};

struct catalog {
	struct cat_model *v;
	size_t n, cap;
};

/* disc may be NULL (discovery off or skipped). */
int catalog_build(struct catalog *cat, const struct config *cfg, const struct disc_list *disc,
		  struct err *e);
void catalog_free(struct catalog *cat);

/* Keeps the models made by provider (case-insensitive): the maker recorded
 * by discovery, or the id prefix after an optional region prefix
 * (us./eu./apac./global./...). */
void catalog_filter_provider(struct catalog *cat, const char *provider);
/* 1 when a model made by provider (same rule). */
int catalog_is_maker(const struct cat_model *m, const char *provider);

/* What follows "amazon-bedrock/" in a model's ref (SPEC 5): an application
 * inference profile's name (inferenceProfileName, when it is 1 to 64
 * letters, digits, '-' and '_'), so users see and type names; else the id.
 * The id (the profile's ARN) is what is sent. */
const char *catalog_key(const struct cat_model *m);
/* A model ref ("amazon-bedrock/<id>", or a bare id) -> the model, or NULL;
 * an application profile also answers to its key (its name).
 * ARNs and unknown ids are the caller's business. */
const struct cat_model *catalog_find(const struct catalog *cat, const char *ref);
/* The id part of a ref: strips "amazon-bedrock/". */
const char *catalog_ref_id(const char *ref);

/* "200k", "1M", "4096" (numbers below 10000 are written out). */
void catalog_fmt_tokens(long long n, char *out, size_t outn);
/* "text", "text+image", "image", "-" */
const char *catalog_input_str(unsigned input);

/* Renderings, appended to out. */
int catalog_table(const struct catalog *cat, struct buf *out);
int catalog_plain(const struct catalog *cat, struct buf *out);
int catalog_json(const struct catalog *cat, struct buf *out, struct err *e);

#endif
