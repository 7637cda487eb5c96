/* vmm/vm/console.c: the host terminal as the serial console (see console.h). */
#include "vmm/vm/console.h"

#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "vmm/base/log.h"

static bool console_watch(struct console *c)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c->tag };

	return epoll_ctl(c->epfd, EPOLL_CTL_ADD, STDIN_FILENO, &ev) == 0;
}

void console_open(struct console *c, bool want, int epfd, void *tag)
{
	memset(c, 0, sizeof(*c));
	c->epfd = epfd;
	c->tag = tag;
	c->enabled = want;
	if (!want)
		return;
	if (tcgetattr(STDIN_FILENO, &c->saved) == 0) {
		struct termios raw = c->saved;

		cfmakeraw(&raw);
		raw.c_oflag |= OPOST | ONLCR;
		if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0)
			c->raw = true;
	}
	if (!console_watch(c))
		c->enabled = false;
	c->watching = c->enabled;
}

int console_timeout_ms(const struct console *c)
{
	return c->npend ? 2 : -1;
}

/* Hand pending input to the UART as far as its FIFO takes it. */
static void console_flush(struct console *c, struct serial *s)
{
	size_t n = c->npend ? serial_push_input(s, c->pend, c->npend) : 0;

	if (n) {
		memmove(c->pend, c->pend + n, c->npend - n);
		c->npend -= n;
	}
}

void console_tick(struct console *c, struct serial *s)
{
	if (!c->npend)
		return;
	console_flush(c, s);
	if (c->watching && c->npend == sizeof(c->pend)) {
		epoll_ctl(c->epfd, EPOLL_CTL_DEL, STDIN_FILENO, NULL);
		c->watching = false;
	} else if (!c->watching && c->enabled && c->npend < sizeof(c->pend)) {
		c->watching = console_watch(c);
	}
}

enum console_input console_input(struct console *c, struct serial *s)
{
	uint8_t buf[256];
	size_t room = sizeof(c->pend) - c->npend;
	ssize_t got = read(STDIN_FILENO, buf, room < sizeof(buf) ? room : sizeof(buf));

	if (got <= 0) {
		epoll_ctl(c->epfd, EPOLL_CTL_DEL, STDIN_FILENO, NULL);
		c->watching = c->enabled = false;
		return CONSOLE_EOF;
	}
	for (ssize_t i = 0; i < got; i++) {
		if (c->escape) {
			c->escape = false;
			if (buf[i] == 'x' || buf[i] == 'X') {
				log_info("Ctrl-A x: stopping the VM");
				return CONSOLE_QUIT;
			}
			if (buf[i] != 0x01)
				continue;
		} else if (buf[i] == 0x01) {
			c->escape = true;
			continue;
		}
		c->pend[c->npend++] = buf[i];
	}
	console_flush(c, s);
	return CONSOLE_MORE;
}

void console_close(struct console *c)
{
	if (c->raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &c->saved);
	c->raw = false;
}
