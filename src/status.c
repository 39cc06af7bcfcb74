/*
 * status.c - the status snapshot as JSON (jansson) and as Prometheus text.
 * Both read the same snapshot, so `status --json` and `metrics` never
 * disagree about a fact.
 */
#include "status.h"
#include "util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *
wall_or_null(uint64_t ms)
{
	char buf[32];

	if (ms == 0)
		return json_null();
	util_format_wall(ms, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *
key_id_or_null(int known, uint32_t id)
{
	char buf[9];

	if (!known)
		return json_null();
	snprintf(buf, sizeof(buf), "%08x", (unsigned)id);
	return json_string(buf);
}

static json_t *
peer_json(const struct status_snapshot *s)
{
	json_t *p = json_object();

	json_object_set_new(p, "name", json_string(s->peer_name));
	json_object_set_new(p, "state",
			    s->peer_known
				? json_string(elect_role_name(s->peer_state))
				: json_null());
	json_object_set_new(p, "alive", json_boolean(s->peer_alive));
	json_object_set_new(p, "priority",
			    s->peer_known ? json_integer(s->peer_priority)
					  : json_null());
	json_object_set_new(p, "healthy",
			    s->peer_known ? json_boolean(s->peer_healthy)
					  : json_null());
	json_object_set_new(p, "maintenance",
			    s->peer_known ? json_boolean(s->peer_maintenance)
					  : json_null());
	json_object_set_new(p, "term",
			    s->peer_known
				? json_integer((json_int_t)s->peer_term)
				: json_null());
	json_object_set_new(p, "instance",
			    s->peer_instance[0] ? json_string(s->peer_instance)
						: json_null());
	json_object_set_new(p, "key_id",
			    key_id_or_null(s->peer_key_known, s->peer_key_id));
	json_object_set_new(
	    p, "unknown_key_id",
	    key_id_or_null(s->unknown_key_known, s->unknown_key_id));
	return p;
}

static json_t *
links_json(const struct status_snapshot *s)
{
	json_t *a = json_array();

	for (unsigned i = 0; i < s->nlinks; i++) {
		const struct status_link *l = &s->links[i];
		json_t *o = json_object();

		json_object_set_new(o, "index", json_integer(i));
		json_object_set_new(o, "local", json_string(l->local));
		json_object_set_new(o, "peer", json_string(l->peer));
		json_object_set_new(o, "up", json_boolean(l->up));
		json_object_set_new(o, "rtt_seconds",
				    l->have_rtt ? json_real(l->rtt_ms / 1000.)
						: json_null());
		json_object_set_new(o, "sent",
				    json_integer((json_int_t)l->sent));
		json_object_set_new(o, "received",
				    json_integer((json_int_t)l->received));
		json_object_set_new(o, "rejected",
				    json_integer((json_int_t)l->rejected));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *
resources_json(const struct status_snapshot *s)
{
	json_t *a = json_array();

	for (unsigned i = 0; i < s->nresources; i++) {
		const struct status_resource *r = &s->resources[i];
		json_t *o = json_object();

		json_object_set_new(o, "id", json_string(r->id));
		json_object_set_new(o, "type", json_string(r->type));
		json_object_set_new(o, "owner", json_string(r->owner));
		json_object_set_new(o, "owner_id",
				    r->owner_id[0] ? json_string(r->owner_id)
						   : json_null());
		json_object_set_new(o, "verified_at",
				    wall_or_null(r->verified_at_ms));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *
counters_json(const struct status_snapshot *s)
{
	json_t *c = json_object(), *to = json_object(), *rej = json_object();
	unsigned long total = 0;

	for (int r = 0; r < STATUS_ROLES; r++) {
		json_object_set_new(
		    to, elect_role_name((enum elect_role)r),
		    json_integer((json_int_t)s->transitions_to[r]));
		total += s->transitions_to[r];
	}
	json_object_set_new(c, "transitions", json_integer((json_int_t)total));
	json_object_set_new(c, "transitions_to", to);
	json_object_set_new(c, "failovers",
			    json_integer((json_int_t)s->failovers));
	json_object_set_new(c, "last_failover_seconds",
			    s->last_failover_ms
				? json_real(s->last_failover_ms / 1000.)
				: json_null());
	for (int e = 0; e < WIRE_ERR_COUNT; e++)
		if (s->rejected_by[e])
			json_object_set_new(
			    rej, wire_err_name((enum wire_err)e),
			    json_integer((json_int_t)s->rejected_by[e]));
	json_object_set_new(c, "rejected", rej);
	if (s->have_ec2) {
		json_t *ec2 = json_object();

		for (int a = 0; a < EC2_NACTIONS; a++) {
			json_t *o = json_object();

			json_object_set_new(
			    o, "ok", json_integer((json_int_t)s->ec2[a].ok));
			json_object_set_new(
			    o, "retried",
			    json_integer((json_int_t)s->ec2[a].retried));
			json_object_set_new(
			    o, "failed",
			    json_integer((json_int_t)s->ec2[a].failed));
			json_object_set_new(
			    ec2, ec2_action_name((enum ec2_action)a), o);
		}
		json_object_set_new(c, "ec2", ec2);
	}
	return c;
}

char *
status_json(const struct status_snapshot *s)
{
	json_t *o = json_object();
	char *text;

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "version", json_string(s->version));
	json_object_set_new(o, "pid", json_integer(s->pid));
	json_object_set_new(o, "node", json_string(s->node));
	json_object_set_new(o, "state", json_string(elect_role_name(s->state)));
	json_object_set_new(o, "since", wall_or_null(s->since_wall_ms));
	json_object_set_new(o, "term", json_integer((json_int_t)s->term));
	json_object_set_new(o, "priority", json_integer(s->priority));
	json_object_set_new(o, "healthy", json_boolean(s->healthy));
	json_object_set_new(o, "guarded", json_boolean(s->guarded));
	json_object_set_new(o, "maintenance", json_boolean(s->maintenance));
	json_object_set_new(o, "handover_pending",
			    json_boolean(s->handover_pending));
	json_object_set_new(o, "reason", json_string(s->reason));
	json_object_set_new(o, "key_id", key_id_or_null(s->nlinks > 0, s->key_id));
	json_object_set_new(o, "peer", peer_json(s));
	json_object_set_new(o, "links", links_json(s));
	json_object_set_new(o, "resources", resources_json(s));
	if (s->have_aws) {
		json_t *c = json_object();

		json_object_set_new(c, "source", json_string(s->creds_source));
		json_object_set_new(c, "expires_at",
				    wall_or_null(s->creds_expiry_ms));
		json_object_set_new(o, "credentials", c);
	}
	if (s->have_ec2)
		json_object_set_new(
		    o, "ec2_clock_offset_seconds",
		    json_integer((json_int_t)s->ec2_clock_offset_s));
	json_object_set_new(o, "counters", counters_json(s));
	text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
				 JSON_ENSURE_ASCII | JSON_REAL_PRECISION(6));
	json_decref(o);
	return text;
}

/* ---- Prometheus text format ---- */

static void
family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: backslash, double quote and newline escaped. */
static void
label(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void
links_metrics(FILE *f, const struct status_snapshot *s)
{
	family(f, "eipfloatd_link_up", "gauge",
	       "1 if an authenticated heartbeat arrived on the link within "
	       "the timeout.");
	for (unsigned i = 0; i < s->nlinks; i++)
		fprintf(f, "eipfloatd_link_up{link=\"%u\"} %d\n", i,
			s->links[i].up);
	family(f, "eipfloatd_heartbeat_rtt_seconds", "gauge",
	       "Last measured heartbeat round-trip time on the link.");
	for (unsigned i = 0; i < s->nlinks; i++)
		if (s->links[i].have_rtt)
			fprintf(f,
				"eipfloatd_heartbeat_rtt_seconds{link=\"%u\"} "
				"%.6f\n",
				i, s->links[i].rtt_ms / 1000.);
	family(f, "eipfloatd_heartbeats_sent_total", "counter",
	       "Heartbeats sent on the link.");
	for (unsigned i = 0; i < s->nlinks; i++)
		fprintf(f, "eipfloatd_heartbeats_sent_total{link=\"%u\"} %lu\n",
			i, s->links[i].sent);
	family(f, "eipfloatd_heartbeats_received_total", "counter",
	       "Authenticated heartbeats accepted on the link.");
	for (unsigned i = 0; i < s->nlinks; i++)
		fprintf(f,
			"eipfloatd_heartbeats_received_total{link=\"%u\"} "
			"%lu\n",
			i, s->links[i].received);
	family(f, "eipfloatd_packets_rejected_total", "counter",
	       "Packets dropped (malformed, unauthenticated, replayed, ...).");
	for (int e = 0; e < WIRE_ERR_COUNT; e++)
		fprintf(f,
			"eipfloatd_packets_rejected_total{reason=\"%s\"} %lu\n",
			wire_err_name((enum wire_err)e), s->rejected_by[e]);
}

static void
aws_metrics(FILE *f, const struct status_snapshot *s)
{
	static const char *const outcome[] = {"ok", "retried", "failed"};

	if (s->have_ec2) {
		family(f, "eipfloatd_ec2_requests_total", "counter",
		       "EC2 API calls by action and outcome (retried counts "
		       "the attempts after the first).");
		for (int a = 0; a < EC2_NACTIONS; a++) {
			const unsigned long v[] = {
			    s->ec2[a].ok, s->ec2[a].retried, s->ec2[a].failed};

			for (int o = 0; o < 3; o++)
				fprintf(f,
					"eipfloatd_ec2_requests_total{action="
					"\"%s\",outcome=\"%s\"} %lu\n",
					ec2_action_name((enum ec2_action)a),
					outcome[o], v[o]);
		}
		family(f, "eipfloatd_ec2_clock_offset_seconds", "gauge",
		       "EC2's clock minus this host's, as signing corrects "
		       "it (0 unless 5 min or more).");
		fprintf(f, "eipfloatd_ec2_clock_offset_seconds %lld\n",
			(long long)s->ec2_clock_offset_s);
	}
	if (s->have_aws && s->creds_expiry_ms) {
		family(f, "eipfloatd_credentials_expiry_timestamp_seconds",
		       "gauge",
		       "When the current AWS credentials expire (Unix time).");
		fprintf(f,
			"eipfloatd_credentials_expiry_timestamp_seconds %.3f\n",
			s->creds_expiry_ms / 1000.);
	}
	family(f, "eipfloatd_resource_owned", "gauge",
	       "1 if the resource was last verified on this node.");
	for (unsigned i = 0; i < s->nresources; i++) {
		fputs("eipfloatd_resource_owned{resource=\"", f);
		label(f, s->resources[i].id);
		fprintf(f, "\"} %d\n",
			strcmp(s->resources[i].owner, "self") == 0);
	}
}

int
status_metrics(const struct status_snapshot *s, char **out, size_t *len)
{
	FILE *f = open_memstream(out, len);

	if (f == NULL)
		return -1;
	family(f, "eipfloatd_state", "gauge",
	       "1 for the state this node is in, 0 for the others.");
	for (int r = 0; r < STATUS_ROLES; r++)
		fprintf(f, "eipfloatd_state{state=\"%s\"} %d\n",
			elect_role_name((enum elect_role)r),
			(int)s->state == r);
	family(f, "eipfloatd_term", "gauge", "Election term (epoch).");
	fprintf(f, "eipfloatd_term %llu\n", (unsigned long long)s->term);
	family(f, "eipfloatd_healthy", "gauge",
	       "1 if this node is eligible (health check passing).");
	fprintf(f, "eipfloatd_healthy %d\n", s->healthy);
	family(f, "eipfloatd_maintenance", "gauge",
	       "1 if this node is in maintenance (never takes over).");
	fprintf(f, "eipfloatd_maintenance %d\n", s->maintenance);
	family(f, "eipfloatd_peer_alive", "gauge",
	       "1 if the peer was heard on any link within the timeout.");
	fprintf(f, "eipfloatd_peer_alive %d\n", s->peer_alive);
	family(f, "eipfloatd_transitions_total", "counter",
	       "State changes of this node by the state entered.");
	for (int r = 0; r < STATUS_ROLES; r++)
		fprintf(f, "eipfloatd_transitions_total{to=\"%s\"} %lu\n",
			elect_role_name((enum elect_role)r),
			s->transitions_to[r]);
	family(f, "eipfloatd_failovers_total", "counter",
	       "Takeovers started by this node.");
	fprintf(f, "eipfloatd_failovers_total %lu\n", s->failovers);
	if (s->last_failover_ms) {
		family(f, "eipfloatd_last_failover_seconds", "gauge",
		       "Time from the last takeover decision until every "
		       "resource was on this node.");
		fprintf(f, "eipfloatd_last_failover_seconds %.3f\n",
			s->last_failover_ms / 1000.);
	}
	links_metrics(f, s);
	aws_metrics(f, s);
	return fclose(f) == 0 ? 0 : -1;
}
