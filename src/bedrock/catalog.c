/* catalog: configured + discovered models, tags, refs, renderings. See
 * catalog.h. */
#include "bedrock/catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bedrock/known.h"
#include "wire/json.h"

void catalog_free(struct catalog *cat)
{
	for (size_t i = 0; i < cat->n; i++) {
		free(cat->v[i].id);
		free(cat->v[i].name);
		free(cat->v[i].maker);
	}
	free(cat->v);
	memset(cat, 0, sizeof *cat);
}

static long find_id(const struct catalog *cat, const char *id)
{
	for (size_t i = 0; i < cat->n; i++)
		if (strcmp(cat->v[i].id, id) == 0)
			return (long)i;
	return -1;
}

/* A system inference profile (geographic prefix) or a profile ARN. */
static int id_is_profile(const char *id)
{
	const char *p;
	size_t n;

	return disc_id_maker(id, &p, &n) || strstr(id, ":inference-profile/") ||
	       strstr(id, ":application-inference-profile/");
}

/* Appends a model with the given id/name/maker (copied); NULL on OOM. */
static struct cat_model *add(struct catalog *cat, const char *id, const char *name,
			     const char *maker)
{
	struct cat_model *m;
	const char *mk;
	size_t mkn;

	if (cat->n == cat->cap) {
		size_t nc = cat->cap ? cat->cap * 2 : 32;
		struct cat_model *nv = realloc(cat->v, nc * sizeof *nv);

		if (!nv)
			return NULL;
		cat->v = nv;
		cat->cap = nc;
	}
	m = &cat->v[cat->n];
	memset(m, 0, sizeof *m);
	disc_id_maker(id, &mk, &mkn);
	m->id = str_dupn(id, strlen(id));
	m->name = name && *name ? str_dupn(name, strlen(name)) : str_dupn(id, strlen(id));
	if (maker && *maker) {
		mk = maker;
		mkn = strlen(maker);
	}
	m->maker = str_dupn(mk, mkn);
	if (m->maker)
		str_lower(m->maker, mkn);
	if (!m->id || !m->name || !m->maker) {
		free(m->id);
		free(m->name);
		free(m->maker);
		return NULL;
	}
	if (id_is_profile(id))
		m->tags |= CAT_TAG_PROFILE;
	cat->n++;
	return m;
}

static unsigned config_input(const struct config_model *cm)
{
	unsigned in = 0;

	for (size_t i = 0; i < cm->n_input; i++) {
		if (strcasecmp(cm->input[i], "text") == 0)
			in |= DISC_IN_TEXT;
		else if (strcasecmp(cm->input[i], "image") == 0)
			in |= DISC_IN_IMAGE;
	}
	return in;
}

/* Context window, largest output and reasoning of the known-model table
 * (known.h), else the discovery defaults. */
static void set_limits(struct cat_model *m, const struct config_discovery *dc, const char *base)
{
	const struct known_model *k = known_lookup(m->id);

	if (!k && base && base[0])
		k = known_lookup(base); /* an application profile: its model's */

	m->context_window = k ? k->context_window : dc->default_context_window;
	m->max_tokens = k ? k->max_tokens : dc->default_max_tokens;
	m->reasoning = k ? k->reasoning : 0;
}

