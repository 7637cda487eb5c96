/* tests/guest/vblk.c: vblk.rom.  A minimal virtio-blk driver over the
 * modern virtio PCI transport with one MSI-X vector: finds 1af4:1042 on
 * bus 0, assigns BAR 0, walks the capability list, initialises the device
 * (virtio 1.2, 3.1.1), then sends GET_ID, a write of sector 1, FLUSH, a
 * read of sectors 0..1 and a read past the end, one request at a time,
 * each completed by exactly one MSI-X interrupt (vector 0x50).
 * Owns: its own IDT at 0x1000 and the rings/buffers at 0x200000..0x205000.
 * PASS when every status, every buffer and the interrupt count are right. */
#include "rt.h"

/* ---- PCI configuration mechanism #1 (PCI Local Bus 3.0, 3.2.2.3.2) ---- */
#define PCI_CFG_ADDR     0xcf8
#define PCI_CFG_DATA     0xcfc
#define PCI_VENDOR_ID    0x00
#define PCI_COMMAND      0x04
#define PCI_STATUS       0x06
#define PCI_BAR0         0x10
#define PCI_CAP_PTR      0x34
#define PCI_CMD_MEMORY   0x0002
#define PCI_CMD_MASTER   0x0004
#define PCI_CMD_INTX_OFF 0x0400
#define PCI_STATUS_CAPS  0x0010
#define PCI_CAP_ID_VNDR  0x09
#define PCI_CAP_ID_MSIX  0x11
/* MSI-X capability (PCI Local Bus 3.0, 6.8.2): control at +2, table at +4,
 * PBA at +8 (BIR in bits 2:0) */
#define MSIX_CTRL_ENABLE 0x8000
#define MSIX_CTRL_MASK   0x4000
#define MSIX_VEC_MASKED  1

/* virtio 1.2, 4.1.2.1: modern-only virtio-blk (device ID 2) */
#define VBLK_VENDOR      0x1af4
#define VBLK_DEVICE      0x1042
#define BAR_ADDR         0xC0000000u   /* first address of the PCI hole with 64M RAM */

/* virtio 1.2, 4.1.4: struct virtio_pci_cap cfg_type */
#define VIRTIO_CAP_COMMON 1
#define VIRTIO_CAP_NOTIFY 2
#define VIRTIO_CAP_ISR    3
#define VIRTIO_CAP_DEVICE 4

/* virtio 1.2, 4.1.4.3: struct virtio_pci_common_cfg */
#define CC_DFSELECT   0x00
#define CC_DF         0x04
#define CC_GFSELECT   0x08
#define CC_GF         0x0c
#define CC_MSIX       0x10
#define CC_NUMQ       0x12
#define CC_STATUS     0x14
#define CC_Q_SELECT   0x16
#define CC_Q_SIZE     0x18
#define CC_Q_MSIX     0x1a
#define CC_Q_ENABLE   0x1c
#define CC_Q_NOFF     0x1e
#define CC_Q_DESC     0x20
#define CC_Q_DRIVER   0x28
#define CC_Q_DEVICE   0x30

/* virtio 1.2, 2.1: device status */
#define ST_ACKNOWLEDGE 0x01
#define ST_DRIVER      0x02
#define ST_DRIVER_OK   0x04
#define ST_FEATURES_OK 0x08
#define ST_NEEDS_RESET 0x40
#define ST_FAILED      0x80
#define NO_VECTOR      0xffff

/* virtio 1.2, 6 and 5.2.3: feature bits (bit 32 = word 1 bit 0) */
#define F1_VERSION_1   (1u << 0)
#define F0_BLK_FLUSH   (1u << 9)

/* virtio 1.2, 2.7.5: split virtqueue descriptor flags */
#define DESC_F_NEXT    1
#define DESC_F_WRITE   2

/* virtio 1.2, 5.2.6: request types and status */
#define T_IN     0
#define T_OUT    1
#define T_FLUSH  4
#define T_GET_ID 8
#define S_OK     0
#define S_IOERR  1
#define ID_BYTES 20

