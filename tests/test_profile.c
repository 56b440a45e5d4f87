/* test_profile: the AWS shared config/credentials parser. A table of files
 * (the rules of the cross-SDK parser test suite, rewritten, plus our own
 * edge cases), the merged lookups, limits, and golden files under
 * tests/profile/ checked against tests/profile/golden.txt. */
#include "wire/profile.h"
#include "t.h"

enum { E_END = 0, E_GET, E_SUB, E_SSO, E_SVC, E_CGET };

struct exp {
	int what;
	const char *a, *b, *c;
	const char *want; /* NULL: must be absent */
};

#define GET(p, k, v) {E_GET, p, k, NULL, v}
#define CGET(p, k, v) {E_CGET, p, k, NULL, v} /* the config file alone */
#define SUB(p, k, s, v) {E_SUB, p, k, s, v}
#define SSO(s, k, v) {E_SSO, s, k, NULL, v}
#define SVC(n, s, k, v) {E_SVC, n, s, k, v}

struct pcase {
	const char *name;
	const char *config, *creds; /* NULL: no such file */
	int err_cfg, err_creds;     /* expected error line, 0 = parses */
	const char *list;           /* merged profile names, comma-joined; NULL: unchecked */
	int nwarn;                  /* expected warnings + 1; 0: unchecked */
	struct exp exps[8];
};

#define W(n) .nwarn = (n) + 1

