/* tests/guest/flash.c: flash.rom.  The variable store of [firmware] vars
 * (devices/pflash.c) as OVMF's flash driver uses it: the store lies right
 * below this image and is FLASH_VARS_SIZE (64 KiB) long.  Detection as
 * OVMF's QemuFlashDetected does it (0x50, read, 0x70, read: a flash reads
 * the cleared status 0); the CFI query ("QRY"); then a boot record in the
 * second sector: read, erase (0x20 0xD0), program byte by byte (0x10),
 * read back.  The record counts the boots of this store, so a second run
 * on the same file prints "boot 2".  PASS when every step gave what a
 * flash gives; "flash: no flash store" and FAIL when the region reads as
 * ROM (no vars configured). */
#include "rt.h"

#define FLASH_VARS_SIZE 0x10000u
#define REC_OFF         0x1000u
#define SECTOR          0x1000u

extern const char ROM_BASE[];

struct boot_rec {
	char magic[8];
	uint32_t boots;
	uint32_t check;     /* ~boots */
};

static volatile uint8_t *flash;

static void cmd(uint32_t off, uint8_t v)
{
	flash[off] = v;
}

void guest_main(void)
{
	struct boot_rec rec;
	const uint8_t *p = (const uint8_t *)&rec;
	uint8_t orig, probe;
	uint32_t boots = 0;

	flash = (volatile uint8_t *)((uint32_t)ROM_BASE - FLASH_VARS_SIZE);
	gprintf("flash: hello, store at 0x%x\n", (uint32_t)flash);

	orig = flash[0];
	cmd(0, 0x50);
	probe = flash[0];
	if (orig != 0x50 && probe == 0x50)
		guest_fail("flash: the store behaves as RAM\n");
	cmd(0, 0x70);
	probe = flash[0];
	if (probe != 0x00) {
		gprintf("flash: no flash store (status read 0x%x: behaves as ROM)\n", probe);
		guest_fail("flash: not detected\n");
	}
	cmd(0, 0xff);
	if (flash[0] != orig)
		guest_fail("flash: read-array mode shows 0x%x, not 0x%x\n", flash[0], orig);
	gprintf("flash: detected as FLASH\n");

	cmd(0x55, 0x98);
	if (flash[0x10] != 'Q' || flash[0x11] != 'R' || flash[0x12] != 'Y')
		guest_fail("flash: no QRY in the CFI query\n");
	gprintf("flash: CFI query QRY, command set %u, 2^%u bytes, %u blocks of %u\n",
		flash[0x13], flash[0x27], (flash[0x2d] | flash[0x2e] << 8) + 1,
		(flash[0x2f] | flash[0x30] << 8) * 256);
	cmd(0, 0xff);

	for (unsigned i = 0; i < sizeof(rec); i++)
		((uint8_t *)&rec)[i] = flash[REC_OFF + i];
	if (!memcmp(rec.magic, "FUKIFLSH", 8) && rec.check == ~rec.boots)
		boots = rec.boots;
	memcpy(rec.magic, "FUKIFLSH", 8);
	rec.boots = boots + 1;
	rec.check = ~rec.boots;

	cmd(REC_OFF, 0x20);
	cmd(REC_OFF, 0xd0);
	if (!(flash[REC_OFF] & 0x80))
		guest_fail("flash: status 0x%x after the erase\n", flash[REC_OFF]);
	cmd(0, 0xff);
	for (unsigned i = 0; i < SECTOR; i += 64)
		if (flash[REC_OFF + i] != 0xff)
			guest_fail("flash: byte %u of the erased sector is 0x%x\n", i,
				   flash[REC_OFF + i]);
	for (unsigned i = 0; i < sizeof(rec); i++) {
		cmd(REC_OFF + i, 0x10);
		cmd(REC_OFF + i, p[i]);
	}
	cmd(0, 0xff);
	for (unsigned i = 0; i < sizeof(rec); i++)
		if (flash[REC_OFF + i] != p[i])
			guest_fail("flash: record byte %u reads 0x%x, not 0x%x\n", i,
				   flash[REC_OFF + i], p[i]);
	gprintf("flash: boot %u of this store\n", rec.boots);
	guest_pass();
}
