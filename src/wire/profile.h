/* profile: the AWS shared config and credentials files (~/.aws/config,
 * ~/.aws/credentials), parsed the way the AWS SDKs do (the cross-SDK
 * "profile file parser" test suite; see tests/test_profile.c for every rule).
 *
 * A pure parser: the caller reads the file (with a size limit, e.g.
 * PROFILE_MAX_TEXT) and hands over the bytes. Parsing fills a caller-owned
 * struct profile_file whose names and most values are views into that text,
 * so the text must outlive it. Values joined from continuation lines are
 * copied into an arena the struct owns: call profile_free() when done (it
 * wipes the arena: the credentials file holds secrets).
 *
 * Rules in brief:
 * - config file: [default], [profile NAME], [sso-session NAME],
 *   [services NAME]; any other [NAME] is ignored (a warning is recorded).
 *   [profile default] wins over [default] whatever their order.
 * - credentials file: [NAME] only; [profile x] etc. there are ignored.
 * - names (sections and keys) are [A-Za-z0-9_\-/.%@:+]; a section or key
 *   with other characters (e.g. a space) is ignored with its lines.
 *   Keys are case-sensitive.
 * - "key = value", trimmed; '#' or ';' starts a comment at the start of a
 *   line, anywhere on a section line, and in a value only after whitespace
 *   ("a;b" stays, "a ;b" -> "a"). Continuation lines (leading whitespace)
 *   append "\n" + the trimmed line, comments included. A key with an empty
 *   value followed by indented "sub = value" lines has sub-properties.
 * - duplicate sections merge, duplicate keys: the last wins.
 * - CRLF and a leading UTF-8 BOM are accepted.
 * - fatal errors (ERR_USAGE, "line N: ..."): a section line without ']',
 *   a line without '=', an empty key, a property before any section, a
 *   continuation with no property to continue, a sub-property line without
 *   '=' or with an empty name, and exceeding a limit below. */
#ifndef BROCK_PROFILE_H
#define BROCK_PROFILE_H

#include "base/buf.h"
#include "base/err.h"

#include <stddef.h>
#include <stdint.h>

#define PROFILE_MAX_TEXT (1u << 20)  /* bytes of one file (caller's read limit) */
#define PROFILE_MAX_SECTIONS 256     /* sections in one file */
#define PROFILE_MAX_PROPS 1024       /* properties + sub-properties in one file */
#define PROFILE_MAX_NAME 256         /* bytes of a section name or a key */
#define PROFILE_MAX_VALUE (64u << 10) /* bytes of one value (after joining) */
#define PROFILE_MAX_WARN 8           /* warnings kept (more are only counted) */

enum profile_kind { PROFILE_CONFIG = 0, PROFILE_CREDENTIALS = 1 };

enum profile_sec_type {
	PROFILE_SEC_PROFILE = 0,     /* [default], [profile x]; credentials [x] */
	PROFILE_SEC_SSO_SESSION = 1, /* [sso-session x] (config only) */
	PROFILE_SEC_SERVICES = 2     /* [services x] (config only) */
};

/* Internal records; read them through the functions below. */
struct profile_span {
	uint32_t off, len;
	uint8_t in_arena; /* else in the caller's text */
};

struct profile_sec {
	struct profile_span name;
	uint8_t type;     /* enum profile_sec_type */
	uint8_t prefixed; /* "[profile default]" as opposed to "[default]" */
};

struct profile_prop {
	struct profile_span key, value;
	uint16_t sec;    /* index into sec[] */
	int16_t parent;  /* index of the parent property, or -1 */
	uint8_t dead;    /* dropped by a later definition */
};

struct profile_warn {
	uint32_t line;
	const char *why; /* static string, e.g. "section ignored: ..." */
};

struct profile_file {
	int kind; /* enum profile_kind */
	const uint8_t *text;
	size_t text_len;
	struct buf arena; /* joined continuation values */
	size_t nsec, nprop;
	struct profile_sec sec[PROFILE_MAX_SECTIONS];
	struct profile_prop prop[PROFILE_MAX_PROPS];
	size_t nwarn; /* ignored sections/lines; the first few are in warn[] */
	struct profile_warn warn[PROFILE_MAX_WARN];
};

/* Parses one file. pf is large (~40 KiB): put it on the heap or in static
 * storage. On error pf is left empty (safe to query and to free). text may
 * be NULL when n == 0 (a missing file is an empty file). */
int profile_parse(struct profile_file *pf, enum profile_kind kind, const void *text, size_t n,
		  struct err *e);
void profile_free(struct profile_file *pf); /* wipes the arena; idempotent */

/* ---- one file ---- */
/* Each returns 1 and sets *out when found, 0 when not. A property that has
 * sub-properties has the value "" (as written). */
int profile_file_get(const struct profile_file *pf, enum profile_sec_type t, const char *section,
		     const char *key, struct slice *out);
int profile_file_get_sub(const struct profile_file *pf, enum profile_sec_type t,
			 const char *section, const char *key, const char *sub, struct slice *out);
int profile_file_has(const struct profile_file *pf, enum profile_sec_type t, const char *section);
/* Section names of one type in file order: i = 0.. until it returns 0. */
int profile_file_section(const struct profile_file *pf, enum profile_sec_type t, size_t i,
			 struct slice *name);

/* ---- both files merged (either pointer may be NULL) ---- */
struct profile_set {
	const struct profile_file *config;
	const struct profile_file *credentials;
};

/* A profile's property: the credentials file wins per key over the config. */
int profile_get(const struct profile_set *ps, const char *profile, const char *key,
		struct slice *out);
/* The same as a NUL-terminated copy: 1 found, 0 not found, -1 longer than
 * dstsz - 1 (dst is then ""). */
int profile_get_str(const struct profile_set *ps, const char *profile, const char *key, char *dst,
		    size_t dstsz);
/* A sub-property of a profile's property (e.g. "s3", "max_concurrent_requests"). */
int profile_get_sub(const struct profile_set *ps, const char *profile, const char *key,
		    const char *sub, struct slice *out);
/* 1 when either file defines the profile. */
int profile_exists(const struct profile_set *ps, const char *profile);
/* Profile names, config file order first, then those only in credentials;
 * each once. Fills up to max names, returns the total count (may be > max). */
size_t profile_list(const struct profile_set *ps, struct slice *names, size_t max);
/* [sso-session NAME] key (config file only). */
int profile_sso_get(const struct profile_set *ps, const char *session, const char *key,
		    struct slice *out);
/* [services NAME] service = \n  key = value (config file only), e.g.
 * ("my-services", "bedrock-runtime", "endpoint_url"). */
int profile_services_get(const struct profile_set *ps, const char *services, const char *service,
			 const char *key, struct slice *out);

#endif