static const struct pcase cases[] = {
	{"empty files", .config = "", .creds = "", .list = "", W(0)},
	{"empty profile", .config = "[profile foo]", .list = "foo", .exps = {GET("foo", "x", NULL)}},
	{"section needs ]", .config = "[profile foo", .err_cfg = 1},
	{"section needs ] on line 3", .config = "[default]\na = b\n[profile foo\nc = d", .err_cfg = 3},
	{"name trimmed", .config = "[profile \tfoo \t]", .list = "foo"},
	{"tab after profile", .config = "[profile\tfoo]", .list = "foo"},
	{"property outside section", .config = "name = value", .err_cfg = 1},
	{"property", .config = "[profile foo]\nname = value", .exps = {GET("foo", "name", "value")}},
	{"CRLF", .config = "[profile foo]\r\nname = value\r\nb = c\r\n",
	 .exps = {GET("foo", "name", "value"), GET("foo", "b", "c")}},
	{"equals in value", .config = "[profile foo]\nname = val=ue",
	 .exps = {GET("foo", "name", "val=ue")}},
	{"only equals in value", .config = "[profile foo]\nname = =", .exps = {GET("foo", "name", "=")}},
	{"unicode value", .config = "[profile foo]\nname = \xF0\x9F\x98\x82",
	 .exps = {GET("foo", "name", "\xF0\x9F\x98\x82")}},
	{"two properties", .config = "[profile foo]\nname = value\nname2 = value2",
	 .exps = {GET("foo", "name", "value"), GET("foo", "name2", "value2")}},
	{"trimmed key and value", .config = "[profile foo]\nname \t=  \tvalue \t",
	 .exps = {GET("foo", "name", "value"), GET("foo", "name ", NULL)}},
	{"no spaces", .config = "[profile foo]\nname=value", .exps = {GET("foo", "name", "value")}},
	{"empty value", .config = "[profile foo]\nname =", .exps = {GET("foo", "name", "")}},
	{"empty key", .config = "[profile foo]\n= value", .err_cfg = 2},
	{"no equals", .config = "[profile foo]\nkey : value", .err_cfg = 2},
	{"two empty profiles", .config = "[profile foo]\n[profile bar]", .list = "foo,bar"},
	{"two profiles", .config = "[profile foo]\nname = value\n[profile bar]\nname2 = value2",
	 .exps = {GET("foo", "name", "value"), GET("bar", "name2", "value2"),
		  GET("foo", "name2", NULL), GET("bar", "name", NULL)}},
	{"blank lines", .config = "\t \n[profile foo]\n\t\n \nname = value\n\t \n[profile bar]\n \t",
	 .list = "foo,bar", .exps = {GET("foo", "name", "value")}},
	{"pound comments", .config = "# Comment\n[profile foo] # Comment\nname = value # Comment with # sign",
	 .list = "foo", .exps = {GET("foo", "name", "value")}},
	{"semicolon comments",
	 .config = "; Comment\n[profile foo] ; Comment\nname = value ; Comment with ; sign",
	 .exps = {GET("foo", "name", "value")}},
	{"mixed comments", .config = "# Comment\n[profile foo] ; Comment\nname = value # Comment with ; sign",
	 .exps = {GET("foo", "name", "value")}},
	{"empty comments", .config = ";\n[profile foo];\nname = value ;\n",
	 .exps = {GET("foo", "name", "value")}},
	{"comments adjacent to section", .config = "[profile foo]; Adjacent\n[profile bar]# Adjacent",
	 .list = "foo,bar"},
	{"comments adjacent to values stay",
	 .config = "[profile foo]\nname = value; Adjacent semicolons\nname2 = value# Adjacent pound",
	 .exps = {GET("foo", "name", "value; Adjacent semicolons"),
		  GET("foo", "name2", "value# Adjacent pound")}},
	{"a;b and a ;b", .config = "[default]\nk1 = a;b\nk2 = a ;b\nk3 = a\t#b\nk4 = #b",
	 .exps = {GET("default", "k1", "a;b"), GET("default", "k2", "a"), GET("default", "k3", "a"),
		  GET("default", "k4", "")}},
	{"URL with #", .config = "[default]\nendpoint_url = https://example.com/a#frag\n"
				  "u2 = https://example.com/ #note",
	 .exps = {GET("default", "endpoint_url", "https://example.com/a#frag"),
		  GET("default", "u2", "https://example.com/")}},
	{"continuation", .config = "[profile foo]\nname = value\n -continued",
	 .exps = {GET("foo", "name", "value\n-continued")}},
	{"continuations", .config = "[profile foo]\nname = value\n -continued\n -and-continued",
	 .exps = {GET("foo", "name", "value\n-continued\n-and-continued")}},
	{"continuation trimmed", .config = "[profile foo]\nname = value\n \t -continued \t ",
	 .exps = {GET("foo", "name", "value\n-continued")}},
	{"continuation keeps # and ;", .config = "[profile foo]\nname = value\n -c # C\n -d ; D",
	 .exps = {GET("foo", "name", "value\n-c # C\n-d ; D")}},
	{"continuation across blank line", .config = "[default]\nname = a\n\n  b\nx = y",
	 .exps = {GET("default", "name", "a\nb"), GET("default", "x", "y")}},
	{"continuation of two properties", .config = "[default]\na = 1\n 2\nb = 3\n 4\n 5",
	 .exps = {GET("default", "a", "1\n2"), GET("default", "b", "3\n4\n5")}},
	{"continuation CRLF", .config = "[default]\r\na = 1\r\n\t2\r\n",
	 .exps = {GET("default", "a", "1\n2")}},
	{"continuation outside section", .config = " -continued", .err_cfg = 1},
	{"continuation outside property", .config = "[profile foo]\n -continued", .err_cfg = 2},
	{"continuation reset by section", .config = "[profile foo]\nname = value\n[profile foo]\n -c",
	 .err_cfg = 4},
	{"duplicate profiles merge", .config = "[profile foo]\nname = value\n[profile foo]\nname2 = value2",
	 .list = "foo", .exps = {GET("foo", "name", "value"), GET("foo", "name2", "value2")}},
	{"duplicate key: last wins", .config = "[profile foo]\nname = value\nname = value2",
	 .exps = {GET("foo", "name", "value2")}},
	{"duplicate key in duplicate profile", .config = "[profile foo]\nname = value\n[profile foo]\nname = value2",
	 .exps = {GET("foo", "name", "value2")}},
	{"duplicate key after continuation", .config = "[default]\na = 1\n 2\na = 3",
	 .exps = {GET("default", "a", "3")}},
	{"[profile default] first wins", .config = "[profile default]\nname = value\n[default]\nname2 = value2",
	 .list = "default", W(1), .exps = {GET("default", "name", "value"), GET("default", "name2", NULL)}},
	{"[profile default] last wins", .config = "[default]\nname2 = value2\n[profile default]\nname = value",
	 .exps = {GET("default", "name", "value"), GET("default", "name2", NULL)}},
	{"[default] alone", .config = "[default]\nregion = us-west-2", .list = "default",
	 .exps = {GET("default", "region", "us-west-2")}},
	{"invalid profile names ignored", .config = "[profile in valid]\nname = value",
	 .creds = "[in valid 2]\nname2 = value2", .list = "", W(2)},
	{"invalid property names ignored", .config = "[profile foo]\nin valid = value\n  more\nok = 1",
	 W(1), .exps = {GET("foo", "in valid", NULL), GET("foo", "ok", "1")}},
	{"all name characters",
	 .config = "[profile ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_./%@:+]\n"
		   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_./%@:+ = value",
	 .exps = {GET("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_./%@:+",
		      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_./%@:+",
		      "value")}},
	{"dots and @ in names", .config = "[profile dev.admin@corp]\nregion = eu-west-1",
	 .list = "dev.admin@corp", .exps = {GET("dev.admin@corp", "region", "eu-west-1")}},
	{"space in profile name", .config = "[profile my profile]\nregion = x\n[profile ok]",
	 .list = "ok", W(1), .exps = {GET("my profile", "region", NULL), GET("my", "region", NULL)}},
	{"keys are case-sensitive", .config = "[default]\nRegion = x",
	 .exps = {GET("default", "region", NULL), GET("default", "Region", "x")}},
	{"profile names are case-sensitive", .config = "[profile Foo]\na = 1",
	 .exps = {GET("foo", "a", NULL), GET("Foo", "a", "1")}},
	{"sub-properties", .config = "[profile foo]\ns3 =\n name = value",
	 .exps = {SUB("foo", "s3", "name", "value"), GET("foo", "s3", ""), GET("foo", "name", NULL)}},
	{"invalid sub-property", .config = "[profile foo]\ns3 =\n invalid", .err_cfg = 3},
	{"sub-property empty value", .config = "[profile foo]\ns3 =\n name =",
	 .exps = {SUB("foo", "s3", "name", "")}},
	{"sub-property empty name", .config = "[profile foo]\ns3 =\n = value", .err_cfg = 3},
	{"sub-property invalid name", .config = "[profile foo]\ns3 =\n in valid = value\n valid = value",
	 W(1), .exps = {SUB("foo", "s3", "valid", "value"), SUB("foo", "s3", "in valid", NULL)}},
	{"sub-properties with blank lines", .config = "[profile foo]\ns3 =\n name = value\n\t \n name2 = value2",
	 .exps = {SUB("foo", "s3", "name", "value"), SUB("foo", "s3", "name2", "value2")}},
	{"sub-property comments", .config = "[default]\ns3 =\n  # note\n  a = 1 # x\n  b = 2;3",
	 .exps = {SUB("default", "s3", "a", "1"), SUB("default", "s3", "b", "2;3")}},
	{"sub-property duplicate", .config = "[default]\ns3 =\n a = 1\n a = 2",
	 .exps = {SUB("default", "s3", "a", "2")}},
	{"redefinition drops sub-properties", .config = "[default]\ns3 =\n a = 1\ns3 = flat",
	 .exps = {SUB("default", "s3", "a", NULL), GET("default", "s3", "flat")}},
	{"sub-properties then property", .config = "[default]\nname = value1\n value2 = 12 \n value3\n"
						 "name2 = value2\nname3 =\n name3_0 = 1",
	 .exps = {GET("default", "name", "value1\nvalue2 = 12\nvalue3"),
		  GET("default", "name2", "value2"), SUB("default", "name3", "name3_0", "1")}},
	{"profiles merged across files", .config = "[profile foo]\nname = value",
	 .creds = "[foo]\nname2 = value2", .list = "foo",
	 .exps = {GET("foo", "name", "value"), GET("foo", "name2", "value2")}},
	{"mixed default prefixes", .config = "[profile default]\nname = value\n[default]\nname2 = value2\n"
					   "[profile default]\nname3 = value3",
	 .exps = {GET("default", "name", "value"), GET("default", "name2", NULL),
		  GET("default", "name3", "value3")}},
	{"mixed default prefixes with credentials",
	 .config = "[profile default]\nname = value\n[default]\nname2 = value2\n[profile default]\nname3 = value3",
	 .creds = "[default]\nsecret=foo", .list = "default",
	 .exps = {GET("default", "name", "value"), GET("default", "name2", NULL),
		  GET("default", "name3", "value3"), GET("default", "secret", "foo")}},
	{"credentials win per key", .config = "[profile foo]\nname = value\nregion = r",
	 .creds = "[foo]\nname = value2",
	 .exps = {GET("foo", "name", "value2"), GET("foo", "region", "r"), CGET("foo", "name", "value")}},
	{"credentials empty value still wins", .config = "[default]\nk = c", .creds = "[default]\nk =",
	 .exps = {GET("default", "k", "")}},
	{"config without prefix ignored", .config = "[foo]\nname = value\n  cont", .list = "", W(1)},
	{"credentials with prefix ignored", .creds = "[profile foo]\nname = value", .list = "", W(1)},
	{"credentials [profile default] ignored", .creds = "[profile default]\na = 1\n[default]\nb = 2",
	 .exps = {GET("default", "a", NULL), GET("default", "b", "2")}},
	{"credentials sso-session ignored", .creds = "[sso-session s]\nname = value1", .list = "", W(1),
	 .exps = {SSO("s", "name", NULL)}},
	{"sneaky profile name", .config = "[profilefoo]\nname = value\n[profile bar]", .list = "bar"},
	{"properties of an invalid profile ignored",
	 .config = "[profile foo]\nname = value\n[profile in valid]\nx = 1\n[profile bar]\nname = value2",
	 .list = "foo,bar", .exps = {GET("foo", "name", "value"), GET("bar", "name", "value2")}},
	{"ignored section still needs '='", .config = "[foo]\njunk", .err_cfg = 2},
	{"extra whitespace in header", .config = "[   profile foo    ]\nname = value\n[profile bar]",
	 .list = "foo,bar", .exps = {GET("foo", "name", "value")}},
	{"extra whitespace in credentials header", .creds = "[   foo    ]\nname = value\n[profile bar]",
	 .list = "foo", .exps = {GET("foo", "name", "value")}},
	{"empty header", .config = "[]\na = b\n[ ]\n[default]", .list = "default", W(2)},
	{"junk after header", .config = "[profile foo] junk\na = 1", .exps = {GET("foo", "a", "1")}},
	{"sso-session", .config = "[sso-session my-session]\nsso_region = us-east-1\n"
				  "sso_start_url = https://d-1.awsapps.com/start#/",
	 .list = "", .exps = {SSO("my-session", "sso_region", "us-east-1"),
			      SSO("my-session", "sso_start_url", "https://d-1.awsapps.com/start#/")}},
	{"sso-session and profile share a name", .config = "[sso-session foo]\nname = value1\n[profile foo]\nname2 = value2\n",
	 .list = "foo", .exps = {SSO("foo", "name", "value1"), SSO("foo", "name2", NULL),
				 GET("foo", "name2", "value2"), GET("foo", "name", NULL)}},
	{"sso-session whitespace", .config = "[   sso-session foo    ]\nname = value\n[profile bar]",
	 .list = "bar", .exps = {SSO("foo", "name", "value")}},
	{"bare [sso-session] ignored", .config = "[sso-session]\nname = value\n", .list = "", W(1)},
	{"sso-session named default", .config = "[default]\nname = p\n[sso-session default]\nname = s",
	 .exps = {GET("default", "name", "p"), SSO("default", "name", "s")}},
	{"services section", .config = "[default]\nservices = my-services\n[services my-services]\n"
				       "s3 =\n\tendpoint_url = https://s3-endpoint-override.aws\n"
				       "bedrock-runtime =\n  endpoint_url = http://127.0.0.1:8080\n",
	 .list = "default", .exps = {GET("default", "services", "my-services"),
				     SVC("my-services", "s3", "endpoint_url", "https://s3-endpoint-override.aws"),
				     SVC("my-services", "bedrock-runtime", "endpoint_url", "http://127.0.0.1:8080"),
				     SVC("my-services", "sts", "endpoint_url", NULL),
				     SVC("other", "s3", "endpoint_url", NULL)}},
	{"unknown section type ignored", .config = "[default]\nregion = us-weast-4\n[foobar my-custom]\napple =\n\tbanana = cherry",
	 .list = "default", W(1), .exps = {GET("default", "region", "us-weast-4"), GET("default", "apple", NULL)}},
	{"UTF-8 BOM", .config = "\xEF\xBB\xBF[default]\nregion = us-east-2",
	 .exps = {GET("default", "region", "us-east-2")}},
	{"BOM in credentials", .creds = "\xEF\xBB\xBF[default]\naws_access_key_id = AKID",
	 .exps = {GET("default", "aws_access_key_id", "AKID")}},
	{"BOM only mid-file is text", .config = "[default]\n\xEF\xBB\xBF" "a = 1", .err_cfg = 0, W(1),
	 .exps = {GET("default", "a", NULL)}},
	{"tabs everywhere", .config = "[\tprofile\tt\t]\t# c\nkey\t=\tv\t\n\tmore\t",
	 .exps = {GET("t", "key", "v\nmore")}},
	{"vertical tab and form feed trimmed", .config = "[default]\na = \v1\f", .exps = {GET("default", "a", "1")}},
	{"no trailing newline / many trailing newlines", .config = "[default]\na = 1\n\n\n\n",
	 .exps = {GET("default", "a", "1")}},
	{"indented comment with no property", .config = "  # hello\n[default]\n  ; c\na = 1",
	 .exps = {GET("default", "a", "1")}},
	{"property before any section (after comment)", .config = "# c\n\nregion = x\n[default]", .err_cfg = 3},
	{"error in credentials", .config = "[default]", .creds = "[default]\nfoo\n", .err_creds = 2},
	{"real config", .config = "[default]\nregion = us-west-2\noutput = json\n\n"
				  "[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/Admin\n"
				  "source_profile = default\nmfa_serial = arn:aws:iam::123456789012:mfa/me\n",
	 .creds = "[default]\naws_access_key_id = AKIDEXAMPLE\n"
		  "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\n",
	 .list = "default,admin",
	 .exps = {GET("admin", "role_arn", "arn:aws:iam::123456789012:role/Admin"),
		  GET("admin", "source_profile", "default"),
		  GET("default", "aws_secret_access_key", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
		  GET("default", "region", "us-west-2"), GET("admin", "aws_access_key_id", NULL)}},
	{"list: credentials-only names last", .config = "[profile b]\n[default]",
	 .creds = "[a]\n[b]\n[default]\n[c]", .list = "b,default,a,c"},
};

static int check_exp(const struct profile_set *ps, const struct exp *x)
{
	struct slice v = {NULL, 0};
	int found = 0;

	switch (x->what) {
	case E_GET:
		found = profile_get(ps, x->a, x->b, &v);
		break;
	case E_CGET:
		found = profile_file_get(ps->config, PROFILE_SEC_PROFILE, x->a, x->b, &v);
		break;
	case E_SUB:
		found = profile_get_sub(ps, x->a, x->b, x->c, &v);
		break;
	case E_SSO:
		found = profile_sso_get(ps, x->a, x->b, &v);
		break;
	case E_SVC:
		found = profile_services_get(ps, x->a, x->b, x->c, &v);
		break;
	default:
		return 0;
	}
	if (!x->want) {
		if (found)
			fprintf(stderr, "  %s.%s: want absent, got \"%.*s\"\n", x->a, x->b, (int)v.n,
				(const char *)v.p);
		return !found;
	}
	if (!found || !slice_eq_str(v, x->want)) {
		fprintf(stderr, "  %s.%s%s%s: want \"%s\", got %s\"%.*s\"\n", x->a, x->b, x->c ? "." : "",
			x->c ? x->c : "", x->want, found ? "" : "(absent) ", (int)v.n,
			found ? (const char *)v.p : "");
		return 0;
	}
	return 1;
}

static int check_list(const struct profile_set *ps, const char *want)
{
	struct slice names[16];
	size_t n = profile_list(ps, names, 16);
	char got[512];
	size_t len = 0;

	got[0] = 0;
	for (size_t i = 0; i < n && i < 16; i++) {
		int w = snprintf(got + len, sizeof got - len, "%s%.*s", i ? "," : "", (int)names[i].n,
				 (const char *)names[i].p);
		if (w < 0 || (size_t)w >= sizeof got - len)
			return 0;
		len += (size_t)w;
	}
	if (strcmp(got, want) != 0) {
		fprintf(stderr, "  list: want \"%s\", got \"%s\"\n", want, got);
		return 0;
	}
	return 1;
}

/* Parses one file; returns 1 when the outcome (error line or success)
 * is the expected one. The error message must name the line. */
static int parse_one(struct profile_file *pf, enum profile_kind kind, const char *text,
		     int err_line)
{
	struct err e;
	int r;

	err_clear(&e);
	r = profile_parse(pf, kind, text, text ? strlen(text) : 0, &e);
	if (!err_line) {
		if (r != 0)
			fprintf(stderr, "  unexpected error: %s\n", e.msg);
		return r == 0;
	}
	char want[32];
	snprintf(want, sizeof want, "line %d:", err_line);
	if (r == 0 || e.cls != ERR_USAGE || strncmp(e.msg, want, strlen(want)) != 0) {
		fprintf(stderr, "  want error at %s, got r=%d cls=%d \"%s\"\n", want, r, e.cls, e.msg);
		return 0;
	}
	/* a failed parse leaves nothing behind */
	return pf->nsec == 0 && pf->nprop == 0;
}

static struct profile_file cfg, crd;

static void run_case(const struct pcase *c)
{
	struct profile_set ps = {NULL, NULL};
	int ok = 1;

	if (c->config) {
		ok &= parse_one(&cfg, PROFILE_CONFIG, c->config, c->err_cfg);
		ps.config = &cfg;
	}
	if (c->creds) {
		ok &= parse_one(&crd, PROFILE_CREDENTIALS, c->creds, c->err_creds);
		ps.credentials = &crd;
	}
	if (ok && c->list)
		ok &= check_list(&ps, c->list);
	if (ok && c->nwarn) {
		size_t nw = (c->config ? cfg.nwarn : 0) + (c->creds ? crd.nwarn : 0);
		if (nw != (size_t)(c->nwarn - 1)) {
			fprintf(stderr, "  warnings: want %d, got %zu\n", c->nwarn - 1, nw);
			ok = 0;
		}
	}
	for (size_t i = 0; ok && i < 8 && c->exps[i].what; i++)
		ok &= check_exp(&ps, &c->exps[i]);
	t_case(c->name, ok);
	profile_free(&cfg);
	profile_free(&crd);
}

static void test_table(void)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		run_case(&cases[i]);
}

