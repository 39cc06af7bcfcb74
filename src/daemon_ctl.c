/*
 * daemon_ctl.c - the control socket's requests (status, status --json,
 * metrics, switchover, maintenance) and the metrics textfile, all answered
 * from memory so the loop never waits for a client.
 */
#include "daemon_int.h"
#include "log.h"
#include "textfile.h"
#include "util.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define METRICS_TEXTFILE_MS 5000

/* The snapshot behind status --json and the metrics. */
static void
status_fill(const struct daemon *d, struct status_snapshot *s)
{
	const struct config *c = &d->cfg;
	uint64_t now = util_now_ms();

	memset(s, 0, sizeof(*s));
	s->version = PACKAGE_VERSION;
	s->pid = (long)getpid();
	s->wall_ms = util_wall_ms();
	s->node = c->nodes[c->self].name;
	s->state = elect_role(&d->el);
	s->since_wall_ms = s->wall_ms - (now - elect_since(&d->el));
	s->term = elect_term(&d->el);
	s->priority = c->nodes[c->self].priority;
	s->healthy = elect_eligible(&d->el);
	s->guarded = elect_guarded(&d->el);
	s->maintenance = elect_maintenance(&d->el);
	s->handover_pending = elect_handover_pending(&d->el);
	s->reason = elect_last_reason(&d->el);
	s->peer_name = c->nodes[c->peer].name;
	s->peer_known = elect_peer_state(&d->el, now) != ELECT_PEER_UNKNOWN;
	s->peer_alive = elect_peer_alive(&d->el, now);
	s->peer_state = elect_peer(&d->el)->role;
	s->peer_priority = elect_peer(&d->el)->priority;
	s->peer_healthy = elect_peer(&d->el)->eligible;
	s->peer_maintenance = elect_peer(&d->el)->maintenance;
	s->peer_term = elect_peer(&d->el)->term;
	s->nlinks = d->links_open ? d->links.nlinks : 0;
	if (d->links_open) {
		s->key_id = link_own_key_id(&d->links);
		s->peer_key_known = link_peer_key_id(&d->links, &s->peer_key_id);
		s->unknown_key_known =
		    link_unknown_key_id(&d->links, &s->unknown_key_id);
	}
	for (unsigned i = 0; i < s->nlinks; i++) {
		const struct link *l = &d->links.links[i];

		util_strlcpy(s->links[i].local, l->local_str,
			     sizeof(s->links[i].local));
		util_strlcpy(s->links[i].peer, l->peer_str,
			     sizeof(s->links[i].peer));
		s->links[i].up = link_alive(&d->links, i, now);
		s->links[i].have_rtt = l->have_rtt;
		s->links[i].rtt_ms = l->rtt_ms;
		s->links[i].sent = l->sent;
		s->links[i].received = l->received;
		s->links[i].rejected = l->rejected;
		for (int e = 0; e < WIRE_ERR_COUNT; e++)
			s->rejected_by[e] += l->rejected_by[e];
	}
	resource_setup_status(d->res, s);
	memcpy(s->transitions_to, d->transitions_to,
	       sizeof(s->transitions_to));
	s->failovers = d->failovers;
	s->last_failover_ms = d->last_acquire_ms;
}

/* A ctl answer: the text and a newline, malloc'd. */
static int
answer_text(const char *text, char **body, size_t *len)
{
	size_t n = strlen(text);

	*body = malloc(n + 2);
	if (*body == NULL)
		return -1;
	memcpy(*body, text, n);
	(*body)[n] = '\n';
	(*body)[n + 1] = '\0';
	*len = n + 1;
	return 0;
}

/*
 * switchover, maintenance: the election decides (and may refuse); its line
 * is the answer. The maintenance flag is written to the state directory
 * once the election took it, so a restart keeps what the operator saw.
 */
