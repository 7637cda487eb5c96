/* devices/fwcfg.c: implementation of devices/fwcfg.h, the QEMU-compatible
 * fw_cfg device (QEMU docs/specs/fw_cfg.rst, hw/nvram/fw_cfg.c behaviour).
 * Owns: the item tables, the file directory, the selector/offset state and
 * the DMA engine.  Must not touch guest memory except via gm_read/gm_write/
 * gm_ptr, and must not know about KVM.
 *
 * Configuration calls (fwcfg_add_*, fwcfg_set_*) are not locked here: make
 * them before vCPUs run, or from a select/write callback (which runs under
 * the PIO bus lock). */
#include "devices/fwcfg.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/base/bus.h"
#include "vmm/base/guestmem.h"
#include "vmm/base/le.h"
#include "vmm/base/log.h"

/* Selector bits that are not part of the item index (fw_cfg.rst). */
#define FWCFG_ENTRY_MASK   ((uint16_t)~(FW_CFG_WRITE_CHANNEL | FW_CFG_ARCH_LOCAL))
/* Items per table: numbered items 0x00..0x1f, then the file slots. */
#define FWCFG_MAX_ENTRY    (FW_CFG_FILE_FIRST + FW_CFG_FILE_SLOTS)
/* One directory entry, FWCfgFile in fw_cfg.rst: be32 size, be16 select,
 * u16 reserved, char name[56]. */
#define FWCFG_DIRENT_SIZE  64
#define FWCFG_DIR_SIZE     (4 + FWCFG_DIRENT_SIZE * FW_CFG_FILE_SLOTS)
/* FWCfgDmaAccess in fw_cfg.rst: be32 control, be32 length, be64 address. */
#define FWCFG_DMA_DESC_SIZE 16
/* Largest item: the directory stores sizes as 32 bits (QEMU asserts
 * len < UINT32_MAX). */
#define FWCFG_MAX_ITEM     ((size_t)UINT32_MAX - 1)

struct fwcfg_entry {
	bool used;
	bool owned;          /* data was malloc'd here */
	bool writable;       /* guest may DMA-write into it */
	uint8_t *data;
	uint32_t len;
	fwcfg_select_fn select_cb;
	fwcfg_write_fn write_cb;
	void *opaque;
};

struct fwcfg {
	const struct guestmem *gm;
	struct fwcfg_entry ent[2][FWCFG_MAX_ENTRY];   /* [arch-local][index] */
	uint8_t dir[FWCFG_DIR_SIZE];                  /* FW_CFG_FILE_DIR item */
	unsigned nfiles;
	uint16_t cur_key;     /* selector as written, FW_CFG_INVALID if none */
	uint32_t cur_off;
	uint64_t dma_addr;
	/* The transfer in progress (only inside dma_transfer, under the bus
	 * lock): its descriptor, and whether a write callback deferred it. */
	bool in_dma, deferred;
	uint64_t cur_desc;
};

static void put_be16(uint8_t *p, uint16_t v) { v = htobe16(v); memcpy(p, &v, 2); }
static void put_be32(uint8_t *p, uint32_t v) { v = htobe32(v); memcpy(p, &v, 4); }
static uint32_t get_be32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return be32toh(v); }
static uint64_t get_be64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return be64toh(v); }

static struct fwcfg_entry *fwcfg_entry(struct fwcfg *fw, uint16_t key)
{
	unsigned idx = key & FWCFG_ENTRY_MASK;

	if (key == FW_CFG_INVALID || idx >= FWCFG_MAX_ENTRY)
		return NULL;
	return &fw->ent[!!(key & FW_CFG_ARCH_LOCAL)][idx];
}

static uint8_t *dirent(struct fwcfg *fw, unsigned i)
{
	return fw->dir + 4 + (size_t)i * FWCFG_DIRENT_SIZE;
}

static const char *dirent_name(struct fwcfg *fw, unsigned i)
{
	return (const char *)dirent(fw, i) + 8;
}

static void entry_clear(struct fwcfg_entry *e)
{
	if (e->owned)
		free(e->data);
	memset(e, 0, sizeof(*e));
}

