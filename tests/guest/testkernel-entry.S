/* tests/guest/testkernel-entry.S: boot sector, setup header (protocol 2.10) and
 * the two entry points of testkernel.bin.  The 16-bit entry at setup+0x200
 * (what qboot and SeaBIOS's linuxboot ROM jump to, CS = seg+0x20, DS = seg)
 * loads its own GDT (in the setup copy in RAM) and enters flat protected
 * mode; the 32-bit entry at code32_start (0x100000) is also reachable
 * directly under the 32-bit boot protocol (%esi = boot_params, CS 0x10,
 * DS 0x18).  Owns nothing else; the C part is testkernel.c. */
#include "glayout.h"

	.section .note.GNU-stack, "", @progbits

	.section .setup, "ax"
	.code16
	.globl	_start
_start:
	/* not bootable from a disk: a BIOS that tries just stops here */
	cli
1:	hlt
	jmp	1b

	/* boot.rst "The real-mode kernel header"; offsets from the file start */
	.org	0x1f1
setup_sects:	.byte	1            /* 1 setup sector after the boot sector */
root_flags:	.word	0
syssize:	.long	tk_syssize   /* protected-mode part, 16-byte units */
ram_size:	.word	0
vid_mode:	.word	0xffff       /* "normal" */
root_dev:	.word	0
boot_flag:	.word	0xaa55
	.org	0x200
	.byte	0xeb, start16 - 0x202    /* short jmp over the header */
	.ascii	"HdrS"
version:	.word	0x020a
realmode_swtch:	.long	0
start_sys_seg:	.word	0x1000
kernel_version:	.word	0
type_of_loader:	.byte	0
loadflags:	.byte	0x01         /* LOADED_HIGH */
setup_move_size: .word	0x8000
code32_start:	.long	0x100000
ramdisk_image:	.long	0
ramdisk_size:	.long	0
bootsect_kludge: .long	0
heap_end_ptr:	.word	0
ext_loader_ver:	.byte	0
ext_loader_type: .byte	0
cmd_line_ptr:	.long	0
initrd_addr_max: .long	0x7fffffff
kernel_alignment: .long	0x200000
relocatable_kernel: .byte 0
min_alignment:	.byte	0
xloadflags:	.word	0
cmdline_size:	.long	2047
hardware_subarch: .long	0
hardware_subarch_data: .quad 0
payload_offset:	.long	0
payload_length:	.long	0
setup_data:	.quad	0
pref_address:	.quad	0x100000
init_size:	.long	tk_init_size
handover_offset: .long	0

	/* 16-bit entry: CS = (setup >> 4) + 0x20, IP = 0 */
	.org	0x280
start16:
	cli
	cld
	movw	%cs, %ax
	subw	$0x20, %ax
	movw	%ax, %ds                 /* DS base = the setup = boot_params */
	movzwl	%ax, %ebx
	shll	$4, %ebx
	leal	gdt(%ebx), %eax
	movl	%eax, gdt_desc + 2
	lgdtl	gdt_desc
	movl	code32_start, %eax
	movl	%eax, far_ptr
	movl	%ebx, %esi               /* boot_params for the 32-bit entry */
	movl	%cr0, %eax
	orl	$1, %eax
	movl	%eax, %cr0
	ljmpl	*far_ptr

	.balign	8
gdt:
	.quad	0
	.quad	0
	.quad	0x00cf9b000000ffff       /* 0x10: flat 32-bit code (__BOOT_CS) */
	.quad	0x00cf93000000ffff       /* 0x18: flat data (__BOOT_DS) */
gdt_end:
gdt_desc:
	.word	gdt_end - gdt - 1
	.long	0                        /* filled in: linear address of gdt */
far_ptr:
	.long	0                        /* filled in: code32_start */
	.word	0x10

	/* 32-bit entry at code32_start: flat segments, %esi = boot_params */
	.section .text.startup_32, "ax"
	.code32
	.globl	startup_32
startup_32:
	cli
	cld
	movl	$0x18, %eax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %fs
	movw	%ax, %gs
	movw	%ax, %ss
	movl	$stack_top, %esp
	pushl	%esi
	call	testkernel_main
	movb	$GUEST_FAIL_CODE, %al    /* not reached: main exits */
	outb	%al, $DEBUG_EXIT_PORT
2:	hlt
	jmp	2b
