/* tests/fuzz/fuzz_bzimage.c: libFuzzer target for loader/bzimage.c: the
 * parser and QEMU's header patching on arbitrary bytes; the first byte
 * picks the patch inputs. */
#include <stdlib.h>
#include <string.h>

#include "loader/bzimage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bzimage_info bi;
	struct bzimage_qemu_out o;
	struct bzimage_qemu_in in;
	char err[128];
	uint8_t *copy;
	uint8_t sel = size ? data[0] : 0;

	bzimage_parse(data, size, &bi, err, sizeof(err));
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	memset(&in, 0, sizeof(in));
	in.cmdline = (sel & 1) ? "console=ttyS0 vga=ask" : ((sel & 2) ? "vga=0x" : NULL);
	in.has_initrd = sel & 4;
	in.initrd_size = (sel & 8) ? 0xfffffffffULL : 4096;
	in.below_4g = (sel & 16) ? 0x10000 : 0x80000000;
	in.acpi_data_size = BZ_QEMU_ACPI_DATA_SIZE;
	bzimage_qemu_patch(copy, size, &in, &o, err, sizeof(err));
	free(copy);
	return 0;
}
