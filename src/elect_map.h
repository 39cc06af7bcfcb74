/*
 * elect_map.h - the election's vocabulary translated to its neighbours':
 * the configuration into struct elect_params, heartbeats (wire.h) into
 * events and the role back into a wire state, resource.h's owner, and the
 * reason's level into log.h's. Pure; the shell (daemon.c) calls these so
 * that elect.h needs none of those headers.
 */
#ifndef EIPFLOATD_ELECT_MAP_H
#define EIPFLOATD_ELECT_MAP_H

#include "elect.h"
#include "log.h"
#include "resource.h"
#include "wire.h"

struct config;

/* The election's parameters from the validated daemon configuration. */
void elect_map_params(struct elect_params *ep, const struct config *cfg);

/* The role as it travels in heartbeats, and back. */
enum wire_state elect_map_role_to_wire(enum elect_role role);
enum elect_role elect_map_role_from_wire(enum wire_state state);

/* An accepted heartbeat or LEAVE as an election event (.type and .peer). */
void elect_map_msg(const struct wire_msg *m, struct elect_event *ev);

enum elect_owner elect_map_owner(enum resource_owner owner);
enum log_level elect_map_level(enum elect_level level);

#endif
