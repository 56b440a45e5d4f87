#include "base/env.h"
#include "t.h"

static char *const vars[] = {
	"AWS_REGION=  eu-west-1 ", "EMPTY=", "BLANK= \t ", "AWS_REGIONX=no", "FLAG=TRUE", "OFF=false", NULL,
};
static const struct env env = {vars};

static void test_get(void)
{
	char b[32];

	CHECK(env_get(&env, "AWS_REGION") != NULL);
	CHECK(env_get_buf(&env, "AWS_REGION", b, sizeof b) == 9);
	CHECK_STR(b, "eu-west-1");
	CHECK(env_get(&env, "EMPTY") == NULL);
	CHECK(env_get(&env, "BLANK") == NULL);
	CHECK(env_get(&env, "MISSING") == NULL);
	CHECK(env_get(&env, "AWS_REGIO") == NULL);
	CHECK(env_get_buf(&env, "AWS_REGION", b, 9) == -1);
	CHECK(env_get_buf(&env, "BLANK", b, sizeof b) == 0 && b[0] == 0);
}

static void test_bool(void)
{
	CHECK(env_is_true(&env, "FLAG"));
	CHECK(!env_is_true(&env, "OFF"));
	CHECK(!env_is_true(&env, "MISSING"));
	CHECK(!env_is_true(NULL, "FLAG"));
}

int main(int argc, char **argv)
{
	(void)argc;
	T_RUN(test_get);
	T_RUN(test_bool);
	return t_done(argv[0]);
}