/* Error messages name the line; warnings record theirs. */
static void test_messages(void)
{
	struct err e;
	const char *t = "[default]\n\n[profile x y]\n[foo]\nk = v\n[default\n";

	err_clear(&e);
	CHECK(profile_parse(&cfg, PROFILE_CONFIG, t, strlen(t), &e) < 0);
	CHECK_STR(e.msg, "line 6: section header without ']'");
	t = "[default]\n\n[profile x y]\n[foo]\nk = v\n";
	CHECK(profile_parse(&cfg, PROFILE_CONFIG, t, strlen(t), &e) == 0);
	CHECK(cfg.nwarn == 2);
	CHECK(cfg.warn[0].line == 3);
	CHECK(cfg.warn[1].line == 4);
	CHECK(strstr(cfg.warn[1].why, "profile NAME") != NULL);
	profile_free(&cfg);
	profile_free(&cfg); /* idempotent */
}

static void test_nul_and_null(void)
{
	struct err e;
	static const char t[] = "[default]\na = b\0c\n";
	struct profile_set ps = {&cfg, NULL};
	struct slice v;

	CHECK(profile_parse(&cfg, PROFILE_CONFIG, t, sizeof t - 1, &e) < 0);
	CHECK(e.cls == ERR_USAGE);
	CHECK(profile_parse(&cfg, PROFILE_CONFIG, NULL, 0, &e) == 0);
	CHECK(!profile_get(&ps, "default", "a", &v));
	CHECK(!profile_exists(&ps, "default"));
	ps.config = NULL; /* no files at all */
	CHECK(!profile_get(&ps, "default", "a", &v));
	CHECK(profile_list(&ps, NULL, 0) == 0);
	profile_free(&cfg);
}

