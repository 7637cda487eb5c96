// SPDX-License-Identifier: GPL-2.0-only
/*
 * tests/hw/doorbell-kmod/fuki_doorbell.c: guest kernel module of the
 * real-hardware kit.  Owns /dev/fuki_doorbell and its sysfs attributes: it
 * stages a firmware image, puts it in shared (decrypted) guest memory and
 * rings the fw_cfg doorbell "etc/vmlaunchupdate" (docs/doorbell.md) by fw_cfg
 * DMA.  It touches no other fw_cfg item and never frees memory the host may
 * still read.
 *
 * Use (tests/hw/fuki-swap.sh does this):
 *   cat fw2.fd > /dev/fuki_doorbell          each open for writing starts a
 *                                             new image; write() appends
 *   echo raw > /sys/class/misc/fuki_doorbell/ring
 *                                             "raw" (FORMAT_RAW_ROM), "igvm"
 *                                             (FORMAT_IGVM) or a number, the
 *                                             64-bit control value
 *   cat /sys/class/misc/fuki_doorbell/status  "<n> <NAME>" of the last ring
 *   cat /sys/class/misc/fuki_doorbell/doorbell
 *                                             the structure as the host shows
 *                                             it now (one fw_cfg DMA read)
 * The write to "ring" returns when the host has answered: it fails with an
 * errno (table fdb_status_errno) unless the host's status is SUCCESS.
 *
 * The image must be physically contiguous (the doorbell takes one address
 * and size), so it lives in one alloc_pages() block: at most
 * PAGE_SIZE << FDB_MAX_ORDER bytes, 4 MiB on x86-64 kernels with the default
 * page allocator (6.1 and 6.12 alike).  OVMF images are 2 to 4 MiB.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cc_platform.h>
#include <linux/device.h>
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/qemu_fw_cfg.h>	/* FW_CFG_* selectors, DMA bits, struct fw_cfg_file */
#include <linux/set_memory.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/version.h>
#include <linux/vmalloc.h>

#ifndef CONFIG_X86
#error "fuki_doorbell drives the x86 fw_cfg I/O ports"
#endif

/* Largest order alloc_pages() serves.  Before 6.4 MAX_ORDER was exclusive;
 * 6.4 ("mm, treewide: redefine MAX_ORDER sanely") made it inclusive and 6.8
 * renamed it MAX_PAGE_ORDER ("mm, treewide: rename MAX_ORDER to
 * MAX_PAGE_ORDER").  Debian 12: 6.1 has MAX_ORDER 11, 6.12 MAX_PAGE_ORDER 10,
 * both 4 MiB with 4 KiB pages. */
#if defined(MAX_PAGE_ORDER) || LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
#define FDB_MAX_ORDER MAX_PAGE_ORDER
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 4, 0)
#define FDB_MAX_ORDER MAX_ORDER
#else
#define FDB_MAX_ORDER (MAX_ORDER - 1)
#endif
/* The host's raw ROM limit (docs/doorbell.md section 3) caps it as well. */
#define FDB_HOST_MAX (16UL << 20)
#define FDB_IMAGE_MAX min_t(unsigned long, PAGE_SIZE << FDB_MAX_ORDER, FDB_HOST_MAX)

/* fw_cfg x86 I/O ports: QEMU docs/specs/fw_cfg.rst "Selector Register
 * IOport 0x510, Data Register IOport 0x511, DMA Address IOport 0x514"; the
 * 64-bit big-endian DMA address is written as two BE32 halves, high at
 * 0x514, then low at 0x518, which starts the transfer. */
#define FDB_PORT_SEL     0x510
#define FDB_PORT_DATA    0x511
#define FDB_PORT_DMA_HI  0x514
#define FDB_PORT_DMA_LO  0x518

/* docs/doorbell.md section 1-3 (QEMU include/standard-headers/misc/
 * vmlaunchupdate.h for IGVM and the CTL bits; RAW_ROM is fukivmm's). */
#define FDB_FILE_NAME      "etc/vmlaunchupdate"
#define FDB_CTL_DISABLE    (1ULL << 0)
#define FDB_CTL_HOST_IGVM  (1ULL << 1)
#define FDB_FORMAT_IGVM    (1ULL << 32)
#define FDB_FORMAT_RAW_ROM (1ULL << 33)
#define FDB_FORMAT_MASK    0xffffffff00000000ULL

