/*
 * hostaddr.c - addresses on this host's interfaces through rtnetlink
 * (libmnl), and the gratuitous ARP that announces a moved one. See
 * hostaddr.h.
 */
#include "hostaddr.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/capability.h>
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define HOLDERS_MAX 16
#define NL_BUF 16384 /* libmnl's MNL_SOCKET_BUFFER_SIZE is not a constant */

struct nl {
	struct mnl_socket *sk;
	unsigned portid;
	char buf[NL_BUF];
};

static int
nl_open(struct nl *n, char *err, size_t len)
{
	struct timeval tv = {.tv_sec = 1};

	n->sk = mnl_socket_open(NETLINK_ROUTE);
	if (n->sk == NULL) {
		snprintf(err, len, "netlink: %s", strerror(errno));
		return -1;
	}
	if (mnl_socket_bind(n->sk, 0, MNL_SOCKET_AUTOPID) < 0) {
		snprintf(err, len, "netlink bind: %s", strerror(errno));
		mnl_socket_close(n->sk);
		return -1;
	}
	/* The kernel answers at once; never wait on it longer than this. */
	setsockopt(mnl_socket_get_fd(n->sk), SOL_SOCKET, SO_RCVTIMEO, &tv,
		   sizeof(tv));
	n->portid = mnl_socket_get_portid(n->sk);
	return 0;
}

/* Send nlh, read answers through cb until the dump ends or the ack. */
static int
nl_talk(struct nl *n, struct nlmsghdr *nlh, mnl_cb_t cb, void *data,
	const char *what, char *err, size_t len)
{
	unsigned seq = nlh->nlmsg_seq;
	ssize_t r;
	int rc = MNL_CB_OK;

	if (mnl_socket_sendto(n->sk, nlh, nlh->nlmsg_len) < 0) {
		snprintf(err, len, "%s: %s", what, strerror(errno));
		return -1;
	}
	while (rc > MNL_CB_STOP) {
		r = mnl_socket_recvfrom(n->sk, n->buf, sizeof(n->buf));
		if (r < 0) {
			snprintf(err, len, "%s: %s", what, strerror(errno));
			return -1;
		}
		rc = mnl_cb_run(n->buf, (size_t)r, seq, n->portid, cb, data);
	}
	if (rc == MNL_CB_ERROR) {
		snprintf(err, len, "%s: %s%s", what, strerror(errno),
			 errno == EPERM ? " (needs CAP_NET_ADMIN)" : "");
		return -1;
	}
	return 0;
}

static struct nlmsghdr *
nl_msg(struct nl *n, int type, int flags, struct ifaddrmsg **ifa)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(n->buf);

	nlh->nlmsg_type = (uint16_t)type;
	nlh->nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags);
	nlh->nlmsg_seq = (uint32_t)time(NULL);
	*ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(**ifa));
	(*ifa)->ifa_family = AF_INET;
	return nlh;
}

/* ---- the address dump ---- */

struct holders {
	struct in_addr want;
	struct hostaddr_where at[HOLDERS_MAX];
	unsigned n;
};

static int
on_addr_attr(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, IFA_MAX) < 0)
		return MNL_CB_OK;
	if ((type == IFA_LOCAL || type == IFA_ADDRESS) &&
	    mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
		return MNL_CB_OK;
	tb[type] = attr;
	return MNL_CB_OK;
}

static int
on_addr(const struct nlmsghdr *nlh, void *data)
{
	struct holders *h = data;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFA_MAX + 1] = {0};
	const struct nlattr *a;
	struct hostaddr_where *w;

	if (ifa->ifa_family != AF_INET)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*ifa), on_addr_attr, tb);
	a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (a == NULL || mnl_attr_get_u32(a) != h->want.s_addr ||
	    h->n >= HOLDERS_MAX)
		return MNL_CB_OK;
	w = &h->at[h->n++];
	w->ifindex = (int)ifa->ifa_index;
	w->prefixlen = ifa->ifa_prefixlen;
	if (if_indextoname(ifa->ifa_index, w->ifname) == NULL)
		snprintf(w->ifname, sizeof(w->ifname), "#%u", ifa->ifa_index);
	return MNL_CB_OK;
}

static int
holders_of(struct nl *n, struct in_addr a, struct holders *h, char *err,
	   size_t len)
{
	struct ifaddrmsg *ifa;
	struct nlmsghdr *nlh = nl_msg(n, RTM_GETADDR, NLM_F_DUMP, &ifa);

	memset(h, 0, sizeof(*h));
	h->want = a;
	return nl_talk(n, nlh, on_addr, h, "listing addresses", err, len);
}

/*
 * One netlink session: open, op, close. Every public call below is one,
 * and each opens its own socket (they are rare: a role change, a monitor
 * run).
 */
typedef int (*nl_op)(struct nl *n, void *arg, char *err, size_t len);

static int
nl_session(nl_op op, void *arg, char *err, size_t len)
{
	struct nl *n = calloc(1, sizeof(*n));
	int rc = -1;

	if (n == NULL) {
		snprintf(err, len, "out of memory");
		return -1;
	}
	if (nl_open(n, err, len) == 0) {
		rc = op(n, arg, err, len);
		mnl_socket_close(n->sk);
	}
	free(n);
	return rc;
}