static int add_configured(struct catalog *cat, const struct config *cfg,
			  const struct disc_list *disc)
{
	const struct config_discovery *dc = &cfg->discovery;

	for (size_t i = 0; i < cfg->bedrock.n_models; i++) {
		const struct config_model *cm = &cfg->bedrock.models[i];
		long di = disc ? disc_list_find(disc, cm->id, strlen(cm->id)) : -1;
		const struct disc_model *dm = di >= 0 ? &disc->v[di] : NULL;
		struct cat_model *m;

		if (!cm->id[0] || find_id(cat, cm->id) >= 0)
			continue;
		m = add(cat, cm->id,
			cm->name ? cm->name
			: dm     ? dm->name
				 : NULL,
			dm ? dm->provider : NULL);
		if (!m)
			return -1;
		m->input = cm->n_input ? config_input(cm) : dm ? dm->input : DISC_IN_TEXT;
		set_limits(m, dc, dm ? dm->base : NULL);
		if (cm->context_window > 0)
			m->context_window = cm->context_window;
		if (cm->max_tokens > 0)
			m->max_tokens = cm->max_tokens;
		if (cm->reasoning == 0 || cm->reasoning == 1)
			m->reasoning = cm->reasoning == 1;
		m->has_cost = cm->has_cost;
		m->cost = cm->cost;
		m->tags |= CAT_TAG_CONFIGURED;
		if (dm) {
			m->tags |= CAT_TAG_DISCOVERED;
			if (dm->profile)
				m->tags |= CAT_TAG_PROFILE;
		}
	}
	return 0;
}

static int cmp_disc(const void *a, const void *b)
{
	const struct disc_model *x = *(const struct disc_model *const *)a;
	const struct disc_model *y = *(const struct disc_model *const *)b;
	int c = strcmp(x->provider, y->provider);

	return c ? c : strcmp(x->id, y->id);
}

static int add_discovered(struct catalog *cat, const struct config *cfg,
			  const struct disc_list *disc)
{
	const struct disc_model **v;
	size_t k = 0;
	int rc = 0;

	if (!disc || !disc->n)
		return 0;
	v = calloc(disc->n, sizeof *v);
	if (!v)
		return -1;
	for (size_t i = 0; i < disc->n; i++)
		if (find_id(cat, disc->v[i].id) < 0)
			v[k++] = &disc->v[i];
	qsort(v, k, sizeof *v, cmp_disc);
	for (size_t i = 0; i < k && rc == 0; i++) {
		struct cat_model *m = add(cat, v[i]->id, v[i]->name, v[i]->provider);

		if (!m) {
			rc = -1;
			break;
		}
		m->input = v[i]->input;
		set_limits(m, &cfg->discovery, v[i]->base);
		m->tags |= CAT_TAG_DISCOVERED | (v[i]->profile ? CAT_TAG_PROFILE : 0);
	}
	free(v);
	return rc;
}

const char *catalog_ref_id(const char *ref)
{
	static const char pfx[] = CATALOG_PROVIDER "/";

	if (ref && strncmp(ref, pfx, sizeof pfx - 1) == 0)
		return ref + sizeof pfx - 1;
	return ref;
}

/* The primary model's id when it is a Bedrock one (prefixed, bare, or an
 * ARN), else NULL ("openai/gpt-x" belongs to someone else). */
static const char *primary_id(const struct config *cfg)
{
	const char *p = cfg->primary_model;
	const char *id;

	if (!p || !*p)
		return NULL;
	id = catalog_ref_id(p);
	if (id != p)
		return *id ? id : NULL;
	if (strncmp(p, "arn:", 4) == 0 || !strchr(p, '/'))
		return p;
	return NULL;
}

static int tag_default(struct catalog *cat, const struct config *cfg)
{
	const char *id = primary_id(cfg);
	long i;
	struct cat_model *m;

	if (!id)
		return 0;
	i = find_id(cat, id);
	for (size_t k = 0; i < 0 && k < cat->n; k++)
		if (strcmp(catalog_key(&cat->v[k]), id) == 0)
			i = (long)k; /* an application profile named by its name */
	if (i >= 0) {
		cat->v[i].tags |= CAT_TAG_DEFAULT;
		return 0;
	}
	m = add(cat, id, NULL, NULL);
	if (!m)
		return -1;
	m->input = DISC_IN_TEXT;
	m->context_window = cfg->discovery.default_context_window;
	m->max_tokens = cfg->discovery.default_max_tokens;
	m->tags |= CAT_TAG_DEFAULT;
	return 0;
}

