/* tests/linuxguest/init.c: /init of the initramfs test_linux.sh boots a
 * real Linux kernel with on fukivmm.  Static, no libraries beyond libc.
 * It reports what the kernel found on fukivmm's platform -- CPUs, ACPI
 * tables, the virtio-blk disk and how its interrupts arrive -- reads the
 * disk's marker sector, writes sector 1, and powers the machine off through
 * ACPI (PM1 SLP_EN), so fukivmm exits 0.  Lines start with "linuxinit:". */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define SAY(...) do { printf("linuxinit: " __VA_ARGS__); fflush(stdout); } while (0)

static void power_off(void)
{
	SAY("powering off\n");
	sync();
	reboot(RB_POWER_OFF);
	SAY("reboot(RB_POWER_OFF) returned: %s\n", strerror(errno));
	for (;;)
		pause();
}

static void list_dir(const char *what, const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	char line[512];
	size_t n = 0;
	int count = 0;

	line[0] = '\0';
	if (!d) {
		SAY("%s: %s: %s\n", what, path, strerror(errno));
		return;
	}
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' && n + strlen(e->d_name) + 2 < sizeof(line)) {
			n += (size_t)snprintf(line + n, sizeof(line) - n, " %s", e->d_name);
			count++;
		}
	closedir(d);
	SAY("%s:%s\n", what, line);
}

/* The /proc/interrupts lines of the virtio device: the chip column says
 * whether it uses MSI-X (PCI-MSIX-...) or the IOAPIC. */
static void virtio_interrupts(void)
{
	FILE *f = fopen("/proc/interrupts", "r");
	char line[512];

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *p = line;

		if (!strstr(line, "virtio"))
			continue;
		while (*p == ' ')
			p++;
		/* squeeze runs of spaces for a stable line */
		for (char *q = p, *w = p;; q++) {
			if (*q == ' ' && (w > p && w[-1] == ' '))
				continue;
			*w++ = *q;
			if (!*q)
				break;
		}
		SAY("irq %s", p);
	}
	fclose(f);
}

int main(void)
{
	struct utsname u;
	char buf[512], name[64];
	int fd, r;
	long ncpu;

	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	uname(&u);
	SAY("hello from init, Linux %s\n", u.release);
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	SAY("cpus online %ld\n", ncpu);
	list_dir("acpi tables", "/sys/firmware/acpi/tables");

	fd = open("/virtio_blk.ko", O_RDONLY | O_CLOEXEC);
	r = fd < 0 ? -1 : (int)syscall(SYS_finit_module, fd, "", 0);
	SAY("virtio_blk module: %s\n", r == 0 ? "loaded" : strerror(errno));
	if (fd >= 0)
		close(fd);

	/* the disk appears asynchronously: wait (bounded) for /dev/vda */
	for (int i = 0; i < 600 && access("/dev/vda", F_OK); i++) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	fd = open("/dev/vda", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		SAY("no /dev/vda: %s\n", strerror(errno));
		power_off();
	}
	if (pread(fd, buf, 512, 0) != 512) {
		SAY("read sector 0: %s\n", strerror(errno));
		power_off();
	}
	memcpy(name, buf, sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	name[strcspn(name, "\n")] = '\0';
	SAY("sector 0: \"%s\"\n", name);
	memset(buf, 0, sizeof(buf));
	snprintf(buf, sizeof(buf), "written by Linux %s on fukivmm\n", u.release);
	if (pwrite(fd, buf, 512, 512) != 512 || fsync(fd)) {
		SAY("write sector 1: %s\n", strerror(errno));
		power_off();
	}
	SAY("sector 1 written and flushed\n");
	close(fd);
	fd = open("/sys/block/vda/size", O_RDONLY);
	if (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);

		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		SAY("vda sectors %s\n", buf);
		close(fd);
	}
	virtio_interrupts();
	power_off();
	return 0;
}
