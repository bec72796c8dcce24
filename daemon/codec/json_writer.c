/*
 * json_writer.c - JSON text straight into a buffer (see json_writer.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/json_writer.h"

void
jw_init(struct json_writer *w, char *buf, size_t cap)
{
	memset(w, 0, sizeof(*w));
	w->buf = buf;
	w->cap = buf != NULL ? cap : 0;
}

void
jw_free(struct json_writer *w)
{
	if (w->heap)
		free(w->buf);
	w->buf = NULL;
	w->len = w->cap = 0;
	w->heap = false;
}

bool
jw_failed(const struct json_writer *w)
{
	return w->failed || w->depth != 0;
}

const char *
jw_text(const struct json_writer *w, size_t *len)
{
	*len = w->len;
	return w->buf;
}

/* Grows the buffer for n more bytes; false (and failed) when out of memory. */
static bool
grow(struct json_writer *w, size_t n)
{
	size_t ncap;
	char *p;

	if (w->failed)
		return false;
	if (w->cap - w->len >= n)
		return true;
	ncap = w->cap > 0 ? w->cap : 1024;
	while (ncap - w->len < n)
		ncap *= 2;
	if (w->heap) {
		p = realloc(w->buf, ncap);
	} else {
		p = malloc(ncap);
		if (p != NULL && w->len > 0)
			memcpy(p, w->buf, w->len);
	}
	if (p == NULL) {
		w->failed = true;
		return false;
	}
	w->buf = p;
	w->cap = ncap;
	w->heap = true;
	return true;
}

/* Room for n more bytes: the common case inline, growing out of line. */
static inline bool
reserve(struct json_writer *w, size_t n)
{
	if (__builtin_expect(w->cap - w->len >= n && !w->failed, 1))
		return true;
	return grow(w, n);
}

static inline void
put(struct json_writer *w, const char *s, size_t n)
{
	if (!reserve(w, n))
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

static inline void
putc_(struct json_writer *w, char c)
{
	if (!reserve(w, 1))
		return;
	w->buf[w->len++] = c;
}

/* Before any value or key: the comma between members. */
static inline void
separate(struct json_writer *w)
{
	uint32_t bit;

	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->depth == 0)
		return;
	bit = 1u << (w->depth - 1);
	if (w->nonempty & bit)
		putc_(w, ',');
	w->nonempty |= bit;
}

static void
open_(struct json_writer *w, char c)
{
	separate(w);
	if (w->depth >= JW_MAX_DEPTH) {
		w->failed = true;
		return;
	}
	putc_(w, c);
	w->depth++;
	w->nonempty &= ~(1u << (w->depth - 1));
}

static void
close_(struct json_writer *w, char c)
{
	if (w->depth == 0 || w->after_key) {
		w->failed = true;
		return;
	}
	putc_(w, c);
	w->depth--;
}

const char *
jw_cstr(struct json_writer *w)
{
	if (jw_failed(w) || !reserve(w, 1))
		return NULL;
	w->buf[w->len] = '\0';
	return w->buf;
}

void
jw_object_begin(struct json_writer *w)
{
	open_(w, '{');
}

void
jw_object_end(struct json_writer *w)
{
	close_(w, '}');
}

void
jw_array_begin(struct json_writer *w)
{
	open_(w, '[');
}

void
jw_array_end(struct json_writer *w)
{
	close_(w, ']');
}

/* Length of the valid UTF-8 sequence at s (lead byte >= 0x80), or 0. */
static size_t
utf8_seq(const unsigned char *s, const unsigned char *end)
{
	unsigned c = s[0];
	size_t n, i;
	unsigned cp;

	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
		cp = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		cp = c & 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if ((size_t)(end - s) < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3F);
	}
	/* overlong forms, surrogates, beyond U+10FFFF: Jansson refuses them too */
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

