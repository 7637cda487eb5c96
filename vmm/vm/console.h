/* vmm/vm/console.h: the host terminal as the guest's serial console.
 * Owns: raw mode on stdin (restored at close), the Ctrl-A escape (Ctrl-A x
 * stops the VM, Ctrl-A Ctrl-A sends one Ctrl-A), host input the UART's FIFO
 * has not taken yet, and whether stdin is in the main loop's epoll set (not
 * while that buffer is full). */
#ifndef FUKI_CONSOLE_H
#define FUKI_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <termios.h>

#include "devices/serial.h"

struct console {
	bool raw;
	struct termios saved;
	bool escape;            /* saw Ctrl-A */
	uint8_t pend[4096];     /* host input the UART's FIFO has not taken yet */
	size_t npend;
	bool enabled;           /* stdin is read */
	bool watching;          /* stdin is in the epoll set */
	int epfd;
	void *tag;              /* epoll data.ptr of stdin */
};

enum console_input {
	CONSOLE_MORE,           /* read, keep watching */
	CONSOLE_EOF,            /* end of input or error: stdin is dropped */
	CONSOLE_QUIT,           /* Ctrl-A x */
};

/* With @want (serial output and stdin is a terminal), set raw mode and
 * watch stdin in @epfd with data.ptr @tag. */
void console_open(struct console *c, bool want, int epfd, void *tag);
/* The epoll timeout: poll for room in the UART FIFO while input waits. */
int console_timeout_ms(const struct console *c);
/* After every epoll_wait: hand pending input to @s and stop or resume
 * watching stdin as the buffer fills or drains. */
void console_tick(struct console *c, struct serial *s);
/* stdin is readable. */
enum console_input console_input(struct console *c, struct serial *s);
/* Restore the terminal. */
void console_close(struct console *c);

#endif
