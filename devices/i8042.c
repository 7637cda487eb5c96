/* devices/i8042.c: minimal Intel 8042 keyboard controller (command set as in
 * the IBM PC/AT technical reference; reset/A20 behaviour as in QEMU
 * hw/input/pckbd.c).
 * Owns: the controller registers.  Must not emulate a keyboard or touch
 * KVM; machine reset is only requested through the vm_req_sink. */
#include "devices/i8042.h"

#include <stdlib.h>
#include <string.h>

#include "vmm/base/bus.h"
#include "vmm/base/irq.h"
#include "vmm/base/log.h"

/* Status register bits. */
#define STAT_OBF      0x01   /* output buffer full */
#define STAT_IBF      0x02   /* input buffer full (never: we act at once) */
#define STAT_SYS      0x04   /* system flag */
#define STAT_CMD      0x08   /* last write went to the command port */
#define STAT_UNLOCKED 0x10   /* keyboard not inhibited */

/* Command byte bits. */
#define CB_SYS        0x04
#define CB_KBD_DIS    0x10

/* Output port bits. */
#define OUT_RESET     0x01   /* 0 = assert CPU reset */
#define OUT_A20       0x02

/* Controller commands (port 0x64). */
#define CMD_READ_CB   0x20
#define CMD_WRITE_CB  0x60
#define CMD_SELF_TEST 0xaa
#define CMD_KBD_TEST  0xab
#define CMD_KBD_DIS   0xad
#define CMD_KBD_EN    0xae
#define CMD_READ_OUT  0xd0
#define CMD_WRITE_OUT 0xd1
#define CMD_A20_OFF   0xdd
#define CMD_A20_ON    0xdf
#define CMD_PULSE     0xf0   /* 0xf0..0xff: pulse output bits 3..0 low */

struct i8042 {
	struct vm_req_sink *sink;
	uint8_t status;
	uint8_t cb;          /* command byte */
	uint8_t outport;
	uint8_t obuf;
	uint8_t pending;     /* command awaiting a data byte, or 0 */
};

static void kbc_queue(struct i8042 *k, uint8_t v)
{
	k->obuf = v;
	k->status |= STAT_OBF;
}

static void kbc_write_outport(struct i8042 *k, uint8_t v)
{
	k->outport = v;
	if (!(v & OUT_RESET)) {
		log_debug_rl("i8042: reset requested via output port 0x%02x", v);
		vm_request(k->sink, VM_REQ_RESET, 0);
	}
}

static void kbc_set_cb(struct i8042 *k, uint8_t v)
{
	k->cb = v;
	k->status = (uint8_t)((k->status & ~STAT_SYS) | (v & CB_SYS ? STAT_SYS : 0));
}

static void kbc_command(struct i8042 *k, uint8_t cmd)
{
	k->status |= STAT_CMD;
	k->pending = 0;
	if (cmd >= CMD_PULSE) {
		/* Bit 0 low in the pulse mask pulses the reset line. */
		if (!(cmd & 1)) {
			log_debug_rl("i8042: reset requested (command 0x%02x)", cmd);
			vm_request(k->sink, VM_REQ_RESET, 0);
		}
		return;
	}
	switch (cmd) {
	case CMD_READ_CB:
		kbc_queue(k, k->cb);
		break;
	case CMD_WRITE_CB:
	case CMD_WRITE_OUT:
		k->pending = cmd;
		break;
	case CMD_SELF_TEST:
		kbc_set_cb(k, k->cb | CB_SYS);
		kbc_queue(k, 0x55);
		break;
	case CMD_KBD_TEST:
		kbc_queue(k, 0x00);
		break;
	case CMD_KBD_DIS:
		k->cb |= CB_KBD_DIS;
		break;
	case CMD_KBD_EN:
		k->cb &= (uint8_t)~CB_KBD_DIS;
		break;
	case CMD_READ_OUT:
		kbc_queue(k, k->outport);
		break;
	case CMD_A20_OFF:
		k->outport &= (uint8_t)~OUT_A20;
		break;
	case CMD_A20_ON:
		k->outport |= OUT_A20;
		break;
	default:
		log_debug_rl("i8042: ignored command 0x%02x", cmd);
		break;
	}
}

static void kbc_data(struct i8042 *k, uint8_t v)
{
	uint8_t cmd = k->pending;

	k->status &= (uint8_t)~STAT_CMD;
	k->pending = 0;
	switch (cmd) {
	case CMD_WRITE_CB:
		kbc_set_cb(k, v);
		break;
	case CMD_WRITE_OUT:
		kbc_write_outport(k, v);
		break;
	default:
		/* A byte for the keyboard: there is none, drop it. */
		break;
	}
}

static void i8042_data_io(void *opaque, uint64_t offset, uint8_t *data,
			  unsigned len, bool is_write)
{
	struct i8042 *k = opaque;

	if (is_write) {
		kbc_data(k, data[0]);
		return;
	}
	memset(data, 0, len);
	data[0] = k->obuf;
	k->status &= (uint8_t)~STAT_OBF;
}

static void i8042_cmd_io(void *opaque, uint64_t offset, uint8_t *data,
			 unsigned len, bool is_write)
{
	struct i8042 *k = opaque;

	if (is_write) {
		kbc_command(k, data[0]);
		return;
	}
	memset(data, 0, len);
	data[0] = k->status;
}

struct i8042 *i8042_create(struct vm_req_sink *sink)
{
	struct i8042 *k = calloc(1, sizeof(*k));

	if (!k) {
		log_err("i8042: out of memory");
		return NULL;
	}
	k->sink = sink;
	i8042_reset(k);
	return k;
}

int i8042_attach(struct i8042 *k, struct bus *pio)
{
	int ret = bus_register(pio, I8042_DATA_PORT, 1, i8042_data_io, k, "i8042-data");

	if (ret)
		return ret;
	return bus_register(pio, I8042_CMD_PORT, 1, i8042_cmd_io, k, "i8042-cmd");
}

void i8042_reset(struct i8042 *k)
{
	/* Firmware has run its self-test: system flag set, translation and
	 * keyboard interrupt enabled in the command byte. */
	k->status = STAT_UNLOCKED;
	kbc_set_cb(k, 0x45);
	k->outport = 0xcf;   /* reset high, A20 on, unused bits high (QEMU) */
	k->obuf = 0;
	k->pending = 0;
}

void i8042_destroy(struct i8042 *k)
{
	free(k);
}

bool i8042_a20(const struct i8042 *k)
{
	return k->outport & OUT_A20;
}
