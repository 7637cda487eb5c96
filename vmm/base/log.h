/* vmm/base/log.h: one-line logging and start-up failure.
 * Owns: the log sink (stderr or a file) and the verbosity.  Nothing here
 * knows about VMs or devices. */
#ifndef FUKI_LOG_H
#define FUKI_LOG_H

#include <stdarg.h>
#include <stdnoreturn.h>

enum log_level { LOG_ERR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Redirect log output to an already-open FILE (default: stderr). */
struct _IO_FILE;
void log_set_file(struct _IO_FILE *f);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...)   log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/* Start-up errors only (bad config, no /dev/kvm): one line, exit status 2.
 * Never called on anything a guest controls. */
noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
