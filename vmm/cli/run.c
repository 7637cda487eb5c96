/* vmm/cli/run.c: `fukivmm run`.  Owns: the options of run, loading the
 * configuration, creating and running the VM, and the fast process exit.
 * The VM itself is vmm/vm/. */
#include "vmm/cli/run.h"

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vmm/base/events.h"
#include "vmm/base/exitcode.h"
#include "vmm/base/log.h"
#include "vmm/cli/cli.h"
#include "vmm/config/config.h"
#include "vmm/hv/hv.h"
#include "vmm/vm/vm.h"

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

/* Closing a KVM VM with an in-kernel irqchip takes tens of milliseconds
 * (the PIT thread is stopped, KVM waits for grace periods), and it happens
 * where the last reference goes: not only the VM and vCPU descriptors but
 * also each vCPU's mmap of its run area, so the VM dies with the last user
 * of our address space.  A helper that shares the file table and the memory
 * closes the descriptors (the caller sees EOF on stdout and stderr at once)
 * and then waits, through a pidfd, until every thread of this process has
 * exited: it is then the last user of the memory, and the VM is destroyed on
 * its exit, after the caller's wait for us has returned. */
static int teardown_child(void *arg)
{
	int pidfd = (int)(intptr_t)arg;

	close(STDOUT_FILENO);
	close(STDERR_FILENO);
	close(STDIN_FILENO);
	if (pidfd < 0) {
		close_range(3, ~0U, 0);
		return 0;
	}
	if (pidfd > 3)
		close_range(3, (unsigned)pidfd - 1, 0);
	close_range((unsigned)pidfd + 1, ~0U, 0);
	for (;;) {
		struct pollfd p = { .fd = pidfd, .events = POLLIN };

		if (poll(&p, 1, -1) >= 0 || errno != EINTR)
			break;
	}
	return 0;
}

static void fast_exit(int status)
{
	static char stack[16384] __attribute__((aligned(16)));
	int pidfd;

	fflush(stdout);
	fflush(stderr);
	pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	if (clone(teardown_child, stack + sizeof(stack), CLONE_VM | CLONE_FILES | SIGCHLD,
		  (void *)(intptr_t)pidfd) < 0) {
		/* no helper: exit the slow way, the kernel closes everything */
	}
	_exit(status);
}

int run_main(int argc, char **argv)
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
				return FUKI_EXIT_USAGE;
			}
			log_set_level(l);
		} else if (!strcmp(argv[i], "--api-socket") && i + 1 < argc) {
			api_socket = argv[++i];
		} else if (!strcmp(argv[i], "--clean-exit")) {
			clean = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			cli_usage(stdout);
			return FUKI_EXIT_OK;
		} else if (argv[i][0] == '-' || path) {
			fprintf(stderr, "fukivmm: run: unexpected argument '%s'\n", argv[i]);
			cli_usage(stderr);
			return FUKI_EXIT_USAGE;
		} else {
			path = argv[i];
		}
	}
	if (!path) {
		cli_usage(stderr);
		return FUKI_EXIT_USAGE;
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
	vm_set_clean_exit(vm, clean);
	status = vm_run(vm);
	if (!clean)
		fast_exit(status);
	vm_destroy(vm);
	config_free(&cfg);
	return status;
}
