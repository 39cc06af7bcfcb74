/*
 * ec2_retry.c - what an EC2 answer means for its call: retry with
 * src/backoff.h's policy and quota, refresh role credentials, correct the
 * signing clock from EC2's Date, read a DryRun verdict, or give up; and the
 * client's standing that follows (clock offset, quota, API usable).
 * The pure rules it applies are ec2_query.c's.
 */
#include "ec2_retry.h"
#include "creds.h"
#include "util.h"

#include <string.h>
#include <time.h>

/* The call's failure says the API cannot be used from here: remember why. */
static void
api_unusable(struct ec2_call *call)
{
	struct ec2_ctx *ctx = call->ctx;
	char why[EC2_CODE_MAX + EC2_MESSAGE_MAX + 4];

	ec2_failure_text(call->res.code, call->res.message, why, sizeof(why));
	ctx->api_down = 1;
	snprintf(ctx->api_why, sizeof(ctx->api_why), "%s: %s", call->label,
		 why);
}

/* A DryRun moves nothing: the reported counters are the real requests. */
struct ec2_counters *
ec2_call_counters(struct ec2_call *call)
{
	struct ec2_ctx *ctx = call->ctx;

	return call->dry_run ? &ctx->dry_runs : &ctx->counters[call->action];
}

void
ec2_retry_outcome(struct ec2_call *call, int rc)
{
	struct ec2_ctx *ctx = call->ctx;
	struct ec2_counters *c = ec2_call_counters(call);

	call->res.rc = rc;
	call->res.attempts = call->attempts;
	call->res.elapsed_ms = util_now_ms() - call->started_ms;
	if (ec2_action_moves(call->action) && rc == 0) {
		ctx->denied[call->action] = 0;
	} else if (ec2_action_moves(call->action) &&
		   strcmp(call->res.code, "UnauthorizedOperation") == 0) {
		ctx->denied[call->action] = 1;
		snprintf(ctx->denied_why[call->action],
			 sizeof(ctx->denied_why[0]), "%s: %s", call->label,
			 call->res.message);
	}
	if (rc == 0) {
		c->ok++;
		ctx->api_down = 0;
		backoff_quota_refund(&ctx->quota, call->quota_cost);
		if (call->attempts > 1)
			log_summary_end(&ctx->retry_log, LOG_LEVEL_WARNING,
					"ec2 retry warnings held back");
		log_debug("%s: ok in %llu ms (%u attempt%s)", call->label,
			  (unsigned long long)call->res.elapsed_ms,
			  call->attempts, call->attempts == 1 ? "" : "s");
	} else {
		c->failed++;
		if (ec2_unusable_code(call->res.code) &&
		    !(call->optional &&
		      strcmp(call->res.code, "UnauthorizedOperation") == 0))
			api_unusable(call);
	}
}

void
ec2_retry_failed(struct ec2_call *call, enum ec2_error_class cls)
{
	struct ec2_ctx *ctx = call->ctx;
	uint64_t elapsed = util_now_ms() - call->started_ms;
	uint64_t wait = backoff_delay_ms(&call->policy, call->attempts,
					 ctx->rand(ctx->rand_arg));
	int role = creds_current_source(ctx->creds) == CREDS_IMDS;
	char of[24] = "", why[EC2_CODE_MAX + EC2_MESSAGE_MAX + 4];

	/* Known before the call gives up: the takeover may be cancelled. */
	if (strcmp(call->res.code, "NoCredentials") == 0 ||
	    (strcmp(call->res.code, "Transport") == 0 && call->attempts >= 3))
		api_unusable(call);
	ec2_failure_text(call->res.code, call->res.message, why, sizeof(why));
	switch (ec2_next_step(&call->policy, cls, call->attempts, elapsed, wait,
			      role, call->refreshed)) {
	case EC2_NEXT_GIVE_UP:
		ec2_call_deliver(call, -1);
		return;
	case EC2_NEXT_REFRESH_RETRY:
		log_notice("%s: %s (fetching fresh role credentials, retry "
			   "now)",
			   call->label, call->res.code);
		call->refreshed = 1;
		ec2_call_counters(call)->retried++;
		creds_invalidate(ctx->creds);
		loop_defer_soon(&call->attempt);
		return;
	case EC2_NEXT_RETRY:
		/*
		 * Nothing was sent (no credentials, no request): the quota
		 * guards the account's request budget, which this attempt
		 * did not touch; the attempt limit still bounds it.
		 */
		if (strcmp(call->res.code, "NoCredentials") == 0 ||
		    strcmp(call->res.code, "RequestFailed") == 0) {
			call->quota_cost = 0;
			break;
		}
		call->quota_cost = backoff_quota_take(&ctx->quota,
						      call->timed_out);
		if (call->quota_cost != 0)
			break;
		log_summarized(&ctx->retry_log, LOG_LEVEL_WARNING,
			       "%s: %s (no retry: the retry quota is spent; "
			       "successes refill it)",
			       call->label, why);
		ec2_call_deliver(call, -1);
		return;
	}
	if (call->policy.max_attempts != 0)
		snprintf(of, sizeof(of), "/%u", call->policy.max_attempts - 1);
	log_summarized(&ctx->retry_log, LOG_LEVEL_WARNING,
		       "%s: %s (retry %u%s in %llu ms)", call->label, why,
		       call->attempts, of, (unsigned long long)wait);
	ec2_call_counters(call)->retried++;
	loop_defer_after(&call->attempt, wait);
}

