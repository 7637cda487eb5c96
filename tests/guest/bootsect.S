/* tests/guest/bootsect.S: a 512-byte MBR boot sector for the firmware boot
 * tests.  A BIOS loads it at 0:7C00 in real mode; it prints a marker on
 * COM1 by polling the UART (no BIOS calls) and exits through the ISA debug
 * exit port 0xF4 with 0x20, i.e. fukivmm status 65 (GUEST_PASS).
 * BOOTSECT_REBOOT (bootsect-reboot.img): on the first boot it leaves a mark
 * in CMOS byte 0x6E (CMOS RAM survives a reset; BIOSes leave that byte
 * alone) and resets by 0xCF9, so the firmware must boot a second time from
 * a reset machine; the second boot clears the mark and exits.
 * Owns nothing else; built by guest.mk into build/guest/bootsect*.img. */
#define COM1_DATA 0x3f8
#define COM1_LSR  0x3fd
#define LSR_THRE  0x20          /* 16550 line status: transmit holding empty */
#define EXIT_PORT 0xf4
#define EXIT_PASS 0x20
#define RST_CNT   0xcf9         /* PIIX reset control: 0x06 = hard reset */
#define CMOS_IDX  0x70
#define CMOS_DATA 0x71
#define MARK_REG  0x6e          /* a CMOS byte no PC BIOS or QEMU assigns */
#define MARK      0xb5

	.code16
	.text
	.globl _start
_start:
	cli
	cld
	xorw	%ax, %ax
	movw	%ax, %ds
	movw	%ax, %ss
	movw	$0x7c00, %sp
#ifdef BOOTSECT_REBOOT
	movb	$MARK_REG, %al
	outb	%al, $CMOS_IDX
	inb	$CMOS_DATA, %al
	cmpb	$MARK, %al
	je	second
	movb	$MARK, %al
	outb	%al, $CMOS_DATA
	movw	$msg_reboot, %si
	call	puts
	movb	$0x06, %al
	movw	$RST_CNT, %dx
	outb	%al, %dx
	jmp	halt
second:
	movb	$MARK_REG, %al
	outb	%al, $CMOS_IDX
	movb	$0, %al
	outb	%al, $CMOS_DATA
	movw	$msg_second, %si
	call	puts
#endif
	movw	$msg, %si
	call	puts
	movb	$EXIT_PASS, %al
	outb	%al, $EXIT_PORT
halt:
	hlt
	jmp	halt

/* print the NUL-terminated string at %ds:%si on COM1 */
puts:
	lodsb
	testb	%al, %al
	jz	1f
	movb	%al, %bl
	movw	$COM1_LSR, %dx
2:
	inb	%dx, %al
	testb	$LSR_THRE, %al
	jz	2b
	movw	$COM1_DATA, %dx
	movb	%bl, %al
	outb	%al, %dx
	jmp	puts
1:
	ret

msg:
	.asciz	"bootsect: hello from the disk\r\n"
#ifdef BOOTSECT_REBOOT
msg_reboot:
	.asciz	"bootsect: first boot, resetting\r\n"
msg_second:
	.asciz	"bootsect: second boot after the reset\r\n"
#endif

	.org	510
	.byte	0x55, 0xaa
