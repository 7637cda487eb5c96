/* vmm/base/err.h: the one error-message helper.  Functions that can fail
 * for reasons a user must read take (char *err, size_t errlen) and return a
 * code; err_set formats the message (when @err is not NULL) and returns the
 * code, so a failure is one line: return err_set(err, errlen, -EINVAL, ...). */
#ifndef FUKI_ERR_H
#define FUKI_ERR_H

#include <stdarg.h>
#include <stddef.h>

int err_set(char *err, size_t errlen, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int err_vset(char *err, size_t errlen, int code, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

#endif
