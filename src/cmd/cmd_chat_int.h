/* cmd_chat_int: what the files of `brock chat` share (cmd_chat.c runs the
 * turn, cmd_chat_args.c parses the arguments), and what `brock count-tokens`
 * takes from chat (attachments, the zero-config model). Private to them. */
#ifndef BROCK_CMD_CHAT_INT_H
#define BROCK_CMD_CHAT_INT_H

#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"

struct conv_attachment;
struct ctx;
struct globals;

#define CHAT_STDIN_MAX (64u * 1024u * 1024u) /* prompt read from stdin */
#define CHAT_FILE_MAX (20u * 1024u * 1024u)  /* one attachment */
#define CHAT_BODY_MAX (512u * 1024u * 1024u) /* request body (attachments in base64) */
#define CHAT_ANSWER_MAX (32u * 1024u * 1024u) /* Converse (non-stream) answer */
#define CHAT_MAX_ATT 25
#define CHAT_MAX_STOP 64
#define CHAT_MAX_META 16  /* Bedrock's requestMetadata limit */
#define CHAT_META_LEN 514 /* KEY=VALUE: 256 + 256 + '=' + NUL */

struct chat_file {
	int kind; /* enum conv_kind */
	const char *path;
};

struct chat_opts {
	const char *model;
	const char *system;
	long long max_tokens;
	int has_temperature, has_top_p;
	double temperature, top_p;
	const char *stop[CHAT_MAX_STOP];
	size_t nstop;
	struct chat_file files[CHAT_MAX_ATT];
	size_t nfiles;
	long long thinking;
	const char *effort;
	int cache;
	const char *cache_ttl, *service_tier, *latency, *guardrail, *guardrail_version, *extra;
	const char *meta_keys[CHAT_MAX_META], *meta_values[CHAT_MAX_META];
	char meta_buf[CHAT_MAX_META][CHAT_META_LEN];
	size_t nmeta;
	int json, no_stream, help;
	double timeout;
	char **words; /* prompt words */
	int nwords;
};

extern const char cmd_chat_usage[];
/* Parses argv (argv[0] is "chat") into o; ERR_USAGE for a bad flag or value. */
int cmd_chat_args(struct chat_opts *o, int argc, char **argv, struct err *e);
/* The model id of a ref ("amazon-bedrock/<id>", an ARN, a bare id); ERR_USAGE
 * for another provider's ref or an empty id. */
int cmd_chat_model_id(const char *ref, const char **id, struct err *e);
/* Reads files[0..nfiles) into data[] (CHAT_FILE_MAX each) and fills att[]:
 * images typed by magic bytes, documents by extension and magic, document
 * names made unique. ERR_USAGE for an empty or unreadable kind of file. */
int cmd_chat_attachments(const struct chat_file *files, size_t nfiles, struct buf *data,
			 struct conv_attachment *att, struct err *e);
/* No model configured (SPEC 1): the discovered model known_preference ranks
 * highest, into out (DISC_MAX_FIELD + 1 bytes; "" when none), named on
 * stderr unless -q. */
int cmd_chat_pick_model(const struct globals *g, struct ctx *ctx, char *out, struct err *e);
/* A model id that names no Bedrock id (no '.', not an ARN) is an
 * application inference profile's name (SPEC 5): replaced by the profile's
 * ARN from the catalog (copied into out, DISC_MAX_FIELD + 1 bytes);
 * ERR_USAGE when no model has that name. Other ids are left alone. */
int cmd_chat_resolve_name(const struct globals *g, struct ctx *ctx, const char **model_id,
			  char *out, struct err *e);

#endif