/* The 56-byte structure, all little-endian (docs/doorbell.md section 2). */
struct fdb_vlu {
	__le16 version;
	__le16 status;
	__le32 pad;
	__le64 capabilities;
	__le64 control;
	__le64 fw_image_addr;
	__le64 fw_image_size;
	__le64 opaque_addr;
	__le64 opaque_size;
} __packed;
static_assert(sizeof(struct fdb_vlu) == 56);
static_assert(sizeof(struct fw_cfg_dma_access) == 16);

/* Layout of the one shared page: the DMA descriptor, the structure, and a
 * small marker passed as the opaque hand-over region with every image.  The
 * host keeps opaque_addr/size across the relaunch, so a guest that reads a
 * non-zero opaque_size knows it runs after a swap (fuki-swap.sh uses that to
 * swap once only). */
#define FDB_OFF_DESC    0
#define FDB_OFF_VLU     64
#define FDB_OFF_MARKER  128
#define FDB_MARKER      "fukivmm doorbell-kmod: firmware swapped"
#define FDB_MARKER_SIZE 64

/* How long a DMA transfer may take (the host copies and hashes the image in
 * the write itself: milliseconds) before we give up and never free the
 * shared page. */
#define FDB_DMA_TIMEOUT_MS 5000

static const char *const fdb_status_names[] = {
	"SUCCESS", "LOAD_FAIL", "NOT_IGVM_INIT", "TOO_LARGE", "BAD_RANGE",
	"RATE_LIMITED", "DENIED", "BAD_FORMAT", "MALFORMED",
};

/* status -> errno returned by the write to "ring" */
static const int fdb_status_errno[] = {
	0, EIO, EOPNOTSUPP, EFBIG, ERANGE, EAGAIN, EPERM, EINVAL, EBADMSG,
};

struct fdb_state {
	struct mutex lock;		/* everything below, and the fw_cfg ports */
	/* staging buffer filled by write() */
	u8 *stage;
	size_t stage_len;
	bool writer;			/* one open writer at a time */
	/* fw_cfg */
	bool probed;
	u16 select;			/* of etc/vmlaunchupdate */
	/* shared (decrypted when the platform encrypts memory) */
	struct page *shared;		/* descriptor + structure + marker */
	struct page *image;		/* image block */
	unsigned int image_order;
	bool image_pinned;		/* an accepted image lies there */
	bool wedged;			/* a DMA never finished: keep it all */
	/* last ring */
	int last_status;		/* host status; -1: no answer */
	int last_err;			/* errno of a ring the host never answered */
};

static struct fdb_state fdb = {
	.lock = __MUTEX_INITIALIZER(fdb.lock),
	.last_status = -1,
};

static const char *fdb_status_name(unsigned int st)
{
	return st < ARRAY_SIZE(fdb_status_names) ? fdb_status_names[st] : "UNKNOWN";
}

/* ---- shared memory ---------------------------------------------------- */

static bool fdb_mem_encrypted(void)
{
	return cc_platform_has(CC_ATTR_MEM_ENCRYPT);
}

/* alloc_pages() a zeroed block and make it shared with the host. */
static struct page *fdb_alloc_shared(unsigned int order)
{
	struct page *p;
	unsigned long va;
	int r;

	p = alloc_pages(GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN |
			__GFP_RETRY_MAYFAIL, order);
	if (!p) {
		pr_err("no %lu KiB of contiguous memory (order %u)\n",
		       (PAGE_SIZE << order) >> 10, order);
		return NULL;
	}
	va = (unsigned long)page_address(p);
	if (fdb_mem_encrypted()) {
		r = set_memory_decrypted(va, 1 << order);
		if (r) {
			/* state unknown: never give these pages back */
			pr_err("set_memory_decrypted(order %u) failed: %d; %lu KiB leaked\n",
			       order, r, (PAGE_SIZE << order) >> 10);
			return NULL;
		}
		/* contents are undefined after the conversion */
		memset((void *)va, 0, PAGE_SIZE << order);
	}
	return p;
}

