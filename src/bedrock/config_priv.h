/* config_priv: what config.c (reading, file I/O) and config_edit.c (text
 * edits) share. Private to src/bedrock/config*.c; config.h is the interface. */
#ifndef BROCK_CONFIG_PRIV_H
#define BROCK_CONFIG_PRIV_H

#include <stddef.h>

#include "bedrock/config.h"
#include "wire/json5.h"

#define CFG_TEXT_MAX J5_MAX_SIZE /* the config text */

/* "FILE:LINE:COL: message" (ERR_USAGE) from a failed parse of d; -1. */
int config_parse_err(const char *name, const struct j5_doc *d, struct err *e);
/* "<p up to element upto>: <fmt with arg>" in class cls ("(top level)" for
 * an empty path); -1. */
int config_path_err(const struct j5_path *p, size_t upto, struct err *e, int cls, const char *fmt,
		    const char *arg);

/* The schema reader's helpers (config.c), shared with config_serve.c: each
 * reads one value of document d at a path named in messages ("serve.keys[0].rpm:
 * expected a number"); an absent (or null) value leaves *out alone. */
struct config_rd {
	const struct j5_doc *d;
	const char *name; /* the file, for messages */
	struct err *e;
};

/* "<file>: <path>: expected <want>" (ERR_USAGE); -1. */
int config_rd_err(const struct config_rd *l, const char *path, const char *want);
/* A member of obj that is present and not null, else J5_NONE. */
uint32_t config_rd_get(const struct config_rd *l, uint32_t obj, const char *key);
int config_rd_obj(const struct config_rd *l, uint32_t v, const char *path);
int config_rd_str(const struct config_rd *l, uint32_t v, const char *path, char **out);
int config_rd_num(const struct config_rd *l, uint32_t v, const char *path, double *out);
int config_rd_int(const struct config_rd *l, uint32_t v, const char *path, long long *out);
int config_rd_bool(const struct config_rd *l, uint32_t v, const char *path, int *out);
int config_rd_list(const struct config_rd *l, uint32_t v, const char *path, char ***out,
		   size_t *n);
/* Frees a list of strings (wipe: zero each first, for secrets). */
void config_free_list(char **v, size_t n, int wipe);

/* config_serve.c: serve.keys, serve.fallbacks, serve.modelAliases of the
 * serve object (J5_NONE: none), and their release. */
int config_serve_read(const struct config_rd *l, uint32_t serve, struct config *c);
void config_serve_free(struct config *c);

#endif