static void test_get_str_and_list(void)
{
	struct err e;
	const char *c = "[default]\nregion = us-west-2\n[profile a]\n[profile b]\n[profile c]\n";
	struct profile_set ps = {&cfg, NULL};
	struct slice names[2];
	char small[4], big[32];

	CHECK(profile_parse(&cfg, PROFILE_CONFIG, c, strlen(c), &e) == 0);
	CHECK(profile_get_str(&ps, "default", "region", big, sizeof big) == 1);
	CHECK_STR(big, "us-west-2");
	CHECK(profile_get_str(&ps, "default", "region", small, sizeof small) == -1);
	CHECK_STR(small, "");
	CHECK(profile_get_str(&ps, "default", "nope", big, sizeof big) == 0);
	CHECK(profile_list(&ps, names, 2) == 4);
	CHECK(slice_eq_str(names[0], "default") && slice_eq_str(names[1], "a"));
	CHECK(profile_exists(&ps, "c") && !profile_exists(&ps, "d"));
	CHECK(profile_file_has(&cfg, PROFILE_SEC_PROFILE, "a"));
	CHECK(!profile_file_has(&cfg, PROFILE_SEC_SSO_SESSION, "a"));
	profile_free(&cfg);
}

/* Limits: each is a clean error, and the value just under it works. */
static void test_limits(void)
{
	struct err e;
	struct buf b;
	struct profile_set ps = {&cfg, NULL};
	struct slice v;

	/* properties: 1024 fit, 1025 do not; redefinitions do not count */
	buf_init(&b, 1 << 20);
	CHECK(buf_append_str(&b, "[default]\n") == 0);
	for (int i = 0; i < PROFILE_MAX_PROPS; i++)
		CHECK(buf_appendf(&b, "k%d = v%d\nk%d = w%d\n", i, i, i, i) == 0);
	CHECK(profile_parse(&cfg, PROFILE_CONFIG, b.p, b.len, &e) == 0);
	CHECK(profile_get(&ps, "default", "k1023", &v) && slice_eq_str(v, "w1023"));
	profile_free(&cfg);
	CHECK(buf_append_str(&b, "one = more\n") == 0);
	CHECK(profile_parse(&cfg, PROFILE_CONFIG, b.p, b.len, &e) < 0);
	CHECK(strstr(e.msg, "too many properties") != NULL);
	profile_free(&cfg);

	/* sections */
	buf_reset(&b);
	for (int i = 0; i < PROFILE_MAX_SECTIONS; i++)
		CHECK(buf_appendf(&b, "[profile p%d]\n[profile p%d]\n", i, i) == 0);
	CHECK(profile_parse(&cfg, PROFILE_CONFIG, b.p, b.len, &e) == 0);
	CHECK(profile_list(&ps, NULL, 0) == PROFILE_MAX_SECTIONS);
	profile_free(&cfg);
	CHECK(buf_append_str(&b, "[profile extra]\n") == 0);
	CHECK(profile_parse(&cfg, PROFILE_CONFIG, b.p, b.len, &e) < 0);
	CHECK(strstr(e.msg, "too many sections") != NULL);
	profile_free(&cfg);

	/* names */
	buf_reset(&b);
	CHECK(buf_append_str(&b, "[profile ") == 0);
	for (int i = 0; i < PROFILE_MAX_NAME; i++)
		CHECK(buf_append_byte(&b, 'n') == 0);
	CHECK(buf_append_str(&b, "]\n") == 0);
	CHECK(profile_parse(&cfg, PROFILE_CONFIG, b.p, b.len, &e) == 0);
	profile_free(&cfg);
	b.len -= 2;
	CHECK(buf_append_str(&b, "n]\n") == 0);
	CHECK(profile_parse(&cfg, PROFILE_CONFIG, b.p, b.len, &e) < 0);
	CHECK_STR(e.msg, "line 1: section name too long (limit 256)");
	profile_free(&cfg);

	/* a value joined from continuations: 64 KiB fits, one more byte does not */
	buf_reset(&b);
	CHECK(buf_append_str(&b, "[default]\nk = x\n") == 0);
	size_t have = 1;
	while (have + 2 + 100 <= PROFILE_MAX_VALUE) {
		CHECK(buf_append_str(&b, " ") == 0);
		for (int i = 0; i < 100; i++)
			CHECK(buf_append_byte(&b, 'y') == 0);
		CHECK(buf_append_byte(&b, '\n') == 0);
		have += 101;
	}
	size_t rest = PROFILE_MAX_VALUE - have - 1;
	CHECK(buf_append_str(&b, " ") == 0);
	for (size_t i = 0; i < rest; i++)
		CHECK(buf_append_byte(&b, 'z') == 0);
	CHECK(profile_parse(&cfg, PROFILE_CONFIG, b.p, b.len, &e) == 0);
	CHECK(profile_get(&ps, "default", "k", &v) && v.n == PROFILE_MAX_VALUE);
	CHECK(v.p[0] == 'x' && v.p[1] == '\n' && v.p[2] == 'y' && v.p[v.n - 1] == 'z');
	profile_free(&cfg);
	CHECK(buf_append_str(&b, "z\n") == 0);
	CHECK(profile_parse(&cfg, PROFILE_CONFIG, b.p, b.len, &e) < 0);
	CHECK(strstr(e.msg, "value too long") != NULL);
	profile_free(&cfg);

	/* the whole file */
	buf_free(&b);
	buf_init(&b, PROFILE_MAX_TEXT + 2);
	CHECK(buf_append_str(&b, "[default]\n") == 0);
	while (b.len <= PROFILE_MAX_TEXT)
		CHECK(buf_append_str(&b, "#\n") == 0);
	CHECK(profile_parse(&cfg, PROFILE_CONFIG, b.p, b.len, &e) < 0);
	CHECK(strstr(e.msg, "too large") != NULL);
	buf_free(&b);
	profile_free(&cfg);
}

