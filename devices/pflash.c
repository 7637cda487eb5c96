/* devices/pflash.c: the CFI flash variable store (see pflash.h). */
#include "devices/pflash.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/base/bus.h"
#include "vmm/base/log.h"

/* Intel/Sharp command set (the CFI primary command set 0x0001) */
#define CMD_READ_ARRAY   0xFF
#define CMD_PROGRAM      0x10
#define CMD_PROGRAM_ALT  0x40
#define CMD_ERASE        0x20
#define CMD_CONFIRM      0xD0
#define CMD_CLEAR_STATUS 0x50
#define CMD_READ_STATUS  0x70
#define CMD_READ_ID      0x90
#define CMD_QUERY        0x98
#define CMD_LOCK         0x60
#define CMD_LOCK_SET     0x01
#define CMD_AMD_PROBE    0xF0

#define STATUS_READY     0x80

/* the largest store: the firmware window below 4 GiB */
#define PFLASH_MAX       (16ull << 20)
#define CFI_LEN          0x40

struct pflash {
	uint8_t *buf;
	uint64_t size;
	uint64_t gpa;
	int fd;
	bool owned;              /* buf and fd are pflash_open's */
	bool active;
	uint8_t cmd;             /* 0: read array (the slot is mapped), else the
	                            command being served (no slot) */
	uint8_t wcycle;          /* 0: the next write is a command */
	uint8_t status;
	uint64_t dirty_lo, dirty_hi;   /* bytes not written back yet */
	uint8_t cfi[CFI_LEN];
	pflash_map_fn *map;
	void *map_opaque;
};

static unsigned log2_ceil(uint64_t v)
{
	unsigned n = 0;

	while (n < 63 && (1ull << n) < v)
		n++;
	return n;
}

/* The CFI query structure (JESD68) a byte-wide bank reports at query
 * address 0x10 on: one erase-block region of 4 KiB sectors, no write
 * buffer, no alternate command set. */
static void pflash_cfi_fill(struct pflash *pf)
{
	uint64_t blocks = pf->size / PFLASH_SECTOR;
	uint8_t *q = pf->cfi;

	memset(q, 0, sizeof(pf->cfi));
	q[0x10] = 'Q'; q[0x11] = 'R'; q[0x12] = 'Y';
	q[0x13] = 0x01;                    /* primary command set: Intel/Sharp */
	q[0x15] = 0x31;                    /* its extended table at 0x31 */
	q[0x1B] = 0x45; q[0x1C] = 0x55;    /* Vcc 4.5-5.5 V, no Vpp */
	q[0x1F] = 0x07;                    /* byte program: 2^7 us typical */
	q[0x21] = 0x0A;                    /* block erase: 2^10 ms typical */
	q[0x23] = 0x04; q[0x25] = 0x04;    /* maxima: 2^4 times typical */
	q[0x27] = (uint8_t)log2_ceil(pf->size);
	q[0x28] = 0x00;                    /* x8 asynchronous interface */
	q[0x2A] = 0x00;                    /* no multi-byte write buffer */
	q[0x2C] = 0x01;                    /* one erase-block region */
	q[0x2D] = (uint8_t)(blocks - 1);
	q[0x2E] = (uint8_t)((blocks - 1) >> 8);
	q[0x2F] = (uint8_t)(PFLASH_SECTOR / 256);
	q[0x30] = (uint8_t)((PFLASH_SECTOR / 256) >> 8);
	q[0x31] = 'P'; q[0x32] = 'R'; q[0x33] = 'I';
	q[0x34] = '1'; q[0x35] = '0';      /* extended table version 1.0 */
}

struct pflash *pflash_create(uint8_t *buf, uint64_t size, int fd)
{
	struct pflash *pf;

	if (!buf || !size || size % PFLASH_SECTOR || size > PFLASH_MAX ||
	    size / PFLASH_SECTOR > 0x10000)
		return NULL;
	pf = calloc(1, sizeof(*pf));
	if (!pf)
		return NULL;
	pf->buf = buf;
	pf->size = size;
	pf->fd = fd;
	pf->active = true;
	pf->dirty_lo = UINT64_MAX;
	pflash_cfi_fill(pf);
	pflash_reset(pf);
	return pf;
}