/* the LAPIC and the MSI message (Intel SDM vol. 3, 10.11: address
 * 0xFEE00000 | dest << 12, physical; data = vector, fixed, edge) */
#define LAPIC_ID    0x20
#define LAPIC_EOI   0xB0
#define LAPIC_SVR   0xF0
#define LAPIC_LVT0  0x350
#define LAPIC_LVT1  0x360
#define MSI_VECTOR  0x50

/* guest RAM used by the driver */
#define RING_DESC   0x00200000u
#define RING_AVAIL  0x00201000u
#define RING_USED   0x00202000u
#define REQ_HDR     0x00203000u
#define REQ_STATUS  0x00203100u
#define REQ_DATA    0x00204000u
#define QSIZE_MAX   8

#define MARKER      "fukivmm-vblk-sector0"
/* a request that has not completed after this many TSC ticks (about 4 s
 * at 2 GHz) has failed; completions go through the VMM's I/O thread */
#define WAIT_TSC    (1ull << 33)

struct vdesc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
} __attribute__((packed));

struct vused_elem {
	uint32_t id;
	uint32_t len;
};

static volatile uint32_t irq_count;

/* ---- port and MMIO helpers rt.h lacks ---- */
static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}
static inline uint16_t inw(uint16_t port)
{
	uint16_t v;

	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}
static inline uint8_t mmio_read8(uint32_t a)
{
	return *(volatile uint8_t *)a;
}
static inline uint16_t mmio_read16(uint32_t a)
{
	return *(volatile uint16_t *)a;
}
static inline void mmio_write8(uint32_t a, uint8_t v)
{
	*(volatile uint8_t *)a = v;
}
static inline void mmio_write16(uint32_t a, uint16_t v)
{
	*(volatile uint16_t *)a = v;
}
static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}
#define barrier() __asm__ volatile("" : : : "memory")

/* ---- PCI config space of 00:slot.0 ---- */
static uint32_t cfg_addr(unsigned slot, unsigned off)
{
	return 0x80000000u | (slot << 11) | (off & 0xfc);
}
static uint32_t cfg_read32(unsigned slot, unsigned off)
{
	outl(PCI_CFG_ADDR, cfg_addr(slot, off));
	return inl(PCI_CFG_DATA);
}
static uint16_t cfg_read16(unsigned slot, unsigned off)
{
	outl(PCI_CFG_ADDR, cfg_addr(slot, off));
	return inw(PCI_CFG_DATA + (off & 2));
}
static uint8_t cfg_read8(unsigned slot, unsigned off)
{
	outl(PCI_CFG_ADDR, cfg_addr(slot, off));
	return inb(PCI_CFG_DATA + (off & 3));
}
static void cfg_write32(unsigned slot, unsigned off, uint32_t v)
{
	outl(PCI_CFG_ADDR, cfg_addr(slot, off));
	outl(PCI_CFG_DATA, v);
}
static void cfg_write16(unsigned slot, unsigned off, uint16_t v)
{
	outl(PCI_CFG_ADDR, cfg_addr(slot, off));
	outw(PCI_CFG_DATA + (off & 2), v);
}

/* ---- interrupts ---- */
void vblk_irq(void);
void vblk_irq(void)
{
	irq_count++;
	mmio_write32(LAPIC_BASE + LAPIC_EOI, 0);
}

/* Any other vector (an exception, or an interrupt nobody asked for) ends
 * the test with its number instead of a triple fault and a silent reboot. */
void vblk_stray(uint32_t vec);
void vblk_stray(uint32_t vec)
{
	guest_fail("unexpected exception or interrupt, vector 0x%x", vec);
}