/* Values live either in the caller's text or in the arena: both must stay
 * valid while the struct lives, whatever the interleaving. */
static void test_arena_interleaving(void)
{
	struct err e;
	const char *c = "[default]\na = 1\n 2\nb = x\nc = 3\n 4\n 5\na = 6\n 7\n[profile p]\nd = 8\n 9\n";
	struct profile_set ps = {&cfg, NULL};
	struct slice v;

	CHECK(profile_parse(&cfg, PROFILE_CONFIG, c, strlen(c), &e) == 0);
	CHECK(profile_get(&ps, "default", "a", &v) && slice_eq_str(v, "6\n7"));
	CHECK(profile_get(&ps, "default", "b", &v) && slice_eq_str(v, "x"));
	CHECK(profile_get(&ps, "default", "c", &v) && slice_eq_str(v, "3\n4\n5"));
	CHECK(profile_get(&ps, "p", "d", &v) && slice_eq_str(v, "8\n9"));
	CHECK(cfg.arena.len <= strlen(c));
	profile_free(&cfg);
}

/* Golden files: tests/profile/{config,credentials} against golden.txt,
 * lines "KIND<TAB>a<TAB>b[<TAB>c]<TAB>value" (value "\n" escaped as \n,
 * "-" alone for absent). KIND: P profile, U sub-property, S sso-session,
 * V services, L list. */