static void fdb_free_shared(struct page *p, unsigned int order)
{
	unsigned long va;
	int r;

	if (!p)
		return;
	va = (unsigned long)page_address(p);
	if (fdb_mem_encrypted()) {
		r = set_memory_encrypted(va, 1 << order);
		if (r) {
			pr_err("set_memory_encrypted(order %u) failed: %d; %lu KiB leaked\n",
			       order, r, (PAGE_SIZE << order) >> 10);
			return;
		}
	}
	__free_pages(p, order);
}

static int fdb_ensure_shared_page(void)
{
	if (fdb.shared)
		return 0;
	fdb.shared = fdb_alloc_shared(0);
	return fdb.shared ? 0 : -ENOMEM;
}

static void *fdb_shared_at(unsigned int off)
{
	return (u8 *)page_address(fdb.shared) + off;
}

/* ---- fw_cfg ------------------------------------------------------------- */

static void fdb_pio_select(u16 key)
{
	outw(key, FDB_PORT_SEL);
}

static void fdb_pio_read(void *buf, size_t len)
{
	u8 *b = buf;
	size_t i;

	/* byte by byte: string I/O is not emulated for every confidential guest */
	for (i = 0; i < len; i++)
		b[i] = inb(FDB_PORT_DATA);
}

/* Signature, DMA feature bit, then the file directory entry of our file. */
static int fdb_probe_fwcfg(void)
{
	struct fw_cfg_file f;
	char sig[FW_CFG_SIG_SIZE];
	__le32 id;
	__be32 count;
	u32 i, n;

	if (fdb.probed)
		return 0;
	fdb_pio_select(FW_CFG_SIGNATURE);
	fdb_pio_read(sig, sizeof(sig));
	if (memcmp(sig, "QEMU", sizeof(sig))) {
		pr_err("no fw_cfg: signature %*ph, want \"QEMU\"\n",
		       (int)sizeof(sig), sig);
		return -ENODEV;
	}
	fdb_pio_select(FW_CFG_ID);
	fdb_pio_read(&id, sizeof(id));
	if (!(le32_to_cpu(id) & FW_CFG_VERSION_DMA)) {
		pr_err("fw_cfg has no DMA interface (ID 0x%x); writes need it\n",
		       le32_to_cpu(id));
		return -ENODEV;
	}
	fdb_pio_select(FW_CFG_FILE_DIR);
	fdb_pio_read(&count, sizeof(count));
	n = be32_to_cpu(count);
	if (n > 0x4000) {	/* selectors are 14 bits wide */
		pr_err("fw_cfg file directory claims %u entries\n", n);
		return -EPROTO;
	}
	for (i = 0; i < n; i++) {
		fdb_pio_read(&f, sizeof(f));
		if (strncmp(f.name, FDB_FILE_NAME, sizeof(f.name)))
			continue;
		if (be32_to_cpu(f.size) != sizeof(struct fdb_vlu)) {
			pr_err("%s is %u bytes, want %zu\n", FDB_FILE_NAME,
			       be32_to_cpu(f.size), sizeof(struct fdb_vlu));
			return -EPROTO;
		}
		fdb.select = be16_to_cpu(f.select);
		fdb.probed = true;
		pr_info("fw_cfg has DMA and %s at selector 0x%04x (%u files)\n",
			FDB_FILE_NAME, fdb.select, n);
		return 0;
	}
	pr_err("fw_cfg has no file %s among %u: the VMM offers no doorbell\n",
	       FDB_FILE_NAME, n);
	return -ENXIO;
}

/* One fw_cfg DMA transfer of the structure in the shared page:
 * SELECT|READ or SELECT|WRITE of the whole 56 bytes. */