extern const uint8_t vblk_irq_stub[], vblk_spurious_stub[], vblk_stray_stubs[];
__asm__(".text\n"
	".globl vblk_irq_stub\n"
	"vblk_irq_stub:\n"
	"	pushal\n"
	"	cld\n"
	"	call vblk_irq\n"
	"	popal\n"
	"	iret\n"
	".globl vblk_spurious_stub\n"
	"vblk_spurious_stub:\n"
	"	iret\n"
	/* 256 stubs of 16 bytes: push the vector, go to the common path */
	"	.balign 16\n"
	".globl vblk_stray_stubs\n"
	"vblk_stray_stubs:\n"
	"	.set vblk_vec, 0\n"
	"	.rept 256\n"
	"	.balign 16\n"
	"	cli\n"
	"	pushl $vblk_vec\n"
	"	jmp vblk_stray_common\n"
	"	.set vblk_vec, vblk_vec + 1\n"
	"	.endr\n"
	"vblk_stray_common:\n"
	"	cld\n"
	"	call vblk_stray\n"
	"1:	cli\n"
	"	hlt\n"
	"	jmp 1b\n");

static void idt_load(void)
{
	for (unsigned v = 0; v < 256; v++)
		rt_idt_set(v, vblk_stray_stubs + 16 * v);
	rt_idt_set(MSI_VECTOR, vblk_irq_stub);
	rt_idt_set(0xff, vblk_spurious_stub);
	rt_idt_load();
}

/* ---- the device ---- */
struct vblk {
	unsigned slot;
	uint32_t common, notify, isr, device;   /* absolute MMIO addresses */
	uint32_t notify_mult, notify_len, device_len;
	unsigned msix_cap;
	uint32_t msix_table;
	unsigned msix_n;
	uint16_t qsize;
	uint32_t notify_addr;
	uint16_t avail_idx, used_idx;
	uint32_t requests;
};

static struct vblk dev;

static unsigned pci_find(void)
{
	for (unsigned s = 0; s < 32; s++)
		if (cfg_read32(s, PCI_VENDOR_ID) == ((uint32_t)VBLK_DEVICE << 16 | VBLK_VENDOR))
			return s;
	guest_fail("no %04x:%04x on bus 0", VBLK_VENDOR, VBLK_DEVICE);
}

/* Memory BARs are placed on demand from BAR_ADDR up, each aligned to its
 * size: fukivmm has everything in BAR 0, which lands at BAR_ADDR.  (The
 * same driver also runs on QEMU's virtio-blk-pci, whose structures sit in
 * a 64-bit BAR 4 and the MSI-X table in BAR 1.) */
static uint32_t bar_base[6], bar_size[6], bar_next = BAR_ADDR;

/* Size a memory BAR (decode off while probing) and assign it. */
static uint32_t pci_map_bar(unsigned s, unsigned bar)
{
	unsigned reg = PCI_BAR0 + 4 * bar;
	uint32_t orig, probe, size, addr;
	uint16_t cmd;
	int is64;

	if (bar > 5)
		guest_fail("capability names BAR %u", bar);
	if (bar_base[bar])
		return bar_base[bar];
	cmd = cfg_read16(s, PCI_COMMAND);
	cfg_write16(s, PCI_COMMAND, 0);
	orig = cfg_read32(s, reg);
	if (orig & 1)
		guest_fail("BAR%u is an I/O BAR (0x%x), expected memory", bar, orig);
	is64 = ((orig >> 1) & 3) == 2;
	if (is64 && bar == 5)
		guest_fail("BAR5 claims to be 64-bit");
	cfg_write32(s, reg, 0xffffffffu);
	probe = cfg_read32(s, reg);
	size = ~(probe & ~0xfu) + 1;
	if ((probe & ~0xfu) == 0 || (size & (size - 1)))
		guest_fail("BAR%u sizing read 0x%x: no valid size", bar, probe);
	if (size > 0x1000000)
		guest_fail("BAR%u size 0x%x larger than expected", bar, size);
	addr = (bar_next + size - 1) & ~(size - 1);
	bar_next = addr + size;
	cfg_write32(s, reg, addr);
	if (is64)
		cfg_write32(s, reg + 4, 0);
	if ((cfg_read32(s, reg) & ~0xfu) != addr)
		guest_fail("BAR%u reads 0x%x after writing 0x%x", bar, cfg_read32(s, reg), addr);
	cfg_write16(s, PCI_COMMAND, cmd);
	bar_base[bar] = addr;
	bar_size[bar] = size;
	gprintf("vblk: 00:%02x.0 BAR%u %s-bit memory, size 0x%x at 0x%x\n", s, bar,
		is64 ? "64" : "32", size, addr);
	return addr;
}