/*
 * The answer's Date against our clock: move the signing offset when EC2's
 * clock is 5 minutes away (warning once per change), and say whether a
 * call refused for its time should be retried now (once). The answer is
 * judged against the offset the request was signed with: two calls signed
 * before the first answer corrected the clock are both skew, and neither
 * is taken for expired credentials.
 */
int
ec2_retry_skew(struct ec2_call *call, const struct http_response *resp,
	  const char *code)
{
	struct ec2_ctx *ctx = call->ctx;
	int64_t off;
	enum ec2_skew k = ec2_skew_check(resp->date, code, (int64_t)time(NULL),
					 call->signed_offset_s, &off);

	switch (k) {
	case EC2_SKEW_KEEP:
		return 0;
	case EC2_SKEW_ADJUST:
	case EC2_SKEW_RETRY:
		break;
	}
	if (off != ctx->clock_offset_s && off != 0)
		log_warn("ec2: EC2's clock is %lld s %s this host: fix NTP "
			 "(signing with EC2's time meanwhile)",
			 (long long)(off < 0 ? -off : off),
			 off > 0 ? "ahead of" : "behind");
	else if (off != ctx->clock_offset_s)
		log_notice("ec2: EC2's clock agrees with this host again");
	ctx->clock_offset_s = off;
	return k == EC2_SKEW_RETRY && !call->skew_retried;
}

/*
 * A DryRun call ends with an error either way: DryRunOperation means it
 * would have been allowed, UnauthorizedOperation that IAM denies it.
 */
int
ec2_retry_dry_run(struct ec2_call *call)
{
	char msg[EC2_MESSAGE_MAX + 80];

	if (strcmp(call->res.code, "DryRunOperation") == 0) {
		ec2_call_deliver(call, 0);
		return 1;
	}
	if (strcmp(call->res.code, "UnauthorizedOperation") == 0) {
		snprintf(msg, sizeof(msg),
			 "the IAM policy does not allow ec2:%s: %s",
			 ec2_action_name(call->action), call->res.message);
		util_strlcpy(call->res.message, msg, sizeof(call->res.message));
		ec2_call_deliver(call, -1);
		return 1;
	}
	return 0;
}

int64_t
ec2_clock_offset_s(const struct ec2_ctx *ctx)
{
	return ctx->clock_offset_s;
}

unsigned
ec2_retry_quota(const struct ec2_ctx *ctx)
{
	return ctx->quota.tokens;
}

int
ec2_api_usable(const struct ec2_ctx *ctx, char *why, size_t len)
{
	if (ctx->api_down) {
		util_strlcpy(why, ctx->api_why, len);
		return 0;
	}
	for (int a = 0; a < EC2_NACTIONS; a++)
		if (ctx->denied[a]) {
			util_strlcpy(why, ctx->denied_why[a], len);
			return 0;
		}
	return 1;
}
