/* tests/guest/irq.c: irq.rom.  Interrupt delivery through the IOAPIC to
 * the LAPIC, the same with the in-kernel IOAPIC and with fukivmm's own
 * (split irqchip): the 16550's THRE interrupt on pin 4, in loopback so the
 * test bytes never reach the console.
 *   edge:   one interrupt per rising edge, N edges -> N interrupts;
 *   level:  the handler re-asserts the line before its EOI, so each EOI
 *           must re-deliver (Remote IRR) until the handler stops;
 *   masked: an asserted level pin delivers nothing while masked and
 *           exactly once when unmasked.
 * PASS when every count is exact. */
#include "rt.h"

#define IOAPIC_BASE    0xFEC00000u
#define IOREGSEL       0x00
#define IOWIN          0x10
#define IOAPIC_VER     0x01
#define RTE_LO(pin)    (0x10 + 2 * (pin))
#define RTE_HI(pin)    (0x11 + 2 * (pin))
#define RTE_MASKED     (1u << 16)
#define RTE_LEVEL      (1u << 15)
#define RTE_REMOTE_IRR (1u << 14)

#define LAPIC_ID       0x20
#define LAPIC_EOI      0xB0
#define LAPIC_SVR      0xF0
#define LAPIC_LVT0     0x350
#define LAPIC_LVT1     0x360

#define COM1           0x3f8
#define UART_IER       1
#define UART_IIR       2
#define UART_MCR       4
#define IER_THRI       0x02
#define MCR_LOOP       0x10

#define SERIAL_PIN     4
#define IRQ_VECTOR     0x40
#define ROUNDS         16
#define SPIN_LIMIT     400000u

static volatile uint32_t irq_count;
static volatile uint32_t irq_rearm;     /* level phase: re-assert until this many */

/* The handler: acknowledge the UART (reading IIR drops THRE and the line),
 * optionally re-assert it with a loopback byte, then EOI the LAPIC. */
void irq_handler(void);
void irq_handler(void)
{
	(void)inb(COM1 + UART_IIR);
	irq_count++;
	if (irq_count < irq_rearm)
		outb(COM1, 0x55);               /* THR empties at once: line up again */
	mmio_write32(LAPIC_BASE + LAPIC_EOI, 0);
}

extern const uint8_t irq_stub[], spurious_stub[];
__asm__(".text\n"
	".globl irq_stub\n"
	"irq_stub:\n"
	"	pushal\n"
	"	cld\n"
	"	call irq_handler\n"
	"	popal\n"
	"	iret\n"
	".globl spurious_stub\n"
	"spurious_stub:\n"
	"	iret\n");

static void idt_load(void)
{
	memset((void *)IDT_ADDR, 0, 256 * 8);
	rt_idt_set(IRQ_VECTOR, irq_stub);
	rt_idt_set(0xff, spurious_stub);
	rt_idt_load();
}

static uint32_t ioapic_read(uint32_t reg)
{
	mmio_write32(IOAPIC_BASE + IOREGSEL, reg);
	return mmio_read32(IOAPIC_BASE + IOWIN);
}

static void ioapic_write(uint32_t reg, uint32_t v)
{
	mmio_write32(IOAPIC_BASE + IOREGSEL, reg);
	mmio_write32(IOAPIC_BASE + IOWIN, v);
}

/* Spin with interrupts enabled until irq_count reaches @want (or the bound). */
static uint32_t wait_count(uint32_t want)
{
	for (uint32_t i = 0; i < SPIN_LIMIT && irq_count < want; i++)
		__asm__ volatile("sti; nop; pause; nop; cli" : : : "memory");
	return irq_count;
}

/* A short window with interrupts enabled, for "nothing arrives" checks. */
static void settle(void)
{
	for (uint32_t i = 0; i < 20000; i++)
		__asm__ volatile("sti; nop; pause; nop; cli" : : : "memory");
}