/* Address of [off, off+len) in @bar, or FAIL when it does not fit. */
static uint32_t pci_bar_range(unsigned s, unsigned bar, uint32_t off, uint32_t len,
			      const char *what)
{
	uint32_t base = pci_map_bar(s, bar);

	if (off >= bar_size[bar] || len > bar_size[bar] - off)
		guest_fail("%s at BAR%u +0x%x len 0x%x is outside the BAR (0x%x bytes)", what, bar,
			   off, len, bar_size[bar]);
	return base + off;
}

/* virtio 1.2, 4.1.4: the first capability of each type wins. */
static void pci_walk_caps(unsigned s)
{
	unsigned off, n = 0;
	int found_common = 0, found_notify = 0, found_isr = 0, found_dev = 0;

	if (!(cfg_read16(s, PCI_STATUS) & PCI_STATUS_CAPS))
		guest_fail("status register says no capability list");
	off = cfg_read8(s, PCI_CAP_PTR) & 0xfc;
	while (off) {
		uint8_t id = cfg_read8(s, off), type, bar;
		uint32_t o, len;

		if (++n > 48 || off < 0x40)
			guest_fail("capability list loops or points into the header (0x%x)", off);
		if (id == PCI_CAP_ID_MSIX && !dev.msix_cap) {
			uint32_t t = cfg_read32(s, off + 4);

			dev.msix_cap = off;
			dev.msix_n = (cfg_read16(s, off + 2) & 0x7ff) + 1;
			dev.msix_table = pci_bar_range(s, t & 7, t & ~7u, 16 * dev.msix_n,
						       "MSI-X table");
		} else if (id == PCI_CAP_ID_VNDR) {
			type = cfg_read8(s, off + 3);
			bar = cfg_read8(s, off + 4);
			o = cfg_read32(s, off + 8);
			len = cfg_read32(s, off + 12);
			if (type == VIRTIO_CAP_COMMON && !found_common) {
				if (len < 0x38)
					guest_fail("common config is %u bytes, want 0x38", len);
				dev.common = pci_bar_range(s, bar, o, len, "common config");
				found_common = 1;
			} else if (type == VIRTIO_CAP_NOTIFY && !found_notify) {
				dev.notify = pci_bar_range(s, bar, o, len, "notify");
				dev.notify_len = len;
				dev.notify_mult = cfg_read32(s, off + 16);
				found_notify = 1;
			} else if (type == VIRTIO_CAP_ISR && !found_isr) {
				dev.isr = pci_bar_range(s, bar, o, len, "ISR");
				found_isr = 1;
			} else if (type == VIRTIO_CAP_DEVICE && !found_dev) {
				dev.device = pci_bar_range(s, bar, o, len, "device config");
				dev.device_len = len;
				found_dev = 1;
			}
		}
		off = cfg_read8(s, off + 1) & 0xfc;
	}
	if (!found_common || !found_notify || !found_isr || !found_dev)
		guest_fail("virtio capabilities missing: common %d notify %d isr %d device %d",
			   found_common, found_notify, found_isr, found_dev);
	if (!dev.msix_cap)
		guest_fail("no MSI-X capability");
	if (dev.device_len < 8)
		guest_fail("device config is %u bytes, capacity needs 8", dev.device_len);
	cfg_write16(s, PCI_COMMAND, PCI_CMD_MEMORY | PCI_CMD_MASTER | PCI_CMD_INTX_OFF);
	gprintf("vblk: common 0x%x notify 0x%x (x%u) isr 0x%x device 0x%x; msix cap 0x%x, "
		"%u vectors, table 0x%x\n", dev.common, dev.notify, dev.notify_mult, dev.isr,
		dev.device, dev.msix_cap, dev.msix_n, dev.msix_table);
}