static int
operator_request(struct daemon *d, const struct ctl_request *req, char **body,
		 size_t *len)
{
	struct elect_event ev = {.force = req->force};
	struct elect_actions a;
	char err[PATH_MAX + 160], text[ELECT_REASON_MAX + sizeof(err) + 64];
	uint64_t now = util_now_ms();
	struct statefile next = d->state;

	if (d->stopping)
		return answer_text("refused: the daemon is stopping", body,
				   len) == 0 ? 0 : -1;
	ev.type = req->cmd == CTL_CMD_SWITCHOVER ? ELECT_EV_SWITCHOVER
						 : ELECT_EV_MAINTENANCE;
	ev.ok = req->cmd == CTL_CMD_MAINTENANCE_ON;
	if (ev.type == ELECT_EV_MAINTENANCE && !d->state_ok) {
		snprintf(text, sizeof(text),
			 "maintenance refused: the state directory %s is not "
			 "usable (see the start-up log), so the flag would not "
			 "survive a restart",
			 d->opt->state_dir);
		return answer_text(text, body, len) == 0 ? 0 : -1;
	}
	elect_step(&d->el, &ev, now, &a);
	snprintf(text, sizeof(text), "%s", a.reason);
	next.maintenance = elect_maintenance(&d->el);
	if (ev.type == ELECT_EV_MAINTENANCE &&
	    next.maintenance != d->state.maintenance) {
		if (statefile_save(d->opt->state_dir, &next, err,
				   sizeof(err)) == -1) {
			log_err("maintenance %s: not saved: %s",
				next.maintenance ? "on" : "off", err);
			snprintf(text, sizeof(text),
				 "%s; NOT SAVED, a restart forgets it: %s",
				 a.reason, err);
		} else {
			d->state = next;
		}
	}
	daemon_apply(d, &a, now);
	daemon_schedule(d, now);
	if (answer_text(text, body, len) == -1)
		return -1;
	return a.refused ? 0 : 1;
}

/*
 * A control socket request: answered from memory at once, so the loop
 * never waits for a client. status is the dump's text, so `eipfloatd
 * status`, SIGUSR1 and the state file always agree.
 */
int
daemon_on_ctl(void *arg, const struct ctl_request *req, char **body,
	      size_t *len)
{
	struct daemon *d = arg;
	struct status_snapshot snap;
	struct dump_sources src;

	*body = NULL;
	*len = 0;
	switch (req->cmd) {
	case CTL_CMD_STATUS:
		break;
	case CTL_CMD_STATUS_JSON:
		status_fill(d, &snap);
		*body = status_json(&snap);
		if (*body == NULL)
			return -1;
		*len = strlen(*body);
		return 1;
	case CTL_CMD_METRICS:
		status_fill(d, &snap);
		return status_metrics(&snap, body, len) == 0 ? 1 : -1;
	case CTL_CMD_SWITCHOVER:
	case CTL_CMD_MAINTENANCE_ON:
	case CTL_CMD_MAINTENANCE_OFF:
		return operator_request(d, req, body, len);
	}
	daemon_dump_sources(d, &src);
	return dump_text(&src, body, len) == 0 ? 1 : -1;
}

/*
 * metrics.textfile: the same text as `eipfloatd metrics`, replaced
 * atomically every few seconds for node_exporter's textfile collector.
 */
void
daemon_on_metrics_timer(void *arg)
{
	struct daemon *d = arg;
	struct status_snapshot snap;
	char *text = NULL, err[512];
	size_t len = 0;

	loop_defer_after(&d->metrics_timer, METRICS_TEXTFILE_MS);
	if (d->cfg.metrics_textfile[0] == '\0')
		return;
	status_fill(d, &snap);
	if (status_metrics(&snap, &text, &len) == -1) {
		log_warn("metrics textfile: out of memory");
		return;
	}
	if (textfile_replace(d->cfg.metrics_textfile, text, len, err,
			     sizeof(err)) == -1)
		log_warn("metrics textfile: %s", err);
	free(text);
}
