/*
 * test_hostaddr.c - addresses on this host through rtnetlink, in a network
 * namespace of the test's own (unshare): add, find, add again, remove from
 * wherever it is; without CAP_NET_ADMIN a clear refusal. Needs root
 * (skipped otherwise).
 */
#include "check.h"
#include "hostaddr.h"

#include <arpa/inet.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static struct in_addr
ip(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a;
}

/* Drop CAP_NET_ADMIN from the effective set (the permitted set keeps it). */
static int
drop_net_admin(void)
{
	struct __user_cap_header_struct h = {.version =
						 _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &h, d) == -1)
		return -1;
	d[CAP_TO_INDEX(CAP_NET_ADMIN)].effective &= ~CAP_TO_MASK(CAP_NET_ADMIN);
	return (int)syscall(SYS_capset, &h, d);
}

int
main(void)
{
	struct hostaddr_where w;
	char err[300];
	int lo;

	if (geteuid() != 0) {
		fprintf(stderr,
			"skipped: needs root for a network namespace\n");
		return 77;
	}
	if (unshare(CLONE_NEWNET) == -1) {
		fprintf(stderr,
			"skipped: cannot unshare the network namespace\n");
		return 77;
	}
	lo = 1; /* the loopback of a new namespace */

	TEST("an_address_not_on_the_host_is_not_found");
	CHECK(hostaddr_capable() == 1);
	CHECK(hostaddr_find(ip("10.9.0.1"), &w, err, sizeof(err)) == 0);

	TEST("added_address_is_found_with_its_interface_and_prefix");
	CHECK(hostaddr_add(lo, ip("10.9.0.1"), 24, err, sizeof(err)) == 0);
	CHECK(hostaddr_find(ip("10.9.0.1"), &w, err, sizeof(err)) == 1);
	CHECK(w.ifindex == lo && w.prefixlen == 24);
	CHECK(strcmp(w.ifname, "lo") == 0);

	TEST("adding_it_again_succeeds_and_keeps_one_copy");
	CHECK(hostaddr_add(lo, ip("10.9.0.1"), 24, err, sizeof(err)) == 0);
	CHECK(hostaddr_add(lo, ip("10.9.0.50"), 32, err, sizeof(err)) == 0);

	TEST("remove_takes_it_from_wherever_it_is_once");
	CHECK(hostaddr_remove(ip("10.9.0.50"), err, sizeof(err)) == 1);
	CHECK(hostaddr_find(ip("10.9.0.50"), &w, err, sizeof(err)) == 0);
	CHECK(hostaddr_remove(ip("10.9.0.50"), err, sizeof(err)) == 0);
	CHECK(hostaddr_find(ip("10.9.0.1"), &w, err, sizeof(err)) == 1);

	TEST("a_bad_interface_is_a_clear_error");
	CHECK(hostaddr_add(9999, ip("10.9.0.2"), 24, err, sizeof(err)) == -1);
	CHECK(strstr(err, "adding 10.9.0.2") != NULL);
	CHECK(hostaddr_garp(9999, ip("10.9.0.2"), err, sizeof(err)) == -1);

	TEST("without_cap_net_admin_the_change_is_refused_and_says_why");
	CHECK(drop_net_admin() == 0);
	CHECK(hostaddr_capable() == 0);
	CHECK(hostaddr_add(lo, ip("10.9.0.3"), 24, err, sizeof(err)) == -1);
	CHECK(strstr(err, "CAP_NET_ADMIN") != NULL);
	CHECK(hostaddr_remove(ip("10.9.0.1"), err, sizeof(err)) == -1);
	CHECK(hostaddr_find(ip("10.9.0.1"), &w, err, sizeof(err)) == 1);
	return check_done();
}