/* MSI-X entry 0 -> vector MSI_VECTOR on this CPU, then enable MSI-X. */
static void msix_setup(uint32_t apic_id)
{
	uint32_t e = dev.msix_table;
	uint16_t ctrl;

	mmio_write32(e + 0, 0xFEE00000u | (apic_id << 12));
	mmio_write32(e + 4, 0);
	mmio_write32(e + 8, MSI_VECTOR);
	mmio_write32(e + 12, 0);               /* unmasked */
	if (mmio_read32(e + 0) != (0xFEE00000u | (apic_id << 12)) ||
	    mmio_read32(e + 8) != MSI_VECTOR || (mmio_read32(e + 12) & MSIX_VEC_MASKED))
		guest_fail("MSI-X entry 0 reads back 0x%x/0x%x ctl 0x%x", mmio_read32(e + 0),
			   mmio_read32(e + 8), mmio_read32(e + 12));
	ctrl = cfg_read16(dev.slot, dev.msix_cap + 2);
	ctrl = (uint16_t)((ctrl | MSIX_CTRL_ENABLE) & ~MSIX_CTRL_MASK);
	cfg_write16(dev.slot, dev.msix_cap + 2, ctrl);
	ctrl = cfg_read16(dev.slot, dev.msix_cap + 2);
	if ((ctrl & (MSIX_CTRL_ENABLE | MSIX_CTRL_MASK)) != MSIX_CTRL_ENABLE)
		guest_fail("MSI-X message control 0x%x after enabling", ctrl);
}

static void set_status(uint8_t v)
{
	mmio_write8(dev.common + CC_STATUS, v);
}

static uint8_t get_status(void)
{
	return mmio_read8(dev.common + CC_STATUS);
}