/* Interrupts off at the UART, line low, loopback off (so prints show). */
static void uart_quiet(void)
{
	outb(COM1 + UART_IER, 0);
	(void)inb(COM1 + UART_IIR);
	outb(COM1 + UART_MCR, 0);
}

#define FAIL(...) do { uart_quiet(); guest_fail(__VA_ARGS__); } while (0)

void guest_main(void)
{
	uint32_t apic_id = mmio_read32(LAPIC_BASE + LAPIC_ID) >> 24;
	uint32_t ver = ioapic_read(IOAPIC_VER);
	uint32_t n;

	gprintf("irq: ioapic version 0x%x, %u pins\n", ver & 0xff, ((ver >> 16) & 0xff) + 1);
	/* the in-kernel 8259 (when there is one) must not deliver pin 4 as ExtINT */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	mmio_write32(LAPIC_BASE + LAPIC_LVT0, 1u << 16);
	mmio_write32(LAPIC_BASE + LAPIC_LVT1, 1u << 16);
	mmio_write32(LAPIC_BASE + LAPIC_SVR, 0x1ff);
	idt_load();
	uart_quiet();

	/* edge: IER makes THRE pend (one edge), then one loopback byte per round */
	ioapic_write(RTE_HI(SERIAL_PIN), apic_id << 24);
	ioapic_write(RTE_LO(SERIAL_PIN), IRQ_VECTOR);
	irq_count = 0;
	irq_rearm = 0;
	outb(COM1 + UART_MCR, MCR_LOOP);
	outb(COM1 + UART_IER, IER_THRI);
	for (uint32_t k = 1; k <= ROUNDS; k++) {
		if (wait_count(k) != k)
			FAIL("edge: interrupt %u never came (count %u)", k, irq_count);
		if (k < ROUNDS)
			outb(COM1, 0xaa);
	}
	settle();
	n = irq_count;
	uart_quiet();
	gprintf("irq: edge %u/%u\n", n, ROUNDS);
	if (n != ROUNDS)
		FAIL("edge: %u interrupts for %u edges", n, ROUNDS);

	/* level: the handler re-asserts before EOI; each EOI must re-deliver */
	ioapic_write(RTE_LO(SERIAL_PIN), RTE_MASKED | RTE_LEVEL | IRQ_VECTOR);
	ioapic_write(RTE_LO(SERIAL_PIN), RTE_LEVEL | IRQ_VECTOR);
	irq_count = 0;
	irq_rearm = ROUNDS;
	outb(COM1 + UART_MCR, MCR_LOOP);
	outb(COM1 + UART_IER, IER_THRI);
	wait_count(ROUNDS);
	settle();
	n = irq_count;
	uart_quiet();
	gprintf("irq: level %u/%u\n", n, ROUNDS);
	if (n != ROUNDS)
		FAIL("level: %u interrupts, want %u (re-delivery on EOI)", n, ROUNDS);
	if (ioapic_read(RTE_LO(SERIAL_PIN)) & RTE_REMOTE_IRR)
		FAIL("level: Remote IRR still set after the last EOI");

	/* masked: assert while masked, nothing; unmask, exactly one */
	ioapic_write(RTE_LO(SERIAL_PIN), RTE_MASKED | RTE_LEVEL | IRQ_VECTOR);
	irq_count = 0;
	irq_rearm = 0;
	outb(COM1 + UART_MCR, MCR_LOOP);
	outb(COM1 + UART_IER, IER_THRI);
	settle();
	if (irq_count)
		FAIL("masked: %u interrupts from a masked pin", irq_count);
	ioapic_write(RTE_LO(SERIAL_PIN), RTE_LEVEL | IRQ_VECTOR);
	wait_count(1);
	settle();
	n = irq_count;
	uart_quiet();
	gprintf("irq: unmask %u/1\n", n);
	if (n != 1)
		FAIL("unmask: %u interrupts, want 1", n);
	ioapic_write(RTE_LO(SERIAL_PIN), RTE_MASKED);
	guest_pass();
}