static int fdb_dma_vlu(u32 op)
{
	struct fw_cfg_dma_access *d = fdb_shared_at(FDB_OFF_DESC);
	phys_addr_t dpa = page_to_phys(fdb.shared) + FDB_OFF_DESC;
	phys_addr_t vpa = page_to_phys(fdb.shared) + FDB_OFF_VLU;
	const char *what = op == FW_CFG_DMA_CTL_WRITE ? "write" : "read";
	ktime_t end;
	u32 ctl;

	d->control = cpu_to_be32(((u32)fdb.select << 16) | FW_CFG_DMA_CTL_SELECT | op);
	d->length = cpu_to_be32(sizeof(struct fdb_vlu));
	d->address = cpu_to_be64(vpa);
	mb();	/* descriptor and data visible before the doorbell port write */
	outl((__force u32)cpu_to_be32(upper_32_bits(dpa)), FDB_PORT_DMA_HI);
	outl((__force u32)cpu_to_be32(lower_32_bits(dpa)), FDB_PORT_DMA_LO);

	end = ktime_add_ms(ktime_get(), FDB_DMA_TIMEOUT_MS);
	for (;;) {
		ctl = be32_to_cpu(READ_ONCE(d->control));
		if (!(ctl & ~FW_CFG_DMA_CTL_ERROR))
			break;
		if (ktime_after(ktime_get(), end)) {
			fdb.wedged = true;
			pr_err("fw_cfg DMA %s of %s not done after %d ms (control 0x%08x); "
			       "shared memory is kept for good\n",
			       what, FDB_FILE_NAME, FDB_DMA_TIMEOUT_MS, ctl);
			return -ETIMEDOUT;
		}
		usleep_range(50, 200);
	}
	rmb();	/* data after the completed control word */
	if (ctl & FW_CFG_DMA_CTL_ERROR) {
		pr_err("fw_cfg DMA %s of %s failed: error bit set (control 0x%08x)\n",
		       what, FDB_FILE_NAME, ctl);
		return -EIO;
	}
	return 0;
}

/* Read the structure as the host shows it now (a select refreshes it). */
static int fdb_read_vlu(struct fdb_vlu *out)
{
	int r;

	if (fdb.wedged)
		return -EIO;
	r = fdb_probe_fwcfg();
	if (!r)
		r = fdb_ensure_shared_page();
	if (!r) {
		memset(fdb_shared_at(FDB_OFF_VLU), 0, sizeof(*out));
		r = fdb_dma_vlu(FW_CFG_DMA_CTL_READ);
	}
	if (!r)
		memcpy(out, fdb_shared_at(FDB_OFF_VLU), sizeof(*out));
	return r;
}

/* ---- ring ----------------------------------------------------------------- */

/* Copy the staged image into a shared block of the right order. */
static int fdb_place_image(void)
{
	unsigned int order = get_order(fdb.stage_len);

	if (fdb.image && fdb.image_order < order) {
		fdb_free_shared(fdb.image, fdb.image_order);
		fdb.image = NULL;
	}
	if (!fdb.image) {
		fdb.image = fdb_alloc_shared(order);
		if (!fdb.image)
			return -ENOMEM;
		fdb.image_order = order;
	}
	memset(page_address(fdb.image), 0, PAGE_SIZE << fdb.image_order);
	memcpy(page_address(fdb.image), fdb.stage, fdb.stage_len);
	return 0;
}