struct pflash *pflash_open(const char *path, char *err, size_t errlen)
{
	struct pflash *pf;
	struct stat st;
	uint8_t *buf;
	uint64_t got = 0;
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "variable store %s: %s", path, strerror(errno));
		return NULL;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		snprintf(err, errlen, "variable store %s: %s", path,
			 errno == EWOULDBLOCK ? "in use by another VM (locked)" : strerror(errno));
		close(fd);
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (uint64_t)st.st_size % PFLASH_SECTOR || (uint64_t)st.st_size > PFLASH_MAX) {
		snprintf(err, errlen, "variable store %s: not a regular file whose size is a "
			 "non-zero multiple of 4 KiB up to 16 MiB", path);
		close(fd);
		return NULL;
	}
	buf = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		snprintf(err, errlen, "variable store %s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	while (got < (uint64_t)st.st_size) {
		ssize_t n = pread(fd, buf + got, (size_t)((uint64_t)st.st_size - got), (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "variable store %s: %s", path,
				 n < 0 ? strerror(errno) : "shorter than it was");
			munmap(buf, (size_t)st.st_size);
			close(fd);
			return NULL;
		}
		got += (uint64_t)n;
	}
	pf = pflash_create(buf, (uint64_t)st.st_size, fd);
	if (!pf) {
		snprintf(err, errlen, "variable store %s: out of memory", path);
		munmap(buf, (size_t)st.st_size);
		close(fd);
		return NULL;
	}
	pf->owned = true;
	return pf;
}

int pflash_attach(struct pflash *pf, struct bus *mmio, uint64_t gpa)
{
	pf->gpa = gpa;
	return bus_register(mmio, gpa, pf->size, pflash_access, pf, "pflash");
}

void pflash_set_map(struct pflash *pf, pflash_map_fn *fn, void *opaque)
{
	pf->map = fn;
	pf->map_opaque = opaque;
}

void pflash_set_active(struct pflash *pf, bool active)
{
	pf->active = active;
}

bool pflash_array_mode(const struct pflash *pf)
{
	return pf->cmd == 0;
}

uint8_t *pflash_host(const struct pflash *pf)
{
	return pf->buf;
}

uint64_t pflash_size(const struct pflash *pf)
{
	return pf->size;
}

uint64_t pflash_gpa(const struct pflash *pf)
{
	return pf->gpa;
}

uint8_t pflash_status(const struct pflash *pf)
{
	return pf->status;
}

void pflash_reset(struct pflash *pf)
{
	pf->cmd = 0;
	pf->wcycle = 0;
	pf->status = STATUS_READY;
}

