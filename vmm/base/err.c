/* vmm/base/err.c: see err.h. */
#include <stdio.h>

#include "vmm/base/err.h"

int err_vset(char *err, size_t errlen, int code, const char *fmt, va_list ap)
{
	if (err && errlen)
		vsnprintf(err, errlen, fmt, ap);
	return code;
}

int err_set(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	code = err_vset(err, errlen, code, fmt, ap);
	va_end(ap);
	return code;
}
