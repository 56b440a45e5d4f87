/* config_priv: what config.c (reading, file I/O) and config_edit.c (text
 * edits) share. Private to src/bedrock/config*.c; config.h is the interface. */
#ifndef BROCK_CONFIG_PRIV_H
#define BROCK_CONFIG_PRIV_H

#include <stddef.h>

#include "wire/json5.h"

#define CFG_TEXT_MAX J5_MAX_SIZE /* the config text */

/* "FILE:LINE:COL: message" (ERR_USAGE) from a failed parse of d; -1. */
int config_parse_err(const char *name, const struct j5_doc *d, struct err *e);
/* "<p up to element upto>: <fmt with arg>" in class cls ("(top level)" for
 * an empty path); -1. */
int config_path_err(const struct j5_path *p, size_t upto, struct err *e, int cls, const char *fmt,
		    const char *arg);

#endif
