/* tests/guest/igvm-payloads.S: the IGVM images of igvm-hostile.rom
 * (written by mkigvm into build/guest/igvm, found through the assembler's
 * include path, without their trailing zero bytes), one symbol pair
 * igvm_NAME_start/igvm_NAME_end each.  Owns nothing else. */
	.section .note.GNU-stack, "", @progbits
	.section .payload, "a"
#define IGVM_FILE(sym, file) \
	.balign 16; .globl sym##_start, sym##_end; sym##_start: .incbin file; sym##_end:
IGVM_FILE(igvm_huge_above, "huge-above.igvm")
IGVM_FILE(igvm_huge_below, "huge-below.igvm")
IGVM_FILE(igvm_reuse, "reuse.igvm")
IGVM_FILE(igvm_params, "params.igvm")
IGVM_FILE(igvm_across, "across.igvm")
IGVM_FILE(igvm_toomany, "toomany.igvm")
IGVM_FILE(igvm_overlap, "overlap.igvm")
IGVM_FILE(igvm_boot, "boot.igvm")
