/* vmm/base/log.h: one-line logging and start-up failure.
 * Owns: the log sink (stderr or a file) and the verbosity.  Nothing here
 * knows about VMs or devices. */
#ifndef FUKI_LOG_H
#define FUKI_LOG_H

#include <stdarg.h>
#include <stdnoreturn.h>

#include "vmm/base/ratelimit.h"

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

/* Rate-limited logging, for every line a guest can trigger (device
 * warnings, unhandled accesses): @rl is the message source's bucket,
 * @site names it in the "N messages suppressed" line that precedes the
 * first message let through after a suppression.  Lines above the current
 * level cost no token. */
void log_msg_rl(enum log_level level, struct ratelimit *rl, const char *site,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define LOG_STR_(x) #x
#define LOG_STR(x) LOG_STR_(x)
#define LOG_SITE __FILE__ ":" LOG_STR(__LINE__)

/* With an explicit bucket (one source shared by several call sites). */
#define log_rl(level, rl, ...) log_msg_rl((level), (rl), LOG_SITE, __VA_ARGS__)

/* With a bucket of its own per call site: RATELIMIT_BURST lines back to
 * back, then RATELIMIT_RATE a second. */
#define log_site_rl_(level, ...)                                                  \
	do {                                                                      \
		static struct ratelimit log_site_rl_bucket_ =                     \
			RATELIMIT_INIT(RATELIMIT_BURST, RATELIMIT_RATE);          \
		log_msg_rl((level), &log_site_rl_bucket_, LOG_SITE, __VA_ARGS__); \
	} while (0)
#define log_warn_rl(...)  log_site_rl_(LOG_WARN, __VA_ARGS__)
#define log_info_rl(...)  log_site_rl_(LOG_INFO, __VA_ARGS__)
#define log_debug_rl(...) log_site_rl_(LOG_DEBUG, __VA_ARGS__)

/* Start-up errors only (bad config, no /dev/kvm): one line, exit status 2.
 * Never called on anything a guest controls. */
noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
