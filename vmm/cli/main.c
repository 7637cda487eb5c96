/* vmm/cli/main.c: the fukivmm command line.
 * Owns: argument parsing and dispatch to `run`, `measure` and `snp`, and the
 * process exit.  Everything else lives in its module. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/config/config.h"
#include "vmm/base/events.h"
#include "vmm/hv/hv.h"
#include "vmm/base/log.h"
#include "vmm/cli/ctl.h"
#include "vmm/cli/measure.h"
#include "vmm/cli/uki.h"
#include "vmm/vm/vm.h"

#define FUKIVMM_VERSION "0.1.0"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: fukivmm run GUEST.toml [--api-socket PATH] [--log-level error|warn|info|debug]\n"
		"                              [--clean-exit]\n"
		"       fukivmm measure GUEST.toml | --platform snp|tdx --firmware FILE ... (docs/measure.md)\n"
		"       fukivmm snp id-block ...\n"
		"       fukivmm ctl SOCKET status|events|policy|measure-pending|reset|shutdown|version (docs/api.md)\n"
		"       fukivmm smbios dump|chids GUEST.toml (docs/uki.md)\n"
		"       fukivmm uki inspect|select|measure|extract ... (docs/uki.md)\n"
		"       fukivmm version\n"
		"\n"
		"Exit status of run: 0 guest powered off or stopped by SIGTERM/SIGINT,\n"
		"2 configuration or host error at start-up, 4 the VM failed at run time,\n"
		"odd values (v << 1) | 1 from the guest's debug-exit port.\n");
}

static int parse_level(const char *s, enum log_level *out)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };

	for (int i = 0; i < 4; i++)
		if (!strcmp(s, names[i])) {
			*out = (enum log_level)i;
			return 0;
		}
	return -1;
}

/* Closing a KVM VM with an in-kernel irqchip takes tens of milliseconds.
 * Leave at once and let a process sharing our file table and memory close
 * the descriptors: the VM is destroyed right after, off the caller's path. */
static int teardown_child(void *arg)
{
	(void)arg;
	close(STDOUT_FILENO);
	close(STDERR_FILENO);
	close(STDIN_FILENO);
	close_range(3, ~0U, 0);
	return 0;
}

static void fast_exit(int status)
{
	static char stack[16384] __attribute__((aligned(16)));

	fflush(stdout);
	fflush(stderr);
	if (clone(teardown_child, stack + sizeof(stack), CLONE_VM | CLONE_FILES | SIGCHLD,
		  NULL) < 0) {
		/* no helper: exit the slow way, the kernel closes everything */
	}
	_exit(status);
}

static int cmd_run(int argc, char **argv)
{
	const char *path = NULL, *api_socket = NULL;
	bool clean = getenv("FUKIVMM_CLEAN_EXIT") != NULL;
	struct vm_config cfg;
	char err[512];
	struct vm *vm;
	int status;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--log-level") && i + 1 < argc) {
			enum log_level l;

			if (parse_level(argv[++i], &l)) {
				fprintf(stderr, "fukivmm: unknown log level '%s'\n", argv[i]);
				return 2;
			}
			log_set_level(l);
		} else if (!strcmp(argv[i], "--api-socket") && i + 1 < argc) {
			api_socket = argv[++i];
		} else if (!strcmp(argv[i], "--clean-exit")) {
			clean = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (argv[i][0] == '-' || path) {
			fprintf(stderr, "fukivmm: run: unexpected argument '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		} else {
			path = argv[i];
		}
	}
	if (!path) {
		usage(stderr);
		return 2;
	}
	if (config_load(path, &cfg, err, sizeof(err)))
		die("%s", err);
	if (api_socket) {
		if (strlen(api_socket) >= 108)
			die("--api-socket: path longer than a Unix socket address allows (107 bytes)");
		free(cfg.api.socket);
		cfg.api.socket = strdup(api_socket);
	}
	if (events_open(cfg.log_path) < 0)
		die("%s: key 'log.file': %s: %s", path, cfg.log_path, strerror(errno));
	vm = vm_create(&cfg, &hv_kvm_ops, err, sizeof(err));
	if (!vm)
		die("%s", err);
	status = vm_run(vm);
	if (!clean)
		fast_exit(status);
	vm_destroy(vm);
	config_free(&cfg);
	return status;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "measure"))
		return measure_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "snp"))
		return snp_cli_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "ctl"))
		return ctl_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "smbios"))
		return smbios_cli_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "uki"))
		return uki_cli_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
		printf("fukivmm %s\n", FUKIVMM_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "fukivmm: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