void
jw_string_n(struct json_writer *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s, *end = p + n, *run;

	separate(w);
	putc_(w, '"');
	while (p < end) {
		/* the plain run: copied in one go */
		for (run = p; p < end && *p >= 0x20 && *p != '"' && *p != '\\' && *p < 0x80; p++)
			;
		if (p > run)
			put(w, (const char *)run, (size_t)(p - run));
		if (p >= end)
			break;
		if (*p >= 0x80) {
			size_t k = utf8_seq(p, end);

			if (k == 0) {
				w->failed = true;
				return;
			}
			put(w, (const char *)p, k);
			p += k;
			continue;
		}
		switch (*p) {
		case '"': put(w, "\\\"", 2); break;
		case '\\': put(w, "\\\\", 2); break;
		case '\b': put(w, "\\b", 2); break;
		case '\f': put(w, "\\f", 2); break;
		case '\n': put(w, "\\n", 2); break;
		case '\r': put(w, "\\r", 2); break;
		case '\t': put(w, "\\t", 2); break;
		default: {
			char u[6] = { '\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15] };

			put(w, u, sizeof(u));
		}
		}
		p++;
	}
	putc_(w, '"');
}

void
jw_string(struct json_writer *w, const char *s)
{
	if (s == NULL) {
		w->failed = true;
		return;
	}
	jw_string_n(w, s, strlen(s));
}

void
jw_key(struct json_writer *w, const char *key)
{
	if (w->after_key) {
		w->failed = true;
		return;
	}
	jw_string(w, key);
	putc_(w, ':');
	w->after_key = true;
}

/* Decimal digits of v into the end of buf[0..32); returns the first. */
static char *
utoa_rev(unsigned long long v, char *end)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return end;
}

void
jw_int(struct json_writer *w, long long v)
{
	char buf[32], *end = buf + sizeof(buf), *p;
	unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;

	p = utoa_rev(u, end);
	if (v < 0)
		*--p = '-';
	separate(w);
	put(w, p, (size_t)(end - p));
}

void
jw_bool(struct json_writer *w, bool v)
{
	separate(w);
	if (v)
		put(w, "true", 4);
	else
		put(w, "false", 5);
}

void
jw_null(struct json_writer *w)
{
	separate(w);
	put(w, "null", 4);
}

int
jw_format_fixed(double v, int decimals, char *out)
{
	static const double pow10[] = { 1, 10, 100, 1000, 10000, 100000, 1000000 };
	unsigned long long k, ip, fp, div;
	double r;
	char *p = out;
	int d, nd;

	if (!isfinite(v))
		return -1;
	if (decimals < 0)
		decimals = 0;
	if (decimals > 6)
		decimals = 6;
	r = round(v * pow10[decimals]);
	if (fabs(r) >= 1e15) {
		/* Beyond exact integers: what Jansson prints (15 digits). */
		int n = snprintf(out, 32, "%.15g", r / pow10[decimals]);

		if (strpbrk(out, ".e") == NULL && n < 30) {
			memcpy(out + n, ".0", 3);
			n += 2;
		}
		return n;
	}
	if (r < 0)
		*p++ = '-';
	k = (unsigned long long)fabs(r);
	if (k == 0)
		p = out; /* no "-0.0" */
	div = (unsigned long long)pow10[decimals];
	ip = k / div;
	fp = k % div;
	{
		char tmp[32], *end = tmp + sizeof(tmp), *s = utoa_rev(ip, end);

		memcpy(p, s, (size_t)(end - s));
		p += end - s;
	}
	*p++ = '.';
	if (fp == 0) {
		*p++ = '0';
	} else {
		/* the decimals, leading zeros kept, trailing zeros dropped */
		nd = decimals;
		while (fp % 10 == 0) {
			fp /= 10;
			nd--;
		}
		for (d = nd - 1; d >= 0; d--) {
			p[d] = (char)('0' + fp % 10);
			fp /= 10;
		}
		p += nd;
	}
	*p = '\0';
	return (int)(p - out);
}

void
jw_fixed(struct json_writer *w, double v, int decimals)
{
	char buf[40];
	int n = jw_format_fixed(v, decimals, buf);

	if (n < 0) {
		w->failed = true; /* JSON has no NaN; Jansson refuses it too */
		return;
	}
	separate(w);
	put(w, buf, (size_t)n);
}
