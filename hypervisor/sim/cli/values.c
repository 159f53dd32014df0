/* xensim CLI: parsing and printing of argument values. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "hvio.h"
#include "xensim_proto.h"

#define MEMORY_MAX (1ull << 40) /* 1 TiB */

/* Decimal or 0x hex, the whole string, no sign or spaces.  0 or -1. */
static int parse_number(const char *s, size_t len, uint64_t *out)
{
    unsigned int base = 10;
    uint64_t v = 0;

    if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
        len -= 2;
    }
    if (len == 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        unsigned int d;
        if (isdigit((unsigned char)s[i]))
            d = (unsigned int)(s[i] - '0');
        else if (base == 16 && isxdigit((unsigned char)s[i]))
            d = (unsigned int)(tolower((unsigned char)s[i]) - 'a' + 10);
        else
            return -1;
        if (v > (UINT64_MAX - d) / base)
            return -1;
        v = v * base + d;
    }
    *out = v;
    return 0;
}

int cli_parse_uint(const struct cli_ctx *ctx, const char *what, const char *s,
                   uint64_t min, uint64_t max, uint64_t *out)
{
    char safe[CLI_SAFE_MAX];

    if (parse_number(s, strlen(s), out) || *out < min || *out > max) {
        cli_error(ctx, CLI_USAGE, "%s must be a number from %llu to %llu, not '%s'",
                  what, (unsigned long long)min, (unsigned long long)max,
                  cli_safe(s, safe, sizeof(safe)));
        return -1;
    }
    return 0;
}

int cli_parse_memory(const struct cli_ctx *ctx, const char *what, const char *s,
                     uint64_t *bytes)
{
    char safe[CLI_SAFE_MAX];
    size_t len = strlen(s);
    unsigned int shift = 0;
    uint64_t v;

    if (len >= 2) {
        const char *p = strchr("KMGT", toupper((unsigned char)s[len - 1]));
        if (p && *p)
            shift = 10 * (unsigned int)(p - "KMGT" + 1);
    }
    if (!shift || parse_number(s, len - 1, &v) || v == 0 || v > (MEMORY_MAX >> shift)) {
        cli_error(ctx, CLI_USAGE,
                  "%s must be a size with a unit K, M, G or T (like 64M or 1G), "
                  "from 4K to 1T, not '%s'",
                  what, cli_safe(s, safe, sizeof(safe)));
        return -1;
    }
    *bytes = v << shift;
    if (*bytes % HVIO_PAGE_SIZE) {
        cli_error(ctx, CLI_USAGE, "%s must be a multiple of 4K, not '%s'", what,
                  cli_safe(s, safe, sizeof(safe)));
        return -1;
    }
    return 0;
}

int cli_check_name(const struct cli_ctx *ctx, const char *what, const char *s)
{
    char safe[CLI_SAFE_MAX];
    size_t len = strlen(s), digits = strspn(s, "0123456789");
    bool ok = len > 0 && len < XENSIM_NAME_MAX && s[0] != '-' && digits < len &&
              strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "0123456789_.-") == len;

    if (!ok) {
        cli_error(ctx, CLI_USAGE,
                  "%s must be 1 to %u characters of letters, digits, '_', '.' and '-', "
                  "not all digits and not starting with '-', not '%s'",
                  what, XENSIM_NAME_MAX - 1, cli_safe(s, safe, sizeof(safe)));
        return -1;
    }
    return 0;
}

int cli_parse_type(const struct cli_ctx *ctx, const char *what, const char *s,
                   uint32_t *type)
{
    char safe[CLI_SAFE_MAX];

    if (strcmp(s, "hvm") == 0)
        *type = XENSIM_DOMAIN_HVM;
    else if (strcmp(s, "pvh") == 0)
        *type = XENSIM_DOMAIN_PVH;
    else {
        cli_error(ctx, CLI_USAGE, "%s must be 'hvm' or 'pvh', not '%s'", what,
                  cli_safe(s, safe, sizeof(safe)));
        return -1;
    }
    return 0;
}

int cli_parse_domid(const struct cli_ctx *ctx, const char *what, const char *s,
                    uint32_t *domid)
{
    uint64_t v;

    if (cli_parse_uint(ctx, what, s, 1, DOMID_FIRST_RESERVED - 1, &v))
        return -1;
    *domid = (uint32_t)v;
    return 0;
}

void cli_format_memory(uint64_t bytes, char *buf, size_t len)
{
    static const char units[] = "TGMK";

    for (unsigned int i = 0; i < 4; i++) {
        unsigned int shift = 10 * (4 - i);
        if (bytes && bytes % (1ull << shift) == 0) {
            snprintf(buf, len, "%llu%c", (unsigned long long)(bytes >> shift), units[i]);
            return;
        }
    }
    snprintf(buf, len, "%llu", (unsigned long long)bytes);
}

const char *cli_type_name(uint32_t type)
{
    return type == XENSIM_DOMAIN_HVM ? "hvm" : type == XENSIM_DOMAIN_PVH ? "pvh" : "-";
}