int catalog_build(struct catalog *cat, const struct config *cfg, const struct disc_list *disc,
		  struct err *e)
{
	memset(cat, 0, sizeof *cat);
	if (add_configured(cat, cfg, disc) < 0 || add_discovered(cat, cfg, disc) < 0 ||
	    tag_default(cat, cfg) < 0) {
		catalog_free(cat);
		return err_set(e, ERR_OTHER, "out of memory");
	}
	for (size_t i = 0; i < cat->n; i++)
		if (cat->v[i].reasoning)
			cat->v[i].tags |= CAT_TAG_REASONING;
	return 0;
}

int catalog_is_maker(const struct cat_model *m, const char *provider)
{
	const char *p;
	size_t n;

	if (!provider || !*provider)
		return 1;
	if (strcasecmp(m->maker, provider) == 0)
		return 1;
	disc_id_maker(m->id, &p, &n);
	return strlen(provider) == n && strncasecmp(p, provider, n) == 0;
}

void catalog_filter_provider(struct catalog *cat, const char *provider)
{
	size_t k = 0;

	for (size_t i = 0; i < cat->n; i++) {
		if (catalog_is_maker(&cat->v[i], provider)) {
			cat->v[k++] = cat->v[i];
			continue;
		}
		free(cat->v[i].id);
		free(cat->v[i].name);
		free(cat->v[i].maker);
	}
	cat->n = k;
}

const char *catalog_key(const struct cat_model *m)
{
	const char *p = m->name;

	if (!strstr(m->id, ":application-inference-profile/") || !*p || strlen(p) > 64)
		return m->id;
	for (; *p; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
		    !(*p >= '0' && *p <= '9') && *p != '-' && *p != '_')
			return m->id;
	return m->name;
}

const struct cat_model *catalog_find(const struct catalog *cat, const char *ref)
{
	const char *id = catalog_ref_id(ref);
	long i;

	if (!id)
		return NULL;
	i = find_id(cat, id);
	if (i >= 0)
		return &cat->v[i];
	for (size_t k = 0; k < cat->n; k++)
		if (strcmp(catalog_key(&cat->v[k]), id) == 0)
			return &cat->v[k];
	return NULL;
}

/* ------------------------------------------------------------------ renderings */

void catalog_fmt_tokens(long long n, char *out, size_t outn)
{
	if (n < 10000) {
		snprintf(out, outn, "%lld", n < 0 ? 0 : n);
	} else if (n < 1000000) {
		snprintf(out, outn, "%lldk", (n + 500) / 1000);
	} else if (n % 1000000 == 0) {
		snprintf(out, outn, "%lldM", n / 1000000);
	} else {
		long long t = (n + 50000) / 100000; /* tenths of a million */

		if (t % 10 == 0)
			snprintf(out, outn, "%lldM", t / 10);
		else
			snprintf(out, outn, "%lld.%lldM", t / 10, t % 10);
	}
}

const char *catalog_input_str(unsigned input)
{
	switch (input & (DISC_IN_TEXT | DISC_IN_IMAGE)) {
	case DISC_IN_TEXT:
		return "text";
	case DISC_IN_IMAGE:
		return "image";
	case DISC_IN_TEXT | DISC_IN_IMAGE:
		return "text+image";
	default:
		return "-";
	}
}

static const char *const tag_names[] = {"default", "configured", "discovered", "profile",
					"reasoning"};

static int tags_str(unsigned tags, struct buf *b)
{
	int first = 1;

	buf_reset(b);
	for (unsigned i = 0; i < 5; i++) {
		if (!(tags & (1u << i)))
			continue;
		if ((!first && buf_append_byte(b, ',') < 0) || buf_append_str(b, tag_names[i]) < 0)
			return -1;
		first = 0;
	}
	if (first && buf_append_byte(b, '-') < 0)
		return -1;
	return 0;
}

