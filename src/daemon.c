/*
 * daemon.c - the running daemon: owns the loop and the configuration, wires
 * signals, systemd notification, the pid lock and the state dump.
 */
#include "daemon.h"
#include "config.h"
#include "dump.h"
#include "log.h"
#include "notify.h"
#include "pidfile.h"
#include "util.h"

#include <errno.h>
#include <ev.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

struct daemon {
	const struct daemon_options *opt;
	struct ev_loop *loop;
	struct config cfg; /* read-only between reloads */
	int pidfd;
	uint64_t started_ms;
	uint64_t started_wall_ms;
	int exit_code;

	ev_signal sig_term, sig_int, sig_hup, sig_usr1;
	ev_timer watchdog;

	unsigned long reloads_ok, reloads_failed, dumps;
};

int
daemon_check_config(const struct daemon_options *opt)
{
	static struct config cfg;
	char err[512], summary[1024];

	if (config_load(opt->config_path, opt->node, &cfg, err,
			sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return CONFIG_EX_CONFIG;
	}
	config_summary(&cfg, summary, sizeof(summary));
	util_explicit_bzero(cfg.authkey, sizeof(cfg.authkey));
	printf("%s: OK: %s\n", opt->config_path, summary);
	return 0;
}

static void
on_stop(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct daemon *d = w->data;

	log_notice("received %s, stopping", strsignal(w->signum));
	notify_send("STOPPING=1");
	d->exit_code = 0;
	ev_break(loop, EVBREAK_ALL);
}

/*
 * SIGHUP: build a whole new configuration and swap it in only if it is
 * valid and compatible; a bad file leaves the running one untouched.
 */
static void
on_reload(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct daemon *d = w->data;
	struct config *next;
	char err[512], summary[1024];

	notify_send("RELOADING=1");
	next = malloc(sizeof(*next));
	if (next == NULL) {
		log_err("reload: out of memory; keeping the running "
			"configuration");
		goto out;
	}
	if (config_load(d->opt->config_path, d->cfg.nodes[d->cfg.self].name,
			next, err, sizeof(err)) == -1 ||
	    config_reload_check(&d->cfg, next, err, sizeof(err)) == -1) {
		d->reloads_failed++;
		log_err("reload rejected, keeping the running configuration: "
			"%s",
			err);
		goto out;
	}
	memcpy(&d->cfg, next, sizeof(d->cfg));
	d->reloads_ok++;
	config_summary(&d->cfg, summary, sizeof(summary));
	log_notice("reloaded %s: %s", d->opt->config_path, summary);
out:
	if (next != NULL) {
		util_explicit_bzero(next, sizeof(*next));
		free(next);
	}
	notify_send("READY=1");
}

static void
dump_write(struct daemon *d, FILE *out)
{
	char summary[1024];
	uint64_t now = util_now_ms();

	config_summary(&d->cfg, summary, sizeof(summary));
	fprintf(out, "eipfloatd %s pid %ld\n", PACKAGE_VERSION,
		(long)getpid());
	fprintf(out, "config: %s: %s\n", d->opt->config_path, summary);
	fprintf(out, "uptime: %llu s\n",
		(unsigned long long)((now - d->started_ms) / 1000));
	fprintf(out, "reloads: %lu ok, %lu rejected; dumps: %lu\n",
		d->reloads_ok, d->reloads_failed, d->dumps);
}

static void
on_dump(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct daemon *d = w->data;
	char *text = NULL, err[512];
	size_t len = 0;
	FILE *out;

	d->dumps++;
	out = open_memstream(&text, &len);
	if (out == NULL) {
		log_err("state dump: %s", strerror(errno));
		return;
	}
	dump_write(d, out);
	fclose(out);
	if (dump_publish(d->opt->runtime_dir, text, len, err, sizeof(err)) ==
	    -1)
		log_err("state dump: %s (the log has it)", err);
	free(text);
}

static void
on_watchdog(struct ev_loop *loop, ev_timer *w, int revents)
{
	notify_send("WATCHDOG=1");
}

static void
signals_start(struct daemon *d)
{
	ev_signal_init(&d->sig_term, on_stop, SIGTERM);
	ev_signal_init(&d->sig_int, on_stop, SIGINT);
	ev_signal_init(&d->sig_hup, on_reload, SIGHUP);
	ev_signal_init(&d->sig_usr1, on_dump, SIGUSR1);
	d->sig_term.data = d->sig_int.data = d->sig_hup.data =
		d->sig_usr1.data = d;
	ev_signal_start(d->loop, &d->sig_term);
	ev_signal_start(d->loop, &d->sig_int);
	ev_signal_start(d->loop, &d->sig_hup);
	ev_signal_start(d->loop, &d->sig_usr1);
	signal(SIGPIPE, SIG_IGN);
}

static void
watchdog_start(struct daemon *d)
{
	uint64_t usec = notify_watchdog_usec();

	if (usec == 0)
		return;
	/* Ping at half the interval, as sd_watchdog_enabled(3) advises. */
	ev_timer_init(&d->watchdog, on_watchdog, 0., usec / 2e6);
	ev_timer_start(d->loop, &d->watchdog);
}

int
daemon_run(const struct daemon_options *opt)
{
	static struct daemon d;
	char err[512], summary[1024];

	d.opt = opt;
	d.pidfd = -1;
	d.exit_code = 0;
	if (config_load(opt->config_path, opt->node, &d.cfg, err,
			sizeof(err)) == -1) {
		log_err("%s", err);
		return CONFIG_EX_CONFIG;
	}
	d.pidfd = pidfile_acquire(opt->runtime_dir, err, sizeof(err));
	if (d.pidfd == -1) {
		log_err("cannot start: %s", err);
		return 1;
	}
	d.loop = ev_default_loop(EVFLAG_AUTO);
	d.started_ms = util_now_ms();
	d.started_wall_ms = util_wall_ms();
	signals_start(&d);
	watchdog_start(&d);
	config_summary(&d.cfg, summary, sizeof(summary));
	log_notice("eipfloatd %s starting: %s", PACKAGE_VERSION, summary);
	notify_send("READY=1\nSTATUS=running");

	ev_run(d.loop, 0);

	log_notice("eipfloatd stopped");
	pidfile_release(d.pidfd, opt->runtime_dir);
	util_explicit_bzero(&d.cfg, sizeof(d.cfg));
	return d.exit_code;
}