struct addr_arg {
	struct in_addr a;
	struct hostaddr_where *out;
	int ifindex;
	unsigned prefixlen;
};

static int
find_op(struct nl *n, void *arg, char *err, size_t len)
{
	struct addr_arg *x = arg;
	struct holders h;

	if (holders_of(n, x->a, &h, err, len) == -1)
		return -1;
	if (h.n > 0)
		*x->out = h.at[0];
	return h.n > 0;
}

int
hostaddr_find(struct in_addr a, struct hostaddr_where *out, char *err,
	      size_t len)
{
	struct addr_arg x = {.a = a, .out = out};

	return nl_session(find_op, &x, err, len);
}

static int
change(struct nl *n, int type, int flags, int ifindex, struct in_addr a,
       unsigned prefixlen, char *err, size_t len)
{
	struct ifaddrmsg *ifa;
	struct nlmsghdr *nlh = nl_msg(n, type, NLM_F_ACK | flags, &ifa);
	char ip[INET_ADDRSTRLEN], what[80];

	ifa->ifa_prefixlen = (unsigned char)prefixlen;
	ifa->ifa_index = (unsigned)ifindex;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	mnl_attr_put_u32(nlh, IFA_LOCAL, a.s_addr);
	if (type == RTM_NEWADDR)
		mnl_attr_put_u32(nlh, IFA_ADDRESS, a.s_addr);
	inet_ntop(AF_INET, &a, ip, sizeof(ip));
	snprintf(what, sizeof(what), "%s %s",
		 type == RTM_NEWADDR ? "adding" : "removing", ip);
	return nl_talk(n, nlh, NULL, NULL, what, err, len);
}

static int
add_op(struct nl *n, void *arg, char *err, size_t len)
{
	struct addr_arg *x = arg;

	return change(n, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, x->ifindex,
		      x->a, x->prefixlen, err, len);
}

int
hostaddr_add(int ifindex, struct in_addr a, unsigned prefixlen, char *err,
	     size_t len)
{
	struct addr_arg x = {
	    .a = a, .ifindex = ifindex, .prefixlen = prefixlen};

	return nl_session(add_op, &x, err, len);
}

static int
remove_op(struct nl *n, void *arg, char *err, size_t len)
{
	struct addr_arg *x = arg;
	struct holders h;

	if (holders_of(n, x->a, &h, err, len) == -1)
		return -1;
	for (unsigned i = 0; i < h.n; i++)
		if (change(n, RTM_DELADDR, 0, h.at[i].ifindex, x->a,
			   h.at[i].prefixlen, err, len) == -1)
			return -1;
	return (int)h.n;
}

int
hostaddr_remove(struct in_addr a, char *err, size_t len)
{
	struct addr_arg x = {.a = a};

	return nl_session(remove_op, &x, err, len);
}

/* ---- the announcement ---- */

struct garp {
	struct arphdr h;
	unsigned char sha[ETH_ALEN], spa[4], tha[ETH_ALEN], tpa[4];
} __attribute__((packed));

int
hostaddr_garp(int ifindex, struct in_addr a, char *err, size_t len)
{
	struct sockaddr_ll to = {.sll_family = AF_PACKET,
				 .sll_protocol = htons(ETH_P_ARP),
				 .sll_ifindex = ifindex,
				 .sll_halen = ETH_ALEN};
	struct garp p = {.h = {.ar_hrd = htons(ARPHRD_ETHER),
			       .ar_pro = htons(ETH_P_IP),
			       .ar_hln = ETH_ALEN,
			       .ar_pln = 4,
			       .ar_op = htons(ARPOP_REQUEST)}};
	struct ifreq ifr;
	int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc = -1;

	if (fd == -1) {
		snprintf(err, len, "packet socket: %s%s", strerror(errno),
			 errno == EPERM ? " (needs CAP_NET_RAW)" : "");
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	if (if_indextoname((unsigned)ifindex, ifr.ifr_name) == NULL ||
	    ioctl(fd, SIOCGIFHWADDR, &ifr) == -1) {
		snprintf(err, len, "interface #%d: %s", ifindex,
			 strerror(errno));
		goto out;
	}
	memcpy(p.sha, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	memcpy(p.spa, &a.s_addr, 4);
	memcpy(p.tpa, &a.s_addr, 4);
	memset(to.sll_addr, 0xff, ETH_ALEN);
	if (sendto(fd, &p, sizeof(p), 0, (struct sockaddr *)&to, sizeof(to)) !=
	    (ssize_t)sizeof(p)) {
		snprintf(err, len, "gratuitous ARP on %s: %s", ifr.ifr_name,
			 strerror(errno));
		goto out;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

int
hostaddr_capable(void)
{
	struct __user_cap_header_struct h = {.version =
						 _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d) == -1)
		return 0;
	return (d[CAP_TO_INDEX(CAP_NET_ADMIN)].effective &
		CAP_TO_MASK(CAP_NET_ADMIN)) != 0;
}
