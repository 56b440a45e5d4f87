/* ctx: what a command needs to talk to AWS, set up once from the global
 * options: the parsed config file, the connection pool (with the trust
 * anchors), the aws client (endpoints, retries, clock skew) and the
 * credential chain. No globals: commands own their ctx. */
#ifndef BROCK_CTX_H
#define BROCK_CTX_H

#include "aws/aws.h"
#include "cmd/cmd.h"
#include "bedrock/config.h"
#include "net/conn.h"
#include "aws/creds.h"
#include "base/err.h"

struct ctx {
	const struct globals *g;
	struct config cfg;
	struct conn_pool pool;
	struct aws aws;
	struct creds_chain creds;
	char region_source[64]; /* where aws.region came from */
	int open;
};

/* Loads the config (ERR_USAGE with FILE:LINE:COL when it does not parse),
 * resolves the region, and prepares pool, aws client and credential chain
 * (credentials themselves are fetched lazily with creds_get). First of all
 * it calls ctx_no_core_dumps: ctx_open is the one place where a command
 * starts to deal with credentials. */
int ctx_open(struct ctx *c, const struct globals *g, struct err *e);
void ctx_close(struct ctx *c);

/* brock's state directory (the gateway's ledger): $BROCK_STATE_DIR, else
 * $XDG_STATE_HOME/brock (an absolute XDG path only), else
 * $HOME/.local/state/brock. 0, or -1 when none applies (or it is too long). */
int ctx_state_dir(const struct env *env, char *out, size_t n);

/* Secrets must not leave the process in a core file, nor be read by another
 * process of the same user through ptrace or /proc/<pid>/mem: RLIMIT_CORE 0
 * (soft and hard) and PR_SET_DUMPABLE 0, for the rest of the process's life
 * (children get their own after exec). ERR_OTHER when the kernel refuses. */
int ctx_no_core_dumps(struct err *e);

/* in[0..n) with control characters (C0, DEL, and C1 U+0080..U+009F in
 * UTF-8) written as \u00XX (valid in JSON too), NUL-terminated in out
 * (cut short when it does not fit); returns the length. */
size_t ctx_log_escape(const char *in, size_t n, char *out, size_t outn);
/* aws_log_fn printing "brock: ..." lines on stderr (used when -v), control
 * characters escaped. */
void ctx_log(void *user, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