static void unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] == 'n') {
			*w++ = '\n';
			s++;
		} else {
			*w++ = *s;
		}
	}
	*w = 0;
}

static void test_golden(void)
{
	size_t nc, nk, ng;
	char *c = t_slurp("tests/profile/config", &nc);
	char *k = t_slurp("tests/profile/credentials", &nk);
	char *g = t_slurp("tests/profile/golden.txt", &ng);
	struct profile_set ps = {&cfg, &crd};
	struct err e;
	char *line, *next;
	int lineno = 0;

	CHECK(c && k && g);
	if (!c || !k || !g)
		goto out;
	CHECK(profile_parse(&cfg, PROFILE_CONFIG, c, nc, &e) == 0);
	CHECK(profile_parse(&crd, PROFILE_CREDENTIALS, k, nk, &e) == 0);
	for (line = g; line && *line; line = next) {
		char *f[5] = {NULL};
		int nf = 0;
		char name[64];

		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		lineno++;
		if (!*line || *line == '#')
			continue;
		for (char *p = line; nf < 5; nf++) {
			f[nf] = p;
			p = strchr(p, '\t');
			if (!p) {
				nf++;
				break;
			}
			*p++ = 0;
		}
		snprintf(name, sizeof name, "golden.txt:%d", lineno);
		for (int i = 0; i < nf; i++)
			unescape(f[i]);
		const char *want = f[nf - 1];
		struct exp x = {0, f[1], nf > 3 ? f[2] : NULL, nf > 4 ? f[3] : NULL,
				strcmp(want, "-") == 0 ? NULL : want};
		switch (f[0][0]) {
		case 'P':
			x.what = E_GET;
			break;
		case 'U':
			x.what = E_SUB;
			break;
		case 'S':
			x.what = E_SSO;
			break;
		case 'V':
			x.what = E_SVC;
			break;
		case 'L':
			t_case(name, check_list(&ps, f[1]));
			continue;
		}
		t_case(name, nf >= 3 && check_exp(&ps, &x));
	}
out:
	profile_free(&cfg);
	profile_free(&crd);
	free(c);
	free(k);
	free(g);
}

int main(int argc, char **argv)
{
	(void)argc;
	T_RUN(test_table);
	T_RUN(test_messages);
	T_RUN(test_nul_and_null);
	T_RUN(test_get_str_and_list);
	T_RUN(test_limits);
	T_RUN(test_arena_interleaving);
	T_RUN(test_golden);
	return t_done(argv[0]);
}
