/*
 * hostaddr.h - a floating IPv4 address on this host: find the interface
 * holding an address, add one, remove one from wherever it is (rtnetlink
 * through libmnl), announce it with a gratuitous ARP (a packet socket).
 * Each call talks to the kernel only and returns at once (a 1 s receive
 * timeout bounds it); nothing here blocks the loop on the network.
 */
#ifndef EIPFLOATD_HOSTADDR_H
#define EIPFLOATD_HOSTADDR_H

#include <net/if.h>
#include <netinet/in.h>
#include <stddef.h>

struct hostaddr_where {
	int ifindex;
	char ifname[IF_NAMESIZE];
	unsigned prefixlen;
};

/* 1 found (where it is), 0 not on any interface, -1 error (err). */
int hostaddr_find(struct in_addr a, struct hostaddr_where *out, char *err,
		  size_t len);
/* Add a/prefixlen to ifindex; already there is success. */
int hostaddr_add(int ifindex, struct in_addr a, unsigned prefixlen, char *err,
		 size_t len);
/* Remove a from every interface holding it: how many, or -1 (err). */
int hostaddr_remove(struct in_addr a, char *err, size_t len);
/* One gratuitous ARP request for a on ifindex (needs CAP_NET_RAW). */
int hostaddr_garp(int ifindex, struct in_addr a, char *err, size_t len);
/* 1 when the effective capabilities hold CAP_NET_ADMIN. */
int hostaddr_capable(void);

#endif
