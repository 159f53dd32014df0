/* Xenstore path rules. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "xs_wire_inc.h"

#include "xs_path.h"

static bool valid_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '@';
}

bool xsim_path_valid_abs(const char *p)
{
    size_t n = strlen(p);

    if (n == 0 || p[0] != '/' || n > XENSTORE_ABS_PATH_MAX)
        return false;
    if (n == 1)
        return true;
    if (p[n - 1] == '/')
        return false;
    for (size_t i = 1; i < n; i++) {
        if (p[i] == '/') {
            if (p[i - 1] == '/')
                return false;
        } else if (!valid_char(p[i])) {
            return false;
        }
    }
    return true;
}

bool xsim_path_is_special(const char *p)
{
    size_t n = strlen(p);

    if (n < 2 || p[0] != '@' || n > XENSTORE_ABS_PATH_MAX)
        return false;
    for (size_t i = 1; i < n; i++)
        if (!valid_char(p[i]))
            return false;
    return true;
}

void xsim_domain_path(unsigned int domid, char *buf)
{
    snprintf(buf, XSIM_DOMAIN_PATH_MAX, "/local/domain/%u", domid);
}

int xsim_path_resolve(const char *in, unsigned int domid, bool allow_special,
                      char **out, size_t *strip)
{
    char *abs;

    *out = NULL;
    if (strip)
        *strip = 0;
    if (in[0] == '@') {
        if (!allow_special || !xsim_path_is_special(in))
            return -EINVAL;
        abs = strdup(in);
    } else if (in[0] == '/') {
        if (!xsim_path_valid_abs(in))
            return -EINVAL;
        abs = strdup(in);
    } else {
        char dom[XSIM_DOMAIN_PATH_MAX];
        size_t dl, il = strlen(in);

        if (il == 0 || il > XENSTORE_REL_PATH_MAX)
            return -EINVAL;
        xsim_domain_path(domid, dom);
        dl = strlen(dom);
        abs = malloc(dl + 1 + il + 1);
        if (!abs)
            return -ENOMEM;
        memcpy(abs, dom, dl);
        abs[dl] = '/';
        memcpy(abs + dl + 1, in, il + 1);
        if (!xsim_path_valid_abs(abs)) {
            free(abs);
            return -EINVAL;
        }
        if (strip)
            *strip = dl + 1;
    }
    if (!abs)
        return -ENOMEM;
    *out = abs;
    return 0;
}

bool xsim_path_is_under(const char *path, const char *prefix)
{
    size_t pl = strlen(prefix);

    if (strncmp(path, prefix, pl) != 0)
        return false;
    if (path[pl] == '\0')
        return true;
    /* "/" is the prefix of every absolute path. */
    return path[pl] == '/' || (pl > 0 && prefix[pl - 1] == '/');
}

size_t xsim_path_parent_len(const char *p)
{
    const char *slash = strrchr(p, '/');

    if (!slash || slash == p)
        return 1;
    return (size_t)(slash - p);
}

int xsim_parse_domid(const char *s, unsigned int *out)
{
    unsigned long v = 0;

    if (!*s || strlen(s) > 5)
        return -EINVAL;
    for (const char *c = s; *c; c++) {
        if (*c < '0' || *c > '9')
            return -EINVAL;
        v = v * 10 + (unsigned long)(*c - '0');
    }
    if (v > XSIM_DOMID_MAX)
        return -EINVAL;
    *out = (unsigned int)v;
    return 0;
}
