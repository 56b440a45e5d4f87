/* openai_feat: the Bedrock request features of an OpenAI chat-completions
 * request (SPEC 3.5, 7.1): service_tier and user over the gateway's config
 * defaults bedrock.* (service tier, latency, guardrail, request metadata),
 * and additionalModelRequestFields (the client's own object, anthropic_beta,
 * reasoning_effort's thinking fields). See openai.h. */
#include "bedrock/openai_map.h"

#include <stdio.h>
#include <string.h>

#include "bedrock/anthropic.h"
#include "bedrock/config.h"

#define OAI_MAX_META 16 /* requestMetadata entries Bedrock takes */

static int oai_service_tier(struct oai_map *m)
{
	int st = oai_member(m->d, 0, "service_tier");
	const struct config_features *f = m->def;

	if (st >= 0) {
		if (json_str_eq(m->d, st, "flex") || json_str_eq(m->d, st, "priority") ||
		    json_str_eq(m->d, st, "default"))
			json_strz(m->d, st, m->rq->service_tier, sizeof m->rq->service_tier, m->e);
		else if (!json_str_eq(m->d, st, "auto"))
			return oai_fail(m, "service_tier",
					"expected \"auto\", \"default\", \"flex\" or \"priority\"");
	}
	/* absent or "auto": the box's default, if any */
	if (!m->rq->service_tier[0] && f && f->service_tier)
		snprintf(m->rq->service_tier, sizeof m->rq->service_tier, "%.15s", f->service_tier);
	return 0;
}

/* service_tier, user and the defaults: a request field wins over the
 * default; `user` joins the default requestMetadata (replacing its "user"). */
int oai_features(struct oai_map *m)
{
	const struct config_features *f = m->def;
	const char *keys[OAI_MAX_META], *vals[OAI_MAX_META];
	int u = oai_member(m->d, 0, "user");
	char user[257] = "";
	struct conv_request cr;
	struct slice s;
	size_t n = 0;

	if (oai_service_tier(m) < 0)
		return -1;
	if (u >= 0) {
		if (oai_str(m, u, &m->s1, &s, "user") < 0)
			return -1;
		if (s.n >= sizeof user || memchr(s.p, 0, s.n))
			return oai_fail(m, "user", "at most 256 characters, no NUL");
		memcpy(user, s.p, s.n);
		user[s.n] = '\0';
	}
	memset(&cr, 0, sizeof cr);
	cr.service_tier = m->rq->service_tier[0] ? m->rq->service_tier : NULL;
	if (f) {
		cr.latency = f->latency;
		cr.guardrail_id = f->guardrail_id;
		cr.guardrail_version = f->guardrail_version;
		cr.guardrail_trace = f->guardrail_trace;
		for (size_t i = 0; i < f->n_meta && n < OAI_MAX_META - (user[0] != 0); i++) {
			if (user[0] && strcmp(f->meta_keys[i], "user") == 0)
				continue;
			keys[n] = f->meta_keys[i];
			vals[n++] = f->meta_values[i];
		}
	}
	if (user[0]) {
		keys[n] = "user";
		vals[n++] = user;
	}
	cr.meta_keys = keys;
	cr.meta_values = vals;
	cr.nmeta = n;
	conv_write_features(&m->w, &cr);
	return 0;
}

/* One anthropic_beta value (possibly "a,b"): the betas Bedrock documents are
 * kept once each (as the static names of anth_default_betas), others dropped
 * as the Anthropic route drops them (SPEC 7.2). */
static void oai_beta_add(struct slice v, const char **kept, size_t *nk)
{
	while (v.n) {
		const uint8_t *c = memchr(v.p, ',', v.n);
		struct slice b = {v.p, c ? (size_t)(c - v.p) : v.n};

		v = c ? (struct slice){c + 1, v.n - b.n - 1} : (struct slice){NULL, 0};
		b = slice_trim(b);
		for (size_t i = 0; anth_default_betas[i]; i++) {
			size_t j;

			if (!slice_eq_str(b, anth_default_betas[i]))
				continue;
			for (j = 0; j < *nk && kept[j] != anth_default_betas[i]; j++)
				;
			if (j == *nk && *nk < ANTH_MAX_BETAS)
				kept[(*nk)++] = anth_default_betas[i];
		}
	}
}