/* Copy @len bytes into a new buffer (NULL data for an empty item). */
static int dup_data(const void *data, size_t len, uint8_t **out)
{
	*out = NULL;
	if (len == 0)
		return 0;
	if (!data)
		return -EINVAL;
	*out = malloc(len);
	if (!*out)
		return -ENOMEM;
	memcpy(*out, data, len);
	return 0;
}

struct fwcfg *fwcfg_create(const struct guestmem *gm)
{
	struct fwcfg *fw = calloc(1, sizeof(*fw));
	struct fwcfg_entry *dir;

	if (!fw) {
		log_err("fwcfg: out of memory");
		return NULL;
	}
	fw->gm = gm;
	/* fw_cfg.rst: signature "QEMU"; ID bit 0 traditional, bit 1 DMA. */
	if (fwcfg_add_bytes(fw, FW_CFG_SIGNATURE, "QEMU", 4) ||
	    fwcfg_add_u32(fw, FW_CFG_ID, FW_CFG_VERSION | FW_CFG_VERSION_DMA)) {
		fwcfg_destroy(fw);
		return NULL;
	}
	dir = &fw->ent[0][FW_CFG_FILE_DIR];
	dir->used = true;
	dir->data = fw->dir;
	dir->len = sizeof(fw->dir);
	fwcfg_reset(fw);
	return fw;
}

void fwcfg_destroy(struct fwcfg *fw)
{
	unsigned a, i;

	if (!fw)
		return;
	for (a = 0; a < 2; a++)
		for (i = 0; i < FWCFG_MAX_ENTRY; i++)
			entry_clear(&fw->ent[a][i]);
	free(fw);
}

void fwcfg_select(struct fwcfg *fw, uint16_t key)
{
	struct fwcfg_entry *e = fwcfg_entry(fw, key);

	fw->cur_off = 0;
	if (!e) {
		fw->cur_key = FW_CFG_INVALID;
		return;
	}
	fw->cur_key = key;
	if (e->select_cb)
		e->select_cb(e->opaque);
}

void fwcfg_reset(struct fwcfg *fw)
{
	fw->dma_addr = 0;
	fwcfg_select(fw, FW_CFG_SIGNATURE);
}

uint8_t fwcfg_read_data(struct fwcfg *fw)
{
	struct fwcfg_entry *e = fwcfg_entry(fw, fw->cur_key);

	if (!e || !e->data || fw->cur_off >= e->len)
		return 0;
	return e->data[fw->cur_off++];
}

/* Zero-fill guest RAM [gpa, gpa+len) region by region, without allocating
 * anything proportional to @len.  -EFAULT at the first byte that is not
 * writable RAM (bytes before it stay written, as in QEMU). */
static int dma_zero(struct fwcfg *fw, uint64_t gpa, uint64_t len)
{
	while (len) {
		const struct gm_region *r = gm_find(fw->gm, gpa);
		uint64_t n;
		void *p;

		if (!r || (r->flags & GM_ROM))
			return -EFAULT;
		n = r->size - (gpa - r->gpa);
		if (n > len)
			n = len;
		p = gm_ptr(fw->gm, gpa, n, GM_RAM);
		if (!p)
			return -EFAULT;
		memset(p, 0, n);
		gpa += n;
		len -= n;
	}
	return 0;
}

