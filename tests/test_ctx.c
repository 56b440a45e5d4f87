/* ctx: opening a context turns core dumps off before any credential is
 * loaded (the process is dumpable before, not after). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cmd/ctx.h"
#include "t.h"

static void test_open_turns_core_dumps_off(void)
{
	char home[] = "/tmp/brock-test-ctx-XXXXXX", homevar[64];
	char *vars[] = {homevar, "AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true", NULL};
	struct globals g;
	struct ctx c;
	struct rlimit rl;
	struct err e = {0, ""};

	CHECK(mkdtemp(home) != NULL);
	snprintf(homevar, sizeof homevar, "HOME=%s", home);
	memset(&g, 0, sizeof g);
	g.env.vars = vars;
	/* rlimit first: a test runner may already have RLIMIT_CORE at 0 */
	rl.rlim_cur = 0;
	rl.rlim_max = RLIM_INFINITY;
	CHECK(getrlimit(RLIMIT_CORE, &rl) == 0);
	if (rl.rlim_max > 0) {
		rl.rlim_cur = rl.rlim_max;
		CHECK(setrlimit(RLIMIT_CORE, &rl) == 0);
	}
	CHECK(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 1);
	CHECK(ctx_open(&c, &g, &e) == 0);
	CHECK(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0);
	CHECK(getrlimit(RLIMIT_CORE, &rl) == 0);
	CHECK(rl.rlim_cur == 0 && rl.rlim_max == 0);
	ctx_close(&c);
	CHECK(rmdir(home) == 0);
}

static void test_helper_alone(void)
{
	struct rlimit rl;
	struct err e = {0, ""};

	CHECK(ctx_no_core_dumps(&e) == 0); /* and again: idempotent */
	CHECK(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0);
	CHECK(getrlimit(RLIMIT_CORE, &rl) == 0);
	CHECK(rl.rlim_cur == 0 && rl.rlim_max == 0);
}

int main(int argc, char **argv)
{
	(void)argc;
	T_RUN(test_open_turns_core_dumps_off);
	T_RUN(test_helper_alone);
	return t_done(argv[0]);
}
