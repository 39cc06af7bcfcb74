/*
 * status.h - one snapshot of what the daemon knows, filled by the shell from
 * each module's accessors, and its two machine renderings: the JSON of
 * `eipfloatd status --json` and the Prometheus text of `eipfloatd metrics`
 * (and metrics.textfile). Pure: no clock, no socket; times come in the
 * snapshot. The human text is the state dump (dump.h).
 */
#ifndef EIPFLOATD_STATUS_H
#define EIPFLOATD_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "ec2.h"
#include "elect.h"
#include "wire.h"

#define STATUS_ROLES 4 /* every enum elect_role */

struct status_link {
	char local[80], peer[80];
	int up;
	int have_rtt;
	uint32_t rtt_ms;
	unsigned long sent, received, rejected;
};

struct status_resource {
	char id[CONFIG_ID_MAX];
	const char *type;	      /* "eip", "secondary_ip", "route", "file" */
	const char *owner;	      /* resource_owner_name() */
	char owner_id[CONFIG_ID_MAX]; /* instance (or node) it was seen on */
	uint64_t verified_at_ms;      /* wall clock; 0 = never */
};

struct status_snapshot {
	const char *version;
	long pid;
	uint64_t wall_ms; /* when the snapshot was taken */
	const char *node;
	enum elect_role state;
	uint64_t since_wall_ms;
	uint64_t term;
	unsigned priority;
	int healthy, guarded, maintenance;
	int handover_pending; /* ACTIVE asking the peer to take over */
	const char *reason;

	const char *peer_name;
	int peer_known, peer_alive;
	enum elect_role peer_state;
	unsigned peer_priority;
	int peer_healthy;
	int peer_maintenance;
	uint64_t peer_term;
	const char *peer_instance; /* "" = unknown */
	uint32_t key_id;	   /* ours, the signing key */
	int peer_key_known, unknown_key_known;
	uint32_t peer_key_id;	 /* the key the peer signs with */
	uint32_t unknown_key_id; /* last id a packet named that we lack */

	unsigned nlinks;
	struct status_link links[CONFIG_MAX_LINKS];
	unsigned nresources;
	struct status_resource resources[CONFIG_MAX_RESOURCES];

	int have_aws;
	const char *creds_source;
	uint64_t creds_expiry_ms; /* wall clock; 0 = none */

	unsigned long transitions_to[STATUS_ROLES];
	unsigned long failovers;
	uint64_t last_failover_ms; /* decision -> all associated; 0 = none */
	unsigned long rejected_by[WIRE_ERR_COUNT]; /* over every link */
	int have_ec2;
	struct ec2_counters ec2[EC2_NACTIONS];
	int64_t ec2_clock_offset_s; /* EC2's clock minus ours (ec2.c) */
};

/* One JSON object (the schema is in eipfloatd(8)); malloc'd, or NULL. */
char *status_json(const struct status_snapshot *s);

/*
 * The Prometheus text exposition format (version 0.0.4), HELP and TYPE for
 * every family; malloc'd into *out (length *len), 0 or -1 (no memory).
 */
int status_metrics(const struct status_snapshot *s, char **out, size_t *len);

#endif