/* One FWCfgDmaAccess at @desc, as QEMU's fw_cfg_dma_transfer(). */
static void dma_transfer(struct fwcfg *fw, uint64_t desc)
{
	uint8_t raw[FWCFG_DMA_DESC_SIZE], ctl_be[4];
	uint32_t control, length;
	uint64_t addr;
	bool rd = false, wr = false;

	if (gm_read(fw->gm, desc, raw, sizeof(raw))) {
		log_debug_rl("fwcfg: DMA descriptor at 0x%llx not readable",
			     (unsigned long long)desc);
		put_be32(ctl_be, FW_CFG_DMA_CTL_ERROR);
		(void)gm_write(fw->gm, desc, ctl_be, sizeof(ctl_be));
		return;
	}
	control = get_be32(raw);
	length = get_be32(raw + 4);
	addr = get_be64(raw + 8);

	if (control & FW_CFG_DMA_CTL_SELECT)
		fwcfg_select(fw, (uint16_t)(control >> 16));

	if (control & FW_CFG_DMA_CTL_READ)
		rd = true;
	else if (control & FW_CFG_DMA_CTL_WRITE)
		wr = true;
	else if (!(control & FW_CFG_DMA_CTL_SKIP))
		length = 0;

	control = 0;
	fw->in_dma = true;
	fw->deferred = false;
	fw->cur_desc = desc;
	while (length && !(control & FW_CFG_DMA_CTL_ERROR) && !fw->deferred) {
		/* Re-read each round: a callback may have changed the table. */
		struct fwcfg_entry *e = fwcfg_entry(fw, fw->cur_key);
		uint32_t n;

		if (!e || !e->data || fw->cur_off >= e->len) {
			/* Past the end: reads give zeros, writes fail. */
			n = length;
			if (rd && dma_zero(fw, addr, n))
				control |= FW_CFG_DMA_CTL_ERROR;
			if (wr)
				control |= FW_CFG_DMA_CTL_ERROR;
		} else {
			uint32_t left = e->len - fw->cur_off;

			n = length <= left ? length : left;
			if (rd && gm_write(fw->gm, addr, e->data + fw->cur_off, n))
				control |= FW_CFG_DMA_CTL_ERROR;
			if (wr) {
				if (!e->writable || n != length ||
				    gm_read(fw->gm, addr, e->data + fw->cur_off, n)) {
					control |= FW_CFG_DMA_CTL_ERROR;
				} else if (e->write_cb) {
					e->write_cb(e->opaque, fw->cur_off, n);
				}
			}
			fw->cur_off += n;
		}
		addr += n;
		length -= n;
	}
	fw->in_dma = false;
	if (fw->deferred)
		return;   /* the callback's thread writes the control word */
	if (control & FW_CFG_DMA_CTL_ERROR)
		log_debug_rl("fwcfg: DMA error, key 0x%x offset %u",
			     fw->cur_key, fw->cur_off);
	put_be32(ctl_be, control);
	(void)gm_write(fw->gm, desc, ctl_be, sizeof(ctl_be));
}

bool fwcfg_dma_defer(struct fwcfg *fw, uint64_t *desc)
{
	if (!fw->in_dma || fw->deferred)
		return false;
	fw->deferred = true;
	*desc = fw->cur_desc;
	return true;
}

void fwcfg_dma_finish(struct fwcfg *fw, uint64_t desc, bool error)
{
	uint8_t ctl_be[4];

	put_be32(ctl_be, error ? FW_CFG_DMA_CTL_ERROR : 0);
	(void)gm_write(fw->gm, desc, ctl_be, sizeof(ctl_be));
}

void fwcfg_dma_kick(struct fwcfg *fw, uint64_t gpa)
{
	fw->dma_addr = 0;   /* QEMU resets the register before the transfer */
	dma_transfer(fw, gpa);
}

/* 0x510..0x511: 16-bit selector write at 0x510 (little-endian), 8-bit data
 * reads at either port; 8-bit writes are data-port writes, ignored since
 * QEMU 2.4.  Other accesses read as zero / are dropped. */
static void fwcfg_pio_ctl(void *opaque, uint64_t offset, uint8_t *data,
			  unsigned len, bool is_write)
{
	struct fwcfg *fw = opaque;

	if (is_write) {
		if (len == 2 && offset == 0)
			fwcfg_select(fw, le_rd16(data));
		return;
	}
	memset(data, 0, len);
	if (len == 1)
		data[0] = fwcfg_read_data(fw);
}

/* 0x514..0x51b: big-endian DMA address; reads give "QEMU CFG". */
static void fwcfg_pio_dma(void *opaque, uint64_t offset, uint8_t *data,
			  unsigned len, bool is_write)
{
	static const uint8_t sig[8] = { 'Q', 'E', 'M', 'U', ' ', 'C', 'F', 'G' };
	struct fwcfg *fw = opaque;
	unsigned i;

	if (!is_write) {
		for (i = 0; i < len; i++)
			data[i] = offset + i < sizeof(sig) ? sig[offset + i] : 0;
		return;
	}
	if (len == 4 && offset == 0) {
		fw->dma_addr = (uint64_t)get_be32(data) << 32;
	} else if (len == 4 && offset == 4) {
		uint64_t a = fw->dma_addr | get_be32(data);

		fwcfg_dma_kick(fw, a);
	} else if (len == 8 && offset == 0) {
		fwcfg_dma_kick(fw, get_be64(data));
	}
}