/* virtio 1.2, 3.1.1 */
static void virtio_init(void)
{
	uint32_t f0, f1, want0;
	uint16_t qmax, v;
	uint8_t st;
	unsigned i;

	set_status(0);
	for (i = 0; i < 100000 && get_status() != 0; i++)
		cpu_pause();
	if (get_status() != 0)
		guest_fail("status 0x%x after reset", get_status());
	set_status(ST_ACKNOWLEDGE);
	set_status(ST_ACKNOWLEDGE | ST_DRIVER);
	mmio_write32(dev.common + CC_DFSELECT, 0);
	f0 = mmio_read32(dev.common + CC_DF);
	mmio_write32(dev.common + CC_DFSELECT, 1);
	f1 = mmio_read32(dev.common + CC_DF);
	gprintf("vblk: device features 0x%08x%08x\n", f1, f0);
	if (!(f1 & F1_VERSION_1))
		guest_fail("device does not offer VERSION_1 (features 0x%08x%08x)", f1, f0);
	/* VERSION_1, and FLUSH since this driver sends one; nothing else */
	want0 = f0 & F0_BLK_FLUSH;
	mmio_write32(dev.common + CC_GFSELECT, 0);
	mmio_write32(dev.common + CC_GF, want0);
	mmio_write32(dev.common + CC_GFSELECT, 1);
	mmio_write32(dev.common + CC_GF, F1_VERSION_1);
	set_status(ST_ACKNOWLEDGE | ST_DRIVER | ST_FEATURES_OK);
	st = get_status();
	if (!(st & ST_FEATURES_OK))
		guest_fail("FEATURES_OK did not stick (status 0x%x, accepted 0x%08x%08x)", st,
			   F1_VERSION_1, want0);
	gprintf("vblk: accepted features 0x%08x%08x\n", F1_VERSION_1, want0);

	mmio_write16(dev.common + CC_MSIX, NO_VECTOR);
	if (mmio_read16(dev.common + CC_MSIX) != NO_VECTOR)
		guest_fail("config_msix_vector reads 0x%x, wrote 0x%x",
			   mmio_read16(dev.common + CC_MSIX), NO_VECTOR);
	if (mmio_read16(dev.common + CC_NUMQ) < 1)
		guest_fail("device has no queues");
	mmio_write16(dev.common + CC_Q_SELECT, 0);
	qmax = mmio_read16(dev.common + CC_Q_SIZE);
	if (qmax == 0)
		guest_fail("queue 0 size 0 (not available)");
	if (mmio_read16(dev.common + CC_Q_ENABLE) != 0)
		guest_fail("queue 0 enabled before the driver set it up");
	dev.qsize = qmax < QSIZE_MAX ? qmax : QSIZE_MAX;
	mmio_write16(dev.common + CC_Q_SIZE, dev.qsize);
	if ((v = mmio_read16(dev.common + CC_Q_SIZE)) != dev.qsize)
		guest_fail("queue size reads %u after writing %u", v, dev.qsize);
	memset((void *)RING_DESC, 0, 0x3000);
	mmio_write32(dev.common + CC_Q_DESC, RING_DESC);
	mmio_write32(dev.common + CC_Q_DESC + 4, 0);
	mmio_write32(dev.common + CC_Q_DRIVER, RING_AVAIL);
	mmio_write32(dev.common + CC_Q_DRIVER + 4, 0);
	mmio_write32(dev.common + CC_Q_DEVICE, RING_USED);
	mmio_write32(dev.common + CC_Q_DEVICE + 4, 0);
	mmio_write16(dev.common + CC_Q_MSIX, 0);
	if ((v = mmio_read16(dev.common + CC_Q_MSIX)) != 0)
		guest_fail("queue_msix_vector reads 0x%x after writing 0", v);
	v = mmio_read16(dev.common + CC_Q_NOFF);
	if ((uint32_t)v * dev.notify_mult + 2 > dev.notify_len)
		guest_fail("queue_notify_off %u x %u is outside the notify region (%u bytes)", v,
			   dev.notify_mult, dev.notify_len);
	dev.notify_addr = dev.notify + v * dev.notify_mult;
	mmio_write16(dev.common + CC_Q_ENABLE, 1);
	if (mmio_read16(dev.common + CC_Q_ENABLE) != 1)
		guest_fail("queue_enable reads %u after writing 1",
			   mmio_read16(dev.common + CC_Q_ENABLE));
	set_status(ST_ACKNOWLEDGE | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK);
	st = get_status();
	if (st != (ST_ACKNOWLEDGE | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK))
		guest_fail("status 0x%x after DRIVER_OK", st);
	gprintf("vblk: queue 0 size %u (max %u), notify at 0x%x\n", dev.qsize, qmax,
		dev.notify_addr);
}

/* One request: header, optional data buffer, status byte; chain head 0.
 * Waits for its interrupt and its used entry; returns the status byte. */