int pflash_flush(struct pflash *pf)
{
	uint64_t off, end;

	if (pf->dirty_lo >= pf->dirty_hi)
		return 0;
	if (pf->fd < 0) {
		pf->dirty_lo = UINT64_MAX;
		pf->dirty_hi = 0;
		return 0;
	}
	off = pf->dirty_lo;
	end = pf->dirty_hi;
	while (off < end) {
		ssize_t n = pwrite(pf->fd, pf->buf + off, (size_t)(end - off), (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;

			pf->dirty_lo = off;
			log_err("pflash: writing the variable store back: %s", strerror(e));
			return -e;
		}
		off += (uint64_t)n;
	}
	pf->dirty_lo = UINT64_MAX;
	pf->dirty_hi = 0;
	return 0;
}

static void pflash_dirty(struct pflash *pf, uint64_t off, uint64_t len)
{
	if (off < pf->dirty_lo)
		pf->dirty_lo = off;
	if (off + len > pf->dirty_hi)
		pf->dirty_hi = off + len;
}

/* Leave read-array mode (before pf->cmd is set): every access now traps
 * here. */
static void pflash_unmap(struct pflash *pf)
{
	if (pf->cmd)
		return;   /* from one command to another: no slot already */
	if (pf->map && pf->map(pf->map_opaque, false))
		log_warn("pflash: cannot take the array's memory slot away");
}

/* Back to read-array mode: the slot again, the changes to the file. */
static void pflash_read_array(struct pflash *pf)
{
	bool was_array = pf->cmd == 0;

	pf->cmd = 0;
	pf->wcycle = 0;
	pflash_flush(pf);
	if (was_array)
		return;
	if (pf->map && pf->map(pf->map_opaque, true))
		log_warn("pflash: cannot map the array's memory slot again");
}

static void pflash_read(struct pflash *pf, uint64_t off, uint8_t *data, unsigned len)
{
	switch (pf->cmd) {
	case 0:
		memcpy(data, pf->buf + off, len);
		return;
	case CMD_READ_ID:
		/* manufacturer and device codes: 0, as QEMU's pc flash */
		memset(data, 0, len);
		return;
	case CMD_QUERY:
		for (unsigned i = 0; i < len; i++) {
			uint64_t a = (off + i) & 0xff;

			data[i] = a < CFI_LEN ? pf->cfi[a] : 0;
		}
		return;
	default:
		/* program, erase, lock, status: the status register; a 4-byte
		 * read sees it twice, as two 16-bit devices would show it */
		memset(data, 0, len);
		data[0] = pf->status;
		if (len > 2)
			data[2] = pf->status;
		return;
	}
}

/* A first write cycle: a command. */
static void pflash_command(struct pflash *pf, uint64_t off, uint8_t cmd)
{
	switch (cmd) {
	case 0x00:
	case CMD_AMD_PROBE:
	case CMD_READ_ARRAY:
		pflash_read_array(pf);
		return;
	case CMD_CLEAR_STATUS:
		pf->status = 0;
		pflash_read_array(pf);
		return;
	case CMD_READ_STATUS:
	case CMD_READ_ID:
		pflash_unmap(pf);
		pf->cmd = cmd;
		return;
	case CMD_PROGRAM:
	case CMD_PROGRAM_ALT:
	case CMD_ERASE:
	case CMD_LOCK:
	case CMD_QUERY:
		pflash_unmap(pf);
		pf->cmd = cmd;
		pf->wcycle = 1;
		return;
	default:
		log_debug("pflash: unknown command 0x%02x at 0x%llx: read-array mode", cmd,
			  (unsigned long long)off);
		pflash_read_array(pf);
		return;
	}
}

static void pflash_write(struct pflash *pf, uint64_t off, const uint8_t *data, unsigned len)
{
	uint8_t v = data[0];

	if (!pf->wcycle) {
		pflash_command(pf, off, v);
		return;
	}
	switch (pf->cmd) {
	case CMD_PROGRAM:
	case CMD_PROGRAM_ALT:
		memcpy(pf->buf + off, data, len);
		pflash_dirty(pf, off, len);
		pf->status |= STATUS_READY;
		pf->wcycle = 0;     /* reads show the status until read-array */
		return;
	case CMD_ERASE:
		if (v != CMD_CONFIRM)
			break;
		off &= ~(uint64_t)(PFLASH_SECTOR - 1);
		memset(pf->buf + off, 0xff, PFLASH_SECTOR);
		pflash_dirty(pf, off, PFLASH_SECTOR);
		pf->status |= STATUS_READY;
		pf->wcycle = 0;
		return;
	case CMD_LOCK:
		if (v != CMD_CONFIRM && v != CMD_LOCK_SET)
			break;
		/* block locking is accepted and not modelled: every block stays
		 * writable, as on QEMU */
		pf->status |= STATUS_READY;
		pf->wcycle = 0;
		return;
	case CMD_QUERY:
		if (v != CMD_READ_ARRAY)
			return;   /* other writes leave the query mode as it is */
		break;
	default:
		break;
	}
	if (v != CMD_READ_ARRAY)
		log_debug("pflash: command 0x%02x then 0x%02x: read-array mode", pf->cmd, v);
	pflash_read_array(pf);
}

void pflash_access(void *opaque, uint64_t off, uint8_t *data, unsigned len, bool is_write)
{
	struct pflash *pf = opaque;

	if (!len || len > 8 || off >= pf->size || len > pf->size - off) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	if (!pf->active) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	if (is_write)
		pflash_write(pf, off, data, len);
	else
		pflash_read(pf, off, data, len);
}

int pflash_sync(struct pflash *pf)
{
	int r = pflash_flush(pf);

	if (!r && pf->fd >= 0 && fsync(pf->fd) < 0) {
		r = -errno;
		log_err("pflash: syncing the variable store: %s", strerror(errno));
	}
	return r;
}

void pflash_destroy(struct pflash *pf)
{
	if (!pf)
		return;
	pflash_sync(pf);
	if (pf->owned) {
		munmap(pf->buf, (size_t)pf->size);
		if (pf->fd >= 0)
			close(pf->fd);
	}
	free(pf);
}