static int fdb_ring_once(u64 control)
{
	struct fdb_vlu before, *v;
	bool image = control & FDB_FORMAT_MASK;
	u64 iaddr = 0, isize = 0, oaddr, osize;
	unsigned int st;
	int r;

	fdb.last_status = -1;
	if (fdb.wedged)
		return -EIO;
	if (image && fdb.image_pinned) {
		pr_err("an accepted image is pending until the reset\n");
		return -EBUSY;
	}
	if (image && !fdb.stage_len) {
		pr_err("ring with format bits 0x%llx but no image written\n",
		       control & FDB_FORMAT_MASK);
		return -ENODATA;
	}
	r = fdb_read_vlu(&before);
	if (r)
		return r;
	pr_info("doorbell: version %u, capabilities 0x%llx, control 0x%llx, last status %u\n",
		le16_to_cpu(before.version), le64_to_cpu(before.capabilities),
		le64_to_cpu(before.control), le16_to_cpu(before.status));
	if (image && !(le64_to_cpu(before.capabilities) & control & FDB_FORMAT_MASK))
		pr_warn("host does not advertise format 0x%llx now; ringing anyway\n",
			control & FDB_FORMAT_MASK);

	if (image) {
		r = fdb_place_image();
		if (r)
			return r;
		iaddr = page_to_phys(fdb.image);
		isize = fdb.stage_len;
		memset(fdb_shared_at(FDB_OFF_MARKER), 0, FDB_MARKER_SIZE);
		strscpy(fdb_shared_at(FDB_OFF_MARKER), FDB_MARKER, FDB_MARKER_SIZE);
		oaddr = page_to_phys(fdb.shared) + FDB_OFF_MARKER;
		osize = FDB_MARKER_SIZE;
	} else {
		/* a command: keep the opaque region as the host has it */
		oaddr = le64_to_cpu(before.opaque_addr);
		osize = le64_to_cpu(before.opaque_size);
	}

	v = fdb_shared_at(FDB_OFF_VLU);
	memset(v, 0, sizeof(*v));
	v->version = cpu_to_le16(1);
	v->control = cpu_to_le64(control);
	v->fw_image_addr = cpu_to_le64(iaddr);
	v->fw_image_size = cpu_to_le64(isize);
	v->opaque_addr = cpu_to_le64(oaddr);
	v->opaque_size = cpu_to_le64(osize);
	r = fdb_dma_vlu(FW_CFG_DMA_CTL_WRITE);
	if (r)
		return r;
	/* the host may keep reading the image until the reset: pin it now,
	 * before we know the answer */
	if (image && !fdb.image_pinned) {
		fdb.image_pinned = true;
		__module_get(THIS_MODULE);
	}

	memset(v, 0, sizeof(*v));
	r = fdb_dma_vlu(FW_CFG_DMA_CTL_READ);
	if (r)
		return r;
	st = le16_to_cpu(v->status);
	fdb.last_status = st;
	if (image && st != 0) {
		/* rejected: the host dropped this image, the block may be reused
		 * (an image accepted earlier would have kept us pinned above) */
		fdb.image_pinned = false;
		module_put(THIS_MODULE);
	}
	if (st >= ARRAY_SIZE(fdb_status_errno)) {
		pr_err("ring control 0x%llx: host status %u (unknown)\n", control, st);
		return -EPROTO;
	}
	if (st) {
		pr_err("ring control 0x%llx image 0x%llx+0x%llx: host status %u %s\n",
		       control, iaddr, isize, st, fdb_status_name(st));
		return -fdb_status_errno[st];
	}
	pr_info("ring control 0x%llx image 0x%llx+0x%llx: host status 0 SUCCESS%s\n",
		control, iaddr, isize,
		image ? "; reset to boot the new firmware" : "");
	if (image) {
		vfree(fdb.stage);
		fdb.stage = NULL;
		fdb.stage_len = 0;
	}
	return 0;
}

static int fdb_ring(u64 control)
{
	int r = fdb_ring_once(control);

	fdb.last_err = fdb.last_status < 0 ? -r : 0;
	return r;
}

/* ---- sysfs ---------------------------------------------------------------- */

static ssize_t ring_store(struct device *dev, struct device_attribute *attr,
			  const char *buf, size_t count)
{
	u64 control;
	int r;

	if (sysfs_streq(buf, "raw"))
		control = FDB_FORMAT_RAW_ROM;
	else if (sysfs_streq(buf, "igvm"))
		control = FDB_FORMAT_IGVM;
	else if (kstrtou64(buf, 0, &control))
		return -EINVAL;
	mutex_lock(&fdb.lock);
	r = fdb_ring(control);
	mutex_unlock(&fdb.lock);
	return r ? r : count;
}
static DEVICE_ATTR_WO(ring);

static ssize_t status_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	int st, err;

	mutex_lock(&fdb.lock);
	st = fdb.last_status;
	err = fdb.last_err;
	mutex_unlock(&fdb.lock);
	if (st < 0 && err)
		return sysfs_emit(buf, "none: the last ring got no answer (errno %d)\n", err);
	if (st < 0)
		return sysfs_emit(buf, "none\n");
	return sysfs_emit(buf, "%d %s\n", st, fdb_status_name(st));
}
static DEVICE_ATTR_RO(status);