static uint8_t vblk_request(uint32_t type, uint64_t sector, uint32_t len, int dev_writes,
			    uint32_t *used_len)
{
	volatile struct vdesc *d = (volatile struct vdesc *)RING_DESC;
	volatile uint16_t *avail = (volatile uint16_t *)RING_AVAIL;      /* flags, idx, ring[] */
	volatile uint16_t *used_idx = (volatile uint16_t *)(RING_USED + 2);
	volatile struct vused_elem *used = (volatile struct vused_elem *)(RING_USED + 4);
	volatile uint32_t *hdr = (volatile uint32_t *)REQ_HDR;
	volatile uint8_t *status = (volatile uint8_t *)REQ_STATUS;
	uint32_t want_irq = irq_count + 1, writable = 1, u_id, u_len;
	unsigned n = 0;
	uint64_t t0;

	hdr[0] = type;
	hdr[1] = 0;
	hdr[2] = (uint32_t)sector;
	hdr[3] = (uint32_t)(sector >> 32);
	*status = 0xff;
	d[n].addr = REQ_HDR;
	d[n].len = 16;
	d[n].flags = DESC_F_NEXT;
	d[n].next = (uint16_t)(n + 1);
	n++;
	if (len) {
		d[n].addr = REQ_DATA;
		d[n].len = len;
		d[n].flags = DESC_F_NEXT | (dev_writes ? DESC_F_WRITE : 0);
		d[n].next = (uint16_t)(n + 1);
		if (dev_writes)
			writable += len;
		n++;
	}
	d[n].addr = REQ_STATUS;
	d[n].len = 1;
	d[n].flags = DESC_F_WRITE;
	d[n].next = 0;
	avail[2 + dev.avail_idx % dev.qsize] = 0;          /* head descriptor 0 */
	barrier();
	dev.avail_idx++;
	avail[1] = dev.avail_idx;
	barrier();
	dev.requests++;
	mmio_write16(dev.notify_addr, 0);                    /* queue index 0 */

	/* interrupts open only inside the loop; the nops matter under QEMU TCG,
	 * which takes no interrupt in "sti; pause; cli" */
	t0 = rdtsc();
	while (irq_count < want_irq || *used_idx == dev.used_idx) {
		if (rdtsc() - t0 > WAIT_TSC)
			guest_fail("request %u (type %u): no completion: %u interrupts (want %u), "
				   "used idx %u (want %u), status 0x%x",
				   dev.requests, type, irq_count, want_irq, *used_idx,
				   (uint16_t)(dev.used_idx + 1), *status);
		__asm__ volatile("sti; nop; pause; nop; cli" : : : "memory");
	}
	if (*used_idx != (uint16_t)(dev.used_idx + 1))
		guest_fail("request %u: used idx %u, want %u", dev.requests, *used_idx,
			   (uint16_t)(dev.used_idx + 1));
	if (irq_count != want_irq)
		guest_fail("request %u: %u interrupts, want %u", dev.requests, irq_count, want_irq);
	barrier();
	u_id = used[dev.used_idx % dev.qsize].id;
	u_len = used[dev.used_idx % dev.qsize].len;
	dev.used_idx++;
	if (u_id != 0)
		guest_fail("request %u: used id %u, want head 0", dev.requests, u_id);
	if (u_len > writable)
		guest_fail("request %u: used len %u beyond the %u writable bytes", dev.requests,
			   u_len, writable);
	if (used_len)
		*used_len = u_len;
	return *status;
}

static void expect_ok(const char *what, uint8_t st)
{
	if (st != S_OK)
		guest_fail("%s: status %u, want 0 (OK)", what, st);
}

/* Sector 1's pattern: 16 lines of 32 bytes, "vblk-sector1 line NN 0123456789\n"
 * (the host test builds the same bytes with printf). */
static void make_pattern(uint8_t *p)
{
	static const char line[] = "vblk-sector1 line NN 0123456789\n";

	for (unsigned l = 0; l < 16; l++) {
		memcpy(p + 32 * l, line, 32);
		p[32 * l + 18] = (uint8_t)('0' + l / 10);
		p[32 * l + 19] = (uint8_t)('0' + l % 10);
	}
}

static uint8_t pattern[512];
static uint8_t expect0[512];