int fwcfg_attach(struct fwcfg *fw, struct bus *pio)
{
	int ret;

	/* One 2-port range: a 16-bit selector write at 0x510 covers 0x511. */
	ret = bus_register(pio, FWCFG_PORT_SEL, 2, fwcfg_pio_ctl, fw, "fw_cfg");
	if (ret)
		return ret;
	return bus_register(pio, FWCFG_PORT_DMA, 8, fwcfg_pio_dma, fw,
			    "fw_cfg-dma");
}

/* Keys a numbered item may use: not the directory, not the file range. */
static struct fwcfg_entry *numbered_entry(struct fwcfg *fw, uint16_t key)
{
	unsigned idx = key & FWCFG_ENTRY_MASK;

	if ((key & FW_CFG_WRITE_CHANNEL) || idx >= FW_CFG_FILE_FIRST ||
	    (!(key & FW_CFG_ARCH_LOCAL) && idx == FW_CFG_FILE_DIR))
		return NULL;
	return fwcfg_entry(fw, key);
}

int fwcfg_add_bytes(struct fwcfg *fw, uint16_t key, const void *data, size_t len)
{
	struct fwcfg_entry *e = numbered_entry(fw, key);
	uint8_t *copy;
	int ret;

	if (!e || len > FWCFG_MAX_ITEM) {
		log_err("fwcfg: bad item key 0x%x len %zu", key, len);
		return -EINVAL;
	}
	if (e->used) {
		log_err("fwcfg: item 0x%x already set", key);
		return -EEXIST;
	}
	ret = dup_data(data, len, &copy);
	if (ret) {
		log_err("fwcfg: cannot copy item 0x%x (%zu bytes): %d", key, len, ret);
		return ret;
	}
	*e = (struct fwcfg_entry){ .used = true, .owned = true, .data = copy,
				   .len = (uint32_t)len };
	return 0;
}

int fwcfg_add_u16(struct fwcfg *fw, uint16_t key, uint16_t v)
{
	v = htole16(v);
	return fwcfg_add_bytes(fw, key, &v, sizeof(v));
}

int fwcfg_add_u32(struct fwcfg *fw, uint16_t key, uint32_t v)
{
	v = htole32(v);
	return fwcfg_add_bytes(fw, key, &v, sizeof(v));
}

int fwcfg_add_u64(struct fwcfg *fw, uint16_t key, uint64_t v)
{
	v = htole64(v);
	return fwcfg_add_bytes(fw, key, &v, sizeof(v));
}

int fwcfg_set_bytes(struct fwcfg *fw, uint16_t key, const void *data, size_t len)
{
	struct fwcfg_entry *e = numbered_entry(fw, key);
	uint8_t *copy;
	int ret;

	if (!e || len > FWCFG_MAX_ITEM) {
		log_err("fwcfg: bad item key 0x%x len %zu", key, len);
		return -EINVAL;
	}
	ret = dup_data(data, len, &copy);
	if (ret) {
		log_err("fwcfg: cannot copy item 0x%x (%zu bytes): %d", key, len, ret);
		return ret;
	}
	entry_clear(e);
	*e = (struct fwcfg_entry){ .used = true, .owned = true, .data = copy,
				   .len = (uint32_t)len };
	return 0;
}

static int find_file(struct fwcfg *fw, const char *name)
{
	unsigned i;

	for (i = 0; i < fw->nfiles; i++)
		if (strcmp(dirent_name(fw, i), name) == 0)
			return (int)i;
	return -1;
}

/* Insert a file at its sorted position, shifting later files (and their
 * keys) up by one, as QEMU's fw_cfg_add_file_callback() does. */
