/*
 * ec2_net.c - the network interface and route table calls (ec2.h): each
 * builds its form and label and hands the call to ec2.c, which signs,
 * sends, retries and parses it like any other.
 */
#include "ec2.h"
#include "ec2_retry.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

static int
given(const char *s)
{
	return s != NULL && s[0] != '\0';
}

struct ec2_call *
ec2_describe_network_interfaces(struct ec2_ctx *ctx,
				const char *const *instance_ids, size_t n,
				const char *private_ip, ec2_done_cb cb,
				void *arg)
{
	struct ec2_call *call;
	char key[48];
	size_t ll, k = 0;

	if (!given(private_ip) && n == 0) {
		log_err("describe network interfaces: nothing to ask about");
		return NULL;
	}
	call =
	    ec2_call_new(ctx, EC2_DESCRIBE_NETWORK_INTERFACES, NULL, cb, arg);
	if (call == NULL)
		return NULL;
	ll = (size_t)snprintf(call->label, sizeof(call->label), "interfaces");
	if (given(private_ip)) {
		ec2_form_add(&call->form, "Filter.1.Name",
			     "addresses.private-ip-address");
		ec2_form_add(&call->form, "Filter.1.Value.1", private_ip);
		snprintf(call->label + ll, sizeof(call->label) - ll,
			 " holding %s", private_ip);
		return ec2_call_go(call);
	}
	ec2_form_add(&call->form, "Filter.1.Name", "attachment.instance-id");
	for (size_t i = 0; i < n; i++) {
		if (!given(instance_ids[i]))
			continue;
		snprintf(key, sizeof(key), "Filter.1.Value.%zu", ++k);
		ec2_form_add(&call->form, key, instance_ids[i]);
		if (ll < sizeof(call->label))
			ll += (size_t)snprintf(call->label + ll,
					       sizeof(call->label) - ll, " %s",
					       instance_ids[i]);
	}
	return ec2_call_go(call);
}

struct ec2_call *
ec2_assign_private_ip(struct ec2_ctx *ctx, const char *eni,
		      const char *private_ip, int dry_run, ec2_done_cb cb,
		      void *arg)
{
	struct ec2_call *call;

	if (!given(eni) || !given(private_ip)) {
		log_err("assign private ip: interface and address needed");
		return NULL;
	}
	call =
	    ec2_call_new(ctx, EC2_ASSIGN_PRIVATE_IP_ADDRESSES, NULL, cb, arg);
	if (call == NULL)
		return NULL;
	snprintf(call->label, sizeof(call->label), "assign %s to %s%s",
		 private_ip, eni, dry_run ? " (dry run)" : "");
	ec2_form_add(&call->form, "NetworkInterfaceId", eni);
	ec2_form_add(&call->form, "PrivateIpAddress.1", private_ip);
	ec2_form_add(&call->form, "AllowReassignment", "true");
	if (dry_run)
		ec2_call_dry_run(call);
	return ec2_call_go(call);
}

struct ec2_call *
ec2_describe_route_tables(struct ec2_ctx *ctx, const char *const *table_ids,
			  size_t n, const char *destination, ec2_done_cb cb,
			  void *arg)
{
	struct ec2_call *call;
	char key[48];
	size_t ll;

	if (n == 0 || !given(destination)) {
		log_err("describe route tables: tables and destination needed");
		return NULL;
	}
	call = ec2_call_new(ctx, EC2_DESCRIBE_ROUTE_TABLES, NULL, cb, arg);
	if (call == NULL)
		return NULL;
	util_strlcpy(call->destination, destination, sizeof(call->destination));
	ll = (size_t)snprintf(call->label, sizeof(call->label),
			      "route tables (%s)", destination);
	for (size_t i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "RouteTableId.%zu", i + 1);
		ec2_form_add(&call->form, key, table_ids[i]);
		if (ll < sizeof(call->label))
			ll += (size_t)snprintf(call->label + ll,
					       sizeof(call->label) - ll, " %s",
					       table_ids[i]);
	}
	return ec2_call_go(call);
}

struct ec2_call *
ec2_replace_route(struct ec2_ctx *ctx, const struct ec2_route_args *a,
		  ec2_done_cb cb, void *arg)
{
	enum ec2_action act = a->create ? EC2_CREATE_ROUTE : EC2_REPLACE_ROUTE;
	struct ec2_call *call;

	if (!given(a->table_id) || !given(a->destination) || !given(a->eni)) {
		log_err("%s: table, destination and interface needed",
			ec2_action_name(act));
		return NULL;
	}
	call = ec2_call_new(ctx, act, NULL, cb, arg);
	if (call == NULL)
		return NULL;
	snprintf(call->label, sizeof(call->label), "%s %s %s -> %s%s",
		 a->create ? "create route" : "replace route", a->table_id,
		 a->destination, a->eni, a->dry_run ? " (dry run)" : "");
	ec2_form_add(&call->form, "RouteTableId", a->table_id);
	ec2_form_add(&call->form, "DestinationCidrBlock", a->destination);
	ec2_form_add(&call->form, "NetworkInterfaceId", a->eni);
	if (a->dry_run)
		ec2_call_dry_run(call);
	return ec2_call_go(call);
}

struct ec2_call *
ec2_describe_source_dest_check(struct ec2_ctx *ctx, const char *eni,
			       ec2_done_cb cb, void *arg)
{
	struct ec2_call *call;

	if (!given(eni)) {
		log_err("describe interface attribute: interface needed");
		return NULL;
	}
	call = ec2_call_new(ctx, EC2_DESCRIBE_NETWORK_INTERFACE_ATTRIBUTE, NULL,
			    cb, arg);
	if (call == NULL)
		return NULL;
	/* Not needed to move anything: a refusal is a warning, no more. */
	call->optional = 1;
	snprintf(call->label, sizeof(call->label), "source/dest check of %s",
		 eni);
	ec2_form_add(&call->form, "NetworkInterfaceId", eni);
	ec2_form_add(&call->form, "Attribute", "sourceDestCheck");
	return ec2_call_go(call);
}