void guest_main(void)
{
	uint32_t apic_id = mmio_read32(LAPIC_BASE + LAPIC_ID) >> 24;
	uint8_t *buf = (uint8_t *)REQ_DATA;
	char id[ID_BYTES + 1];
	uint32_t ulen, cap_lo, cap_hi;
	uint64_t capacity;
	uint8_t st;

	gprintf("vblk: hello from vblk, apic id %u\n", apic_id);
	outb(0x21, 0xff);                                    /* 8259s fully masked */
	outb(0xa1, 0xff);
	mmio_write32(LAPIC_BASE + LAPIC_LVT0, 1u << 16);
	mmio_write32(LAPIC_BASE + LAPIC_LVT1, 1u << 16);
	mmio_write32(LAPIC_BASE + LAPIC_SVR, 0x1ff);         /* enabled, spurious 0xff */
	idt_load();

	dev.slot = pci_find();
	pci_walk_caps(dev.slot);
	msix_setup(apic_id);
	virtio_init();
	cap_lo = mmio_read32(dev.device);
	cap_hi = mmio_read32(dev.device + 4);
	capacity = ((uint64_t)cap_hi << 32) | cap_lo;
	gprintf("vblk: capacity %llu sectors\n", capacity);
	if (capacity < 2)
		guest_fail("capacity %llu: the test needs 2 sectors", capacity);

	/* GET_ID: 20 bytes, NUL-padded (not terminated when 20 long) */
	memset(buf, 0, ID_BYTES);
	st = vblk_request(T_GET_ID, 0, ID_BYTES, 1, &ulen);
	expect_ok("GET_ID", st);
	memcpy(id, buf, ID_BYTES);
	id[ID_BYTES] = 0;
	for (unsigned i = 0; id[i]; i++)
		if (id[i] < 0x20 || id[i] > 0x7e)
			guest_fail("GET_ID: byte %u is 0x%x, not printable", i, (uint8_t)id[i]);
	gprintf("vblk: id \"%s\"\n", id);

	/* write sector 1 */
	make_pattern(pattern);
	memcpy(buf, pattern, 512);
	st = vblk_request(T_OUT, 1, 512, 0, &ulen);
	expect_ok("write sector 1", st);
	gprintf("vblk: wrote sector 1\n");

	st = vblk_request(T_FLUSH, 0, 0, 0, &ulen);
	expect_ok("FLUSH", st);
	gprintf("vblk: flushed\n");

	/* read sectors 0..1 in one request */
	memset(buf, 0xee, 1024);
	st = vblk_request(T_IN, 0, 1024, 1, &ulen);
	expect_ok("read sectors 0-1", st);
	gprintf("vblk: read sectors 0-1, used len %u\n", ulen);
	memset(expect0, 0, sizeof(expect0));
	memcpy(expect0, MARKER, sizeof(MARKER) - 1);
	if (memcmp(buf, expect0, 512) != 0) {
		buf[sizeof(MARKER) - 1] = 0;
		guest_fail("sector 0 is not the marker \"" MARKER "\" then zeros (starts \"%s\")",
			   (const char *)buf);
	}
	if (memcmp(buf + 512, pattern, 512) != 0) {
		unsigned i = 0;

		while (buf[512 + i] == pattern[i])
			i++;
		guest_fail("sector 1 differs from the pattern written at byte %u (0x%x, want 0x%x)",
			   i, buf[512 + i], pattern[i]);
	}
	gprintf("vblk: sector 0 marker ok, sector 1 pattern ok\n");

	/* past the end: must fail with IOERR, nothing else */
	st = vblk_request(T_IN, capacity, 512, 1, &ulen);
	gprintf("vblk: read at sector %llu (past the end): status %u\n", capacity, st);
	if (st != S_IOERR)
		guest_fail("read past the end: status %u, want 1 (IOERR)", st);

	/* a late or duplicate interrupt shows up here */
	for (uint64_t t0 = rdtsc(); rdtsc() - t0 < (1ull << 26);)
		__asm__ volatile("sti; nop; pause; nop; cli" : : : "memory");
	st = get_status();
	gprintf("vblk: %u requests, %u interrupts\n", dev.requests, irq_count);
	if (irq_count != dev.requests)
		guest_fail("%u interrupts for %u requests", irq_count, dev.requests);
	if (st & (ST_NEEDS_RESET | ST_FAILED))
		guest_fail("device status 0x%x at the end", st);
	guest_pass();
}