static ssize_t doorbell_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	struct fdb_vlu v;
	int r;

	mutex_lock(&fdb.lock);
	r = fdb_read_vlu(&v);
	mutex_unlock(&fdb.lock);
	if (r)
		return r;
	return sysfs_emit(buf,
			  "version %u\nstatus %u %s\ncapabilities 0x%llx\ncontrol 0x%llx\n"
			  "fw_image_addr 0x%llx\nfw_image_size 0x%llx\n"
			  "opaque_addr 0x%llx\nopaque_size 0x%llx\n",
			  le16_to_cpu(v.version), le16_to_cpu(v.status),
			  fdb_status_name(le16_to_cpu(v.status)),
			  le64_to_cpu(v.capabilities), le64_to_cpu(v.control),
			  le64_to_cpu(v.fw_image_addr), le64_to_cpu(v.fw_image_size),
			  le64_to_cpu(v.opaque_addr), le64_to_cpu(v.opaque_size));
}
static DEVICE_ATTR_RO(doorbell);

static ssize_t max_image_size_show(struct device *dev,
				   struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%lu\n", FDB_IMAGE_MAX);
}
static DEVICE_ATTR_RO(max_image_size);

static struct attribute *fdb_attrs[] = {
	&dev_attr_ring.attr,
	&dev_attr_status.attr,
	&dev_attr_doorbell.attr,
	&dev_attr_max_image_size.attr,
	NULL,
};
ATTRIBUTE_GROUPS(fdb);

/* ---- /dev/fuki_doorbell ---------------------------------------------------- */

static int fdb_open(struct inode *inode, struct file *file)
{
	int r = 0;

	if (!(file->f_mode & FMODE_WRITE))
		return 0;
	mutex_lock(&fdb.lock);
	if (fdb.writer)
		r = -EBUSY;
	else {
		fdb.writer = true;
		fdb.stage_len = 0;
	}
	mutex_unlock(&fdb.lock);
	return r;
}

static int fdb_release(struct inode *inode, struct file *file)
{
	if (file->f_mode & FMODE_WRITE) {
		mutex_lock(&fdb.lock);
		fdb.writer = false;
		mutex_unlock(&fdb.lock);
	}
	return 0;
}

static ssize_t fdb_write(struct file *file, const char __user *ubuf,
			 size_t len, loff_t *ppos)
{
	ssize_t r;

	if (!len)
		return 0;
	mutex_lock(&fdb.lock);
	if (len > FDB_IMAGE_MAX - fdb.stage_len) {
		pr_err("image over %lu KiB: the largest physically contiguous block (order %u)\n",
		       FDB_IMAGE_MAX >> 10, FDB_MAX_ORDER);
		r = -EFBIG;
		goto out;
	}
	if (!fdb.stage) {
		fdb.stage = vmalloc(FDB_IMAGE_MAX);
		if (!fdb.stage) {
			pr_err("no %lu KiB for the staging buffer\n", FDB_IMAGE_MAX >> 10);
			r = -ENOMEM;
			goto out;
		}
	}
	if (copy_from_user(fdb.stage + fdb.stage_len, ubuf, len)) {
		r = -EFAULT;
		goto out;
	}
	fdb.stage_len += len;
	*ppos += len;
	r = len;
out:
	mutex_unlock(&fdb.lock);
	return r;
}

static const struct file_operations fdb_fops = {
	.owner = THIS_MODULE,
	.open = fdb_open,
	.release = fdb_release,
	.write = fdb_write,
	.llseek = noop_llseek,
};

static struct miscdevice fdb_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "fuki_doorbell",
	.fops = &fdb_fops,
	.groups = fdb_groups,
	.mode = 0600,
};

static int __init fdb_init(void)
{
	int r = misc_register(&fdb_misc);

	if (r) {
		pr_err("misc_register failed: %d\n", r);
		return r;
	}
	pr_info("ready: images up to %lu KiB (order %u), memory %s\n",
		FDB_IMAGE_MAX >> 10, FDB_MAX_ORDER,
		fdb_mem_encrypted() ? "encrypted: buffers are decrypted" : "not encrypted");
	return 0;
}

static void __exit fdb_exit(void)
{
	misc_deregister(&fdb_misc);
	/* pinned while an accepted image is pending, so the host is done */
	if (fdb.wedged) {
		pr_warn("a DMA never finished: shared pages are not freed\n");
	} else {
		fdb_free_shared(fdb.image, fdb.image_order);
		fdb_free_shared(fdb.shared, 0);
	}
	vfree(fdb.stage);
}

module_init(fdb_init);
module_exit(fdb_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("fukivmm firmware-swap doorbell client (fw_cfg etc/vmlaunchupdate)");
