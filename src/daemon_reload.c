/*
 * daemon_reload.c - SIGHUP: a whole new configuration, swapped in only when
 * it is valid and every changed key can apply live; the resource layer is
 * rebuilt when what it was built from changed.
 */
#include "daemon_int.h"
#include "elect_map.h"
#include "health.h"
#include "hooks.h"
#include "log.h"
#include "notify.h"
#include "util.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/*
 * The resource layer after a reload. When what it was built from changed
 * (resources, aws.*, instance or interface ids) a new one is built from
 * `next` and replaces the old, and the election hears ELECT_EV_RESOURCES
 * (it re-issues an acquisition in flight, or verifies the new group at
 * once, so an ACTIVE node associates an added EIP now and no longer
 * manages a removed one). Otherwise the credentials are only re-read.
 * Returns the new set-up, d->res itself, or NULL (out of memory).
 */
static struct resource_setup *
resources_for_reload(struct daemon *d, const struct config *next, char *what,
		     size_t len)
{
	struct resource_setup_ops ops = daemon_res_ops;

	if (!config_resources_changed(&d->cfg, next, what, len)) {
		resource_setup_refresh_credentials(d->res);
		return d->res;
	}
	ops.arg = d;
	return resource_setup_new(d->loop, next, &ops);
}

static void
resources_swap(struct daemon *d, struct resource_setup *rs)
{
	struct resource_setup *old = d->res;
	const char *peer = resource_setup_peer(old);
	struct elect_event ev = {.type = ELECT_EV_RESOURCES};

	if (rs == old)
		return;
	if (peer[0] != '\0')
		resource_setup_peer_instance(rs, peer);
	resource_setup_role(rs, elect_role(&d->el) == ELECT_ACTIVE);
	resource_setup_hand_over(old, rs);
	resource_setup_free(old);
	d->res = rs;
	resource_setup_start(rs);
	daemon_feed(d, &ev);
}

/*
 * SIGHUP: build a whole new configuration and swap it in only if it is
 * valid and compatible; a bad file leaves the running one untouched. Every
 * key either applies here or config_reload_check() refuses the reload
 * naming it. systemd hears RELOADING=1/READY=1 only once start-up is done
 * (a reload while STARTING must not make it think start-up finished).
 */
void
daemon_on_reload(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct daemon *d = w->data;
	struct elect_params ep;
	struct config *next;
	struct resource_setup *rs = NULL;
	char err[512], summary[1024], what[64] = "";

	if (d->stopping)
		return;
	if (d->ready_sent)
		notify_send("RELOADING=1");
	next = malloc(sizeof(*next));
	if (next == NULL) {
		log_err("reload: out of memory; keeping the running "
			"configuration");
		goto out;
	}
	if (config_load(d->opt->config_path, d->cfg.nodes[d->cfg.self].name,
			next, err, sizeof(err)) == -1 ||
	    config_reload_check(&d->cfg, next, err, sizeof(err)) == -1 ||
	    !resource_host_capable(next, err, sizeof(err))) {
		d->reloads_failed++;
		log_err("reload rejected, keeping the running configuration: "
			"%s",
			err);
		goto out;
	}
	rs = resources_for_reload(d, next, what, sizeof(what));
	if (rs == NULL) {
		d->reloads_failed++;
		log_err("reload: out of memory; keeping the running "
			"configuration");
		goto out;
	}
	memcpy(&d->cfg, next, sizeof(d->cfg));
	d->reloads_ok++;
	link_set_config(&d->links, &d->cfg);
	elect_map_params(&ep, &d->cfg);
	elect_reconfigure(&d->el, &ep);
	hooks_reload(d->hooks, &d->cfg);
	health_reload(d->health, &d->cfg);
	config_summary(&d->cfg, summary, sizeof(summary));
	if (rs != d->res)
		log_notice("reloaded %s: %s (%s changed: resource layer "
			   "rebuilt)",
			   d->opt->config_path, summary, what);
	else
		log_notice("reloaded %s: %s", d->opt->config_path, summary);
	resources_swap(d, rs);
	daemon_schedule(d, util_now_ms());
out:
	if (next != NULL) {
		util_explicit_bzero(next, sizeof(*next));
		free(next);
	}
	if (d->ready_sent)
		notify_sendf("READY=1\nSTATUS=%s (term %" PRIu64 ")",
			     elect_role_name(elect_role(&d->el)),
			     elect_term(&d->el));
}
