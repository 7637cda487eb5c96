/* tests/guest/rt.h: the freestanding runtime shared by the C test guests:
 * port I/O, serial output and a small printf, fw_cfg (PIO and DMA), debug
 * exit, the three reset methods and the RAM boot counters.
 * Owns: guest-side helpers only; no state outside .bss and glayout.h. */
#ifndef GUEST_RT_H
#define GUEST_RT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "glayout.h"

#define NORETURN __attribute__((noreturn))
#define PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Every C guest defines this; entry.S calls it in flat 32-bit mode. */
void guest_main(void);

/* ---- port I/O ---- */
static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port) : "memory");
}
static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port) : "memory");
}
static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port) : "memory");
}
static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}
static inline void cpu_pause(void)
{
	__asm__ volatile("pause" : : : "memory");
}
static inline uint32_t bswap32(uint32_t v)
{
	__asm__("bswap %0" : "+r"(v));
	return v;
}
static inline uint64_t bswap64(uint64_t v)
{
	return ((uint64_t)bswap32((uint32_t)v) << 32) | bswap32((uint32_t)(v >> 32));
}
/* MMIO / fixed RAM words */
static inline uint32_t mmio_read32(uint32_t addr)
{
	return *(volatile uint32_t *)addr;
}
static inline void mmio_write32(uint32_t addr, uint32_t v)
{
	*(volatile uint32_t *)addr = v;
}

/* ---- libc-like bits gcc may call even when freestanding ---- */
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);

/* ---- serial (16550 at 0x3f8; THR writes, no LSR polling) ---- */
#define SERIAL_PORT 0x3f8
void gputc(char c);
void gputs(const char *s);
/* %s %c %d %u %x %X %p %%, optional '0' and width, 'l' (32-bit) and 'll'
 * (64-bit) length modifiers. */
void gprintf(const char *fmt, ...) PRINTF(1, 2);
void gvprintf(const char *fmt, va_list ap);

/* ---- interrupts: an IDT of 32-bit interrupt gates at IDT_ADDR ---- */
void rt_idt_set(unsigned vec, const void *handler);
void rt_idt_load(void);      /* lidt of the 256-gate table; gates keep their values */

/* ---- exits: debug-exit port, PASS = 0x20 (status 65), FAIL = 0x21 (67) ---- */
void debug_exit(uint8_t code) NORETURN;
void guest_pass(void) NORETURN;
/* Prints "FAIL: <reason>" as one line, then exits with FAIL. */
void guest_fail(const char *fmt, ...) NORETURN PRINTF(1, 2);
void rt_main_returned(void) NORETURN;

/* ---- resets: each one FAILs if the machine is still running after a
 * bounded wait ---- */
enum reset_method { RESET_CF9 = 0, RESET_KBD = 1, RESET_TRIPLE = 2, RESET_METHODS = 3 };
const char *reset_method_name(uint32_t m);
void reset_cf9(void) NORETURN;      /* 0x06 -> port 0xCF9 */
void reset_kbd(void) NORETURN;      /* 0xFE -> port 0x64 */
void reset_triple(void) NORETURN;   /* IDT limit 0, then ud2 */
void reset_by(uint32_t method) NORETURN;
void rt_triple_fault(void) NORETURN;  /* entry.S */

/* ---- fw_cfg: QEMU docs/specs/fw_cfg.rst ---- */
#define FWCFG_PORT_SEL   0x510
#define FWCFG_PORT_DATA  0x511
#define FWCFG_PORT_DMA   0x514
#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_ID        0x01
#define FW_CFG_RAM_SIZE  0x03
#define FW_CFG_NB_CPUS   0x05
#define FW_CFG_FILE_DIR  0x19
#define FW_CFG_VERSION_DMA 0x02
#define FW_CFG_DMA_CTL_ERROR  0x01
#define FW_CFG_DMA_CTL_READ   0x02
#define FW_CFG_DMA_CTL_SKIP   0x04
#define FW_CFG_DMA_CTL_SELECT 0x08
#define FW_CFG_DMA_CTL_WRITE  0x10
#define FW_CFG_MAX_FILE_PATH  56

struct gfw_file {          /* one directory entry, converted to host order */
	uint32_t size;
	uint16_t select;
	char name[FW_CFG_MAX_FILE_PATH];
};

void gfw_select(uint16_t key);
void gfw_pio_read(void *buf, uint32_t len);        /* from the current item */
uint16_t gfw_read_u16(uint16_t key);               /* LE items, by PIO */
uint32_t gfw_read_u32(uint16_t key);
uint64_t gfw_read_u64(uint16_t key);
int gfw_has_dma(void);                             /* ID bit 1 */
/* One DMA descriptor; returns 0, -1 on the ERROR bit, -2 on timeout. */
int gfw_dma(uint32_t control, void *buf, uint32_t len);
int gfw_dma_read(uint16_t key, void *buf, uint32_t len);
int gfw_dma_write(uint16_t key, const void *buf, uint32_t len);
/* Directory: number of entries (<= max) copied to @out, or -1. */
int gfw_list_files(struct gfw_file *out, int max, uint32_t *total);
/* 0 and *key, *size filled, or -1 if absent. */
int gfw_find_file(const char *name, uint16_t *key, uint32_t *size);
/* DMA write of @len bytes at offset 0 of the named file: 0, -1 absent,
 * -2 DMA error. */
int gfw_write_file(const char *name, const void *buf, uint32_t len);

/* ---- RAM boot counters ----
 * Two copies of a 32-byte record per counter (BOOTREC_*_A and _B in
 * glayout.h), each {magic, count, ~count, method, check}.  All-zero copies
 * mean "first boot"; anything else that is not two valid, equal copies is
 * reported as lost or corrupted RAM (FAIL). */
enum bootrec_id { BOOTREC_MAIN = 0, BOOTREC_TENANT = 1 };
/* Validates, increments, stores and returns the new count (1 on first
 * boot); *prev_method receives the method stored by the previous boot. */
uint32_t bootrec_advance(enum bootrec_id id, uint32_t *prev_method);
/* Stores the method for the next boot to report. */
void bootrec_set_method(enum bootrec_id id, uint32_t method);
/* Current count without changing it: 0 when never booted, FAILs when the
 * copies are inconsistent. */
uint32_t bootrec_peek(enum bootrec_id id);

#endif
