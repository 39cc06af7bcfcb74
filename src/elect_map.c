/*
 * elect_map.c - translations between the election and the modules around
 * it. Every switch names each value, so a new state on either side makes
 * the compiler point here.
 */
#include "elect_map.h"

#include "config.h"

#include <stdio.h>
#include <string.h>

/* Beyond the request timeout: EC2's own processing of a request in hand. */
#define ELECT_MAP_LATE_WRITE_SLACK_MS 1000

void
elect_map_params(struct elect_params *ep, const struct config *cfg)
{
	const struct config_node *self = &cfg->nodes[cfg->self];
	const struct config_node *peer = &cfg->nodes[cfg->peer];

	memset(ep, 0, sizeof(*ep));
	snprintf(ep->self_name, sizeof(ep->self_name), "%s", self->name);
	snprintf(ep->peer_name, sizeof(ep->peer_name), "%s", peer->name);
	ep->self_priority = self->priority;
	ep->peer_priority = peer->priority;
	ep->failback = cfg->failback;
	ep->failback_delay_ms = cfg->failback_delay_ms;
	ep->startup_wait_ms = cfg->startup_wait_ms;
	ep->timeout_ms = cfg->timeout_ms;
	ep->monitor_interval_ms = cfg->monitor_interval_ms;
	ep->migration_threshold = cfg->migration_threshold;
	ep->acquire_timeout_ms = cfg->acquire_timeout_ms;
	ep->late_write_ms = cfg->aws_timeout_ms + ELECT_MAP_LATE_WRITE_SLACK_MS;
	ep->start_unhealthy = cfg->check_command[0] != '\0';
}

enum wire_state
elect_map_role_to_wire(enum elect_role role)
{
	switch (role) {
	case ELECT_STARTING:
		return WIRE_STATE_STARTING;
	case ELECT_STANDBY:
		return WIRE_STATE_STANDBY;
	case ELECT_ACTIVE:
		return WIRE_STATE_ACTIVE;
	case ELECT_FAULT:
		return WIRE_STATE_FAULT;
	}
	return WIRE_STATE_FAULT;
}

/* wire_decode() refuses any other byte, so the last return is unreachable. */
enum elect_role
elect_map_role_from_wire(enum wire_state state)
{
	switch (state) {
	case WIRE_STATE_STARTING:
		return ELECT_STARTING;
	case WIRE_STATE_STANDBY:
		return ELECT_STANDBY;
	case WIRE_STATE_ACTIVE:
		return ELECT_ACTIVE;
	case WIRE_STATE_FAULT:
		return ELECT_FAULT;
	}
	return ELECT_FAULT;
}

void
elect_map_msg(const struct wire_msg *m, struct elect_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	switch (m->type) {
	case WIRE_HEARTBEAT:
		ev->type = ELECT_EV_PEER_HEARTBEAT;
		break;
	case WIRE_LEAVE:
		ev->type = ELECT_EV_PEER_LEAVE;
		break;
	}
	ev->peer.role = elect_map_role_from_wire(m->state);
	ev->peer.priority = m->priority;
	ev->peer.eligible = m->eligible;
	ev->peer.no_api = (m->flags & WIRE_FLAG_NO_API) != 0;
	ev->peer.term = m->term;
	ev->peer.incarnation = m->incarnation;
	ev->peer.holds = (m->flags & WIRE_FLAG_HOLDS) != 0;
	ev->peer.maintenance = (m->flags & WIRE_FLAG_MAINTENANCE) != 0;
	ev->peer.handover = (m->flags & WIRE_FLAG_HANDOVER) != 0;
}

enum elect_owner
elect_map_owner(enum resource_owner owner)
{
	switch (owner) {
	case RES_OWNER_UNKNOWN:
		return ELECT_OWNER_UNKNOWN;
	case RES_OWNER_NONE:
		return ELECT_OWNER_NONE;
	case RES_OWNER_SELF:
		return ELECT_OWNER_SELF;
	case RES_OWNER_PEER:
		return ELECT_OWNER_PEER;
	case RES_OWNER_OTHER:
		return ELECT_OWNER_OTHER;
	}
	return ELECT_OWNER_UNKNOWN;
}

enum log_level
elect_map_level(enum elect_level level)
{
	switch (level) {
	case ELECT_LEVEL_ERR:
		return LOG_LEVEL_ERR;
	case ELECT_LEVEL_WARNING:
		return LOG_LEVEL_WARNING;
	case ELECT_LEVEL_NOTICE:
		return LOG_LEVEL_NOTICE;
	case ELECT_LEVEL_INFO:
		return LOG_LEVEL_INFO;
	}
	return LOG_LEVEL_ERR;
}