/* anthropic_beta: a string ("a,b") or an array of strings. */
static int oai_betas(struct oai_map *m, const char **kept, size_t *nk)
{
	int ab = oai_member(m->d, 0, "anthropic_beta"), t;
	struct slice v;

	*nk = 0;
	if (ab < 0)
		return 0;
	if (json_type(m->d, ab) == JSON_STRING) {
		if (oai_str(m, ab, &m->s1, &v, "anthropic_beta") < 0)
			return -1;
		oai_beta_add(v, kept, nk);
		return 0;
	}
	if (json_type(m->d, ab) != JSON_ARRAY)
		return oai_fail(m, "anthropic_beta", "expected a string or an array of strings");
	for (t = json_child(m->d, ab); t >= 0; t = json_next(m->d, t)) {
		if (oai_str(m, t, &m->s1, &v, "anthropic_beta") < 0)
			return -1;
		oai_beta_add(v, kept, nk);
	}
	return 0;
}

static void oai_thinking_fields(struct oai_map *m)
{
	jw_key(&m->w, "thinking");
	jw_obj_begin(&m->w);
	if (m->rq->effort[0]) {
		jw_kstr(&m->w, "type", "adaptive");
		jw_obj_end(&m->w);
		jw_key(&m->w, "output_config");
		jw_obj_begin(&m->w);
		jw_kstr(&m->w, "effort", m->rq->effort);
	} else {
		jw_kstr(&m->w, "type", "enabled");
		jw_kint(&m->w, "budget_tokens", m->rq->thinking);
	}
	jw_obj_end(&m->w);
}

/* additionalModelRequestFields: the client's own object (the Bedrock name,
 * as brock chat --extra), then anthropic_beta (Anthropic models only), then
 * reasoning_effort's thinking fields; a later one replaces a member of the
 * same name. */
int oai_model_fields(struct oai_map *m)
{
	int amrf = oai_member(m->d, 0, "additionalModelRequestFields"), k;
	int thinking = m->rq->thinking || m->rq->effort[0];
	const char *betas[ANTH_MAX_BETAS];
	size_t nb;
	struct slice key;

	if (amrf >= 0 && json_type(m->d, amrf) != JSON_OBJECT)
		return oai_fail(m, "additionalModelRequestFields", "expected an object");
	if (oai_betas(m, betas, &nb) < 0)
		return -1;
	if (!conv_model_is_anthropic(m->rq->model_id))
		nb = 0; /* another maker's model refuses Anthropic's field */
	if (!thinking && !nb && json_size(m->d, amrf) <= 0)
		return 0;
	jw_key(&m->w, "additionalModelRequestFields");
	jw_obj_begin(&m->w);
	for (k = json_child(m->d, amrf); k >= 0; k = json_next(m->d, k)) {
		if ((nb && json_str_eq(m->d, k, "anthropic_beta")) ||
		    (thinking && (json_str_eq(m->d, k, "thinking") ||
				  json_str_eq(m->d, k, "output_config"))))
			continue;
		if (oai_str(m, k, &m->s1, &key, "additionalModelRequestFields") < 0)
			return -1;
		jw_keyn(&m->w, (const char *)key.p, key.n);
		jw_tok(&m->w, m->d, k + 1); /* a key's value follows it */
	}
	if (nb) {
		jw_key(&m->w, "anthropic_beta");
		jw_arr_begin(&m->w);
		for (size_t i = 0; i < nb; i++)
			jw_str(&m->w, betas[i]);
		jw_arr_end(&m->w);
	}
	if (thinking)
		oai_thinking_fields(m);
	jw_obj_end(&m->w);
	return 0;
}