static int add_file(struct fwcfg *fw, const char *name, struct fwcfg_entry *ne)
{
	unsigned i, pos;
	size_t nlen;
	uint8_t *d;

	if (!name || !*name) {
		log_err("fwcfg: empty file name");
		return -EINVAL;
	}
	nlen = strlen(name);
	if (nlen >= FW_CFG_MAX_FILE_PATH) {
		log_err("fwcfg: file name too long (%zu): %.60s", nlen, name);
		return -ENAMETOOLONG;
	}
	if (ne->len > FWCFG_MAX_ITEM) {
		log_err("fwcfg: file %s too large", name);
		return -EINVAL;
	}
	if (find_file(fw, name) >= 0) {
		log_err("fwcfg: duplicate file %s", name);
		return -EEXIST;
	}
	if (fw->nfiles >= FW_CFG_FILE_SLOTS) {
		log_err("fwcfg: no free file slot for %s", name);
		return -ENOSPC;
	}
	for (pos = fw->nfiles; pos > 0 && strcmp(name, dirent_name(fw, pos - 1)) < 0; pos--)
		;
	for (i = fw->nfiles; i > pos; i--) {
		memcpy(dirent(fw, i), dirent(fw, i - 1), FWCFG_DIRENT_SIZE);
		put_be16(dirent(fw, i) + 4, FW_CFG_FILE_FIRST + i);
		fw->ent[0][FW_CFG_FILE_FIRST + i] = fw->ent[0][FW_CFG_FILE_FIRST + i - 1];
	}
	d = dirent(fw, pos);
	memset(d, 0, FWCFG_DIRENT_SIZE);
	put_be32(d, ne->len);
	put_be16(d + 4, FW_CFG_FILE_FIRST + pos);
	memcpy(d + 8, name, nlen);
	fw->ent[0][FW_CFG_FILE_FIRST + pos] = *ne;
	fw->nfiles++;
	put_be32(fw->dir, fw->nfiles);
	return 0;
}

int fwcfg_add_file(struct fwcfg *fw, const char *name, const void *data, size_t len)
{
	struct fwcfg_entry ne = { .used = true, .owned = true };
	int ret;

	if (len > FWCFG_MAX_ITEM) {
		log_err("fwcfg: file %s too large (%zu)", name ? name : "?", len);
		return -EINVAL;
	}
	ret = dup_data(data, len, &ne.data);
	if (ret) {
		log_err("fwcfg: cannot copy file %s: %d", name ? name : "?", ret);
		return ret;
	}
	ne.len = (uint32_t)len;
	ret = add_file(fw, name, &ne);
	if (ret)
		free(ne.data);
	return ret;
}

int fwcfg_add_file_cb(struct fwcfg *fw, const char *name, void *data, size_t len,
		      bool writable, fwcfg_select_fn select_cb,
		      fwcfg_write_fn write_cb, void *opaque)
{
	struct fwcfg_entry ne = {
		.used = true, .writable = writable, .data = data,
		.select_cb = select_cb, .write_cb = write_cb, .opaque = opaque,
	};

	if (len > FWCFG_MAX_ITEM || (len && !data)) {
		log_err("fwcfg: bad buffer for file %s (%zu bytes)",
			name ? name : "?", len);
		return -EINVAL;
	}
	ne.len = (uint32_t)len;
	return add_file(fw, name, &ne);
}

/* Replaces the contents with an owned copy; a caller-buffer file becomes an
 * ordinary read-only file without callbacks. */
int fwcfg_set_file(struct fwcfg *fw, const char *name, const void *data, size_t len)
{
	struct fwcfg_entry *e;
	uint8_t *copy;
	int i, ret;

	i = name ? find_file(fw, name) : -1;
	if (i < 0) {
		log_err("fwcfg: no file %s to replace", name ? name : "?");
		return -ENOENT;
	}
	if (len > FWCFG_MAX_ITEM) {
		log_err("fwcfg: file %s too large (%zu)", name, len);
		return -EINVAL;
	}
	ret = dup_data(data, len, &copy);
	if (ret) {
		log_err("fwcfg: cannot copy file %s: %d", name, ret);
		return ret;
	}
	e = &fw->ent[0][FW_CFG_FILE_FIRST + i];
	entry_clear(e);
	*e = (struct fwcfg_entry){ .used = true, .owned = true, .data = copy,
				   .len = (uint32_t)len };
	put_be32(dirent(fw, (unsigned)i), (uint32_t)len);
	return 0;
}
