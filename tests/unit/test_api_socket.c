/* tests/unit/test_api_socket.c: how the control socket's file comes to be
 * (vmm/api/server.c api_listen): mode 0600 from the moment it exists even
 * under umask 000, and the stale-socket removal touching only a socket of
 * our own uid that nobody listens on.  Owns: a temporary folder. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "vmm/api/api.h"
#include "vmm/base/events.h"
#include "vmm/base/log.h"

static int no_status(void *o, struct api_status *st)
{
	return -ENOTSUP;
}

static const struct api_ops ops = { .status = no_status };

static char tmpdir[64];
static char sockpath[128];

static void setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	log_set_level(LOG_ERR);
	events_open("/dev/null");
	strcpy(tmpdir, "/tmp/fuki-apisock-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	snprintf(sockpath, sizeof(sockpath), "%s/api.sock", tmpdir);
}

static void teardown(void)
{
	char other[160];

	unlink(sockpath);
	snprintf(other, sizeof(other), "%s/target", tmpdir);
	unlink(other);
	rmdir(tmpdir);
	events_close();
}

TestSuite(api_socket, .init = setup, .fini = teardown, .timeout = 60);

/* ---- a watcher that looks at the path as fast as it can ---- */

static atomic_bool watching;
static atomic_uint seen, bad_modes;
static atomic_uint last_bad_mode;

static void *watch(void *arg)
{
	struct stat sb;

	while (atomic_load(&watching)) {
		if (lstat(sockpath, &sb) == 0) {
			atomic_fetch_add(&seen, 1);
			if ((sb.st_mode & 07777) != 0600) {
				atomic_fetch_add(&bad_modes, 1);
				atomic_store(&last_bad_mode, sb.st_mode & 07777);
			}
		}
	}
	return NULL;
}

Test(api_socket, mode_0600_from_the_start_under_umask_000)
{
	mode_t old = umask(0);
	pthread_t th;
	char err[256];

	atomic_store(&watching, true);
	pthread_create(&th, NULL, watch, NULL);
	for (int i = 0; i < 1000; i++) {
		struct api_server *s = api_start(sockpath, NULL, 0, &ops, NULL, err, sizeof(err));
		struct stat sb;

		cr_assert_not_null(s, "api_start: %s", err);
		cr_assert_eq(lstat(sockpath, &sb), 0);
		cr_assert(S_ISSOCK(sb.st_mode));
		cr_assert_eq(sb.st_mode & 07777, 0600, "mode %o", sb.st_mode & 07777);
		cr_assert_eq(sb.st_uid, geteuid());
		cr_assert_eq(umask(0), 0, "the umask is put back after bind");
		api_stop(s);
	}
	atomic_store(&watching, false);
	pthread_join(th, NULL);
	umask(old);
	cr_assert_eq(atomic_load(&bad_modes), 0, "the watcher saw mode %o (%u of %u looks)",
		     atomic_load(&last_bad_mode), atomic_load(&bad_modes), atomic_load(&seen));
}

static void make_stale_socket(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	cr_assert(fd >= 0);
	strcpy(a.sun_path, sockpath);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	close(fd);
}

Test(api_socket, stale_socket_of_ours_is_replaced)
{
	struct api_server *s;
	struct stat after;
	char err[256];

	make_stale_socket();
	s = api_start(sockpath, NULL, 0, &ops, NULL, err, sizeof(err));
	cr_assert_not_null(s, "%s", err);
	cr_assert_eq(lstat(sockpath, &after), 0);
	cr_assert(S_ISSOCK(after.st_mode));
	cr_assert_eq(after.st_mode & 07777, 0600);
	{
		/* a new socket took the old one's place: this one listens */
		struct sockaddr_un a = { .sun_family = AF_UNIX };
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);

		strcpy(a.sun_path, sockpath);
		cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0, "%s", strerror(errno));
		close(fd);
	}
	api_stop(s);
	cr_assert_neq(lstat(sockpath, &after), 0, "removed at stop");
}

Test(api_socket, stale_socket_of_another_uid_is_left_alone)
{
	struct stat sb;
	char err[256];

	if (geteuid() != 0)
		cr_skip_test("needs root to give a socket to another uid");
	make_stale_socket();
	cr_assert_eq(lchown(sockpath, 65534, 65534), 0);
	cr_assert_null(api_start(sockpath, NULL, 0, &ops, NULL, err, sizeof(err)));
	cr_assert(strstr(err, "owned by uid 65534"), "%s", err);
	cr_assert_eq(lstat(sockpath, &sb), 0, "the other uid's socket is still there");
	cr_assert_eq(sb.st_uid, 65534);
}

Test(api_socket, symlink_is_not_followed)
{
	char target[160], err[256];
	struct stat sb;
	FILE *f;

	snprintf(target, sizeof(target), "%s/target", tmpdir);
	f = fopen(target, "w");
	cr_assert_not_null(f);
	fputs("keep", f);
	fclose(f);
	cr_assert_eq(chmod(target, 0644), 0);
	cr_assert_eq(symlink(target, sockpath), 0);
	cr_assert_null(api_start(sockpath, NULL, 0, &ops, NULL, err, sizeof(err)));
	cr_assert(strstr(err, "not a socket"), "%s", err);
	cr_assert_eq(lstat(sockpath, &sb), 0);
	cr_assert(S_ISLNK(sb.st_mode), "the symlink is untouched");
	cr_assert_eq(stat(target, &sb), 0);
	cr_assert_eq(sb.st_mode & 07777, 0644, "its target's mode is untouched");
	cr_assert_eq(sb.st_size, 4);

	/* a symlink to a socket is not followed either */
	unlink(sockpath);
	unlink(target);
	{
		char keep[128];

		strcpy(keep, sockpath);
		strcpy(sockpath, target);
		make_stale_socket();
		strcpy(sockpath, keep);
	}
	cr_assert_eq(symlink(target, sockpath), 0);
	cr_assert_null(api_start(sockpath, NULL, 0, &ops, NULL, err, sizeof(err)));
	cr_assert(strstr(err, "not a socket"), "%s", err);
	cr_assert_eq(lstat(target, &sb), 0, "the socket the link names is still there");
	cr_assert(S_ISSOCK(sb.st_mode));
}
