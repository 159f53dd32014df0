/* Guest scripts: tokens, numbers, PCI addresses and data operands. */
#include <string.h>

#include "guest_script_impl.h"

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Index just past the closing quote of the string starting at line[i], or 0. */
static size_t string_end(const char *line, size_t len, size_t i)
{
    for (i++; i < len; i++) {
        if (line[i] == '\\')
            i++;
        else if (line[i] == '"')
            return i + 1;
    }
    return 0;
}

int gs_split(const char *line, size_t len, struct gs_token *tok,
             struct gs_token *comment, const char **why)
{
    int n = 0;
    size_t i = 0;

    comment->p = NULL;
    comment->len = 0;
    for (;;) {
        while (i < len && is_space(line[i]))
            i++;
        if (i < len && line[i] == '#') {
            comment->p = line + i + 1;
            comment->len = len - i - 1;
        }
        if (i == len || line[i] == '#')
            return n;
        if (n == GS_MAX_TOKENS) {
            *why = "too many operands";
            return -1;
        }
        size_t start = i;
        if (line[i] == '"') {
            i = string_end(line, len, i);
            if (!i) {
                *why = "unterminated string";
                return -1;
            }
            if (i < len && !is_space(line[i]) && line[i] != '#') {
                *why = "text right after a closing quote";
                return -1;
            }
        } else {
            while (i < len && !is_space(line[i]) && line[i] != '#')
                i++;
        }
        tok[n].p = line + start;
        tok[n].len = i - start;
        n++;
    }
}

bool gs_timing_comment(const struct gs_token *comment)
{
    static const char word[] = "timing";
    size_t i = 0, n = sizeof(word) - 1;

    while (i < comment->len && is_space(comment->p[i]))
        i++;
    if (comment->len - i < n || memcmp(comment->p + i, word, n) != 0)
        return false;
    i += n;
    return i == comment->len || is_space(comment->p[i]) || comment->p[i] == ':';
}

bool gs_is(const struct gs_token *t, const char *word)
{
    return strlen(word) == t->len && memcmp(t->p, word, t->len) == 0;
}

int gs_number(const struct gs_token *t, uint64_t max, uint64_t *out)
{
    const char *p = t->p;
    size_t len = t->len;
    uint64_t v = 0;

    if (len > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        for (size_t i = 2; i < len; i++) {
            int d = hex_digit(p[i]);
            if (d < 0 || v > (UINT64_MAX >> 4))
                return -1;
            v = v << 4 | (uint64_t)d;
        }
    } else {
        /* No leading zeros: "010" would read as octal to a C programmer. */
        if (len == 0 || (len > 1 && p[0] == '0'))
            return -1;
        for (size_t i = 0; i < len; i++) {
            if (p[i] < '0' || p[i] > '9')
                return -1;
            uint64_t d = (uint64_t)(p[i] - '0');
            if (v > (UINT64_MAX - d) / 10)
                return -1;
            v = v * 10 + d;
        }
    }
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

int gs_signed(const struct gs_token *t, int64_t *out)
{
    struct gs_token mag = *t;
    bool neg = mag.len > 0 && mag.p[0] == '-';
    uint64_t v;

    if (neg) {
        mag.p++;
        mag.len--;
    }
    if (gs_number(&mag, neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, &v))
        return -1;
    if (!neg)
        *out = (int64_t)v;
    else if (v == (uint64_t)INT64_MAX + 1)
        *out = INT64_MIN;
    else
        *out = -(int64_t)v;
    return 0;
}

/* Two hex digits at p, or -1. */
static int hex_byte(const char *p)
{
    int hi = hex_digit(p[0]), lo = hi < 0 ? -1 : hex_digit(p[1]);

    return lo < 0 ? -1 : hi << 4 | lo;
}

int gs_pci_addr(const struct gs_token *t, unsigned int *bus, unsigned int *dev,
                unsigned int *fn)
{
    const char *p = t->p;

    if (t->len != 7 || p[2] != ':' || p[5] != '.')
        return -1;
    int b = hex_byte(p), d = hex_byte(p + 3), f = hex_digit(p[6]);
    if (b < 0 || d < 0 || d > 0x1f || f < 0 || f > 7)
        return -1;
    *bus = (unsigned int)b;
    *dev = (unsigned int)d;
    *fn = (unsigned int)f;
    return 0;
}

/* One escape after a backslash at s[0]; sets *used (chars consumed) or returns -1. */
static int unescape(const char *s, size_t avail, size_t *used)
{
    *used = 2;
    switch (avail > 1 ? s[1] : '\0') {
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case '0': return '\0';
    case '\\': return '\\';
    case '"': return '"';
    case 'x':
        *used = 4;
        return avail >= 4 ? hex_byte(s + 2) : -1;
    default:
        return -1;
    }
}

static long quoted_data(const struct gs_token *t, uint8_t *buf, size_t max,
                        const char **why)
{
    size_t n = 0, end = t->len - 1; /* the closing quote */

    for (size_t i = 1; i < end;) {
        int c = (unsigned char)t->p[i];
        size_t used = 1;
        if (c == '\\') {
            c = unescape(t->p + i, end - i, &used);
            if (c < 0) {
                *why = "bad escape in string (use \\n \\r \\t \\0 \\\\ \\\" or \\xNN)";
                return -1;
            }
        }
        if (n == max) {
            *why = "too many bytes";
            return -1;
        }
        buf[n++] = (uint8_t)c;
        i += used;
    }
    return (long)n;
}

static long hex_data(const struct gs_token *t, uint8_t *buf, size_t max,
                     const char **why)
{
    size_t digits = t->len - 4;

    if (digits % 2) {
        *why = "odd number of hex digits";
        return -1;
    }
    if (digits / 2 > max) {
        *why = "too many bytes";
        return -1;
    }
    for (size_t i = 0; i < digits / 2; i++) {
        int b = hex_byte(t->p + 4 + 2 * i);
        if (b < 0) {
            *why = "bad hex digit";
            return -1;
        }
        buf[i] = (uint8_t)b;
    }
    return (long)(digits / 2);
}

long gs_data(const struct gs_token *t, uint8_t *buf, size_t max,
             const char **why)
{
    long n;

    if (t->len >= 2 && t->p[0] == '"')
        n = quoted_data(t, buf, max, why);
    else if (t->len >= 4 && memcmp(t->p, "hex:", 4) == 0)
        n = hex_data(t, buf, max, why);
    else {
        *why = "data must be a \"string\" or hex:0011aa";
        return -1;
    }
    if (n == 0) {
        *why = "no bytes given";
        return -1;
    }
    return n;
}
