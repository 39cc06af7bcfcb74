/*
 * fuzz_config.c - libFuzzer target: arbitrary bytes as a configuration text
 * through config_load_string; errors must stay one line, loads consistent.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/fuzz_config.XXXXXX";
static char name[256], keyfile[256];
static struct config cfg; /* large: keep it off the stack */

/*
 * libconfig 1.5 leaks its partial string buffer when a syntax error cuts a
 * string short (strbuf_append); that is its bug, not ours, so do not stop
 * the fuzzer on it.
 */
const char *__lsan_default_suppressions(void);
const char *
__lsan_default_suppressions(void)
{
	return "leak:libconfig.so\n";
}

static void
cleanup(void)
{
	unlink(keyfile);
	rmdir(dir);
}

/* Seeds say authkey = "authkey": relative to the directory of `name`. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char key[] = "fuzz-key-0123456789abcdef0123456789abcdef";
	FILE *f;

	(void)argc;
	(void)argv;
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(name, sizeof(name), "%s/fuzz.conf", dir);
	snprintf(keyfile, sizeof(keyfile), "%s/authkey", dir);
	f = fopen(keyfile, "w");
	if (f == NULL)
		abort();
	fwrite(key, 1, sizeof(key) - 1, f);
	fclose(f);
	chmod(keyfile, 0600);
	atexit(cleanup);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512], sum[1024];
	char *text = malloc(size + 1);

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (config_load_string(text, name, "node-a", &cfg, err, sizeof(err)) ==
	    0) {
		config_summary(&cfg, sum, sizeof(sum));
		if (cfg.self >= cfg.nnodes || cfg.nlinks == 0 ||
		    cfg.timeout_ms < 3 * cfg.interval_ms ||
		    config_reload_check(&cfg, &cfg, err, sizeof(err)) != 0)
			abort();
	} else if (strncmp(err, name, strlen(name)) != 0 ||
		   strchr(err, '\n') != NULL || cfg.authkey_len[0] != 0) {
		abort();
	}
	free(text);
	return 0;
}