static size_t max_sz(size_t a, size_t b)
{
	return a > b ? a : b;
}

int catalog_table(const struct catalog *cat, struct buf *out)
{
	size_t wm = strlen("Model"), wi = strlen("Input"), wc = strlen("Ctx"),
	       wo = strlen("MaxOut");
	char c[32], o[32];
	struct buf tags;
	int rc = 0;

	for (size_t i = 0; i < cat->n; i++) {
		const struct cat_model *m = &cat->v[i];

		wm = max_sz(wm, strlen(CATALOG_PROVIDER "/") + strlen(catalog_key(m)));
		wi = max_sz(wi, strlen(catalog_input_str(m->input)));
		catalog_fmt_tokens(m->context_window, c, sizeof c);
		catalog_fmt_tokens(m->max_tokens, o, sizeof o);
		wc = max_sz(wc, strlen(c));
		wo = max_sz(wo, strlen(o));
	}
	if (buf_appendf(out, "%-*s  %-*s  %-*s  %-*s  Tags\n", (int)wm, "Model", (int)wi, "Input",
			(int)wc, "Ctx", (int)wo, "MaxOut") < 0)
		return -1;
	buf_init(&tags, 4096);
	for (size_t i = 0; i < cat->n && rc == 0; i++) {
		const struct cat_model *m = &cat->v[i];
		size_t pad = wm - strlen(CATALOG_PROVIDER "/") - strlen(catalog_key(m));

		catalog_fmt_tokens(m->context_window, c, sizeof c);
		catalog_fmt_tokens(m->max_tokens, o, sizeof o);
		if (tags_str(m->tags, &tags) < 0 ||
		    buf_appendf(out, "%s/%s%*s  %-*s  %-*s  %-*s  %s\n", CATALOG_PROVIDER, catalog_key(m),
				(int)pad, "", (int)wi, catalog_input_str(m->input), (int)wc, c,
				(int)wo, o, (const char *)tags.p) < 0)
			rc = -1;
	}
	buf_free(&tags);
	return rc;
}

int catalog_plain(const struct catalog *cat, struct buf *out)
{
	for (size_t i = 0; i < cat->n; i++)
		if (buf_appendf(out, "%s/%s\n", CATALOG_PROVIDER, catalog_key(&cat->v[i])) < 0)
			return -1;
	return 0;
}

int catalog_json(const struct catalog *cat, struct buf *out, struct err *e)
{
	struct jw w;

	jw_init(&w, out);
	jw_obj_begin(&w);
	jw_kint(&w, "count", (int64_t)cat->n);
	jw_key(&w, "models");
	jw_arr_begin(&w);
	for (size_t i = 0; i < cat->n; i++) {
		const struct cat_model *m = &cat->v[i];

		jw_obj_begin(&w);
		jw_key(&w, "key");
		jw_str_begin(&w);
		jw_str_piece(&w, CATALOG_PROVIDER "/", strlen(CATALOG_PROVIDER "/"));
		jw_str_piece(&w, catalog_key(m), strlen(catalog_key(m)));
		jw_str_end(&w);
		jw_kstr(&w, "id", m->id);
		jw_kstr(&w, "name", m->name);
		jw_key(&w, "input");
		jw_arr_begin(&w);
		if (m->input & DISC_IN_TEXT)
			jw_str(&w, "text");
		if (m->input & DISC_IN_IMAGE)
			jw_str(&w, "image");
		jw_arr_end(&w);
		jw_kint(&w, "contextWindow", m->context_window);
		jw_kint(&w, "maxTokens", m->max_tokens);
		jw_kbool(&w, "reasoning", m->reasoning);
		jw_key(&w, "tags");
		jw_arr_begin(&w);
		for (unsigned t = 0; t < 5; t++)
			if (m->tags & (1u << t))
				jw_str(&w, tag_names[t]);
		jw_arr_end(&w);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_obj_end(&w);
	return jw_finish(&w, e);
}
