/* Node permissions. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs_path.h"
#include "xs_perms.h"

int xsim_perm_parse(const char *s, struct xsim_perm *out)
{
    unsigned int perm;

    switch (s[0]) {
    case 'n': perm = XSIM_PERM_NONE; break;
    case 'r': perm = XSIM_PERM_READ; break;
    case 'w': perm = XSIM_PERM_WRITE; break;
    case 'b': perm = XSIM_PERM_BOTH; break;
    default: return -EINVAL;
    }
    if (xsim_parse_domid(s + 1, &out->domid) < 0)
        return -EINVAL;
    out->perm = perm;
    return 0;
}

void xsim_perm_format(const struct xsim_perm *p, char *buf)
{
    static const char letters[4] = { 'n', 'r', 'w', 'b' };

    snprintf(buf, XSIM_PERM_STR_MAX, "%c%u", letters[p->perm & 3u],
             p->domid);
}

int xsim_perms_set(struct xsim_perms *dst, const struct xsim_perm *src,
                   unsigned int n)
{
    struct xsim_perm *p;

    if (n == 0)
        return -EINVAL;
    p = malloc(n * sizeof(*p));
    if (!p)
        return -ENOMEM;
    memcpy(p, src, n * sizeof(*p));
    free(dst->p);
    dst->p = p;
    dst->num = n;
    return 0;
}

int xsim_perms_copy(struct xsim_perms *dst, const struct xsim_perms *src)
{
    return xsim_perms_set(dst, src->p, src->num);
}

void xsim_perms_free(struct xsim_perms *p)
{
    free(p->p);
    p->p = NULL;
    p->num = 0;
}

bool xsim_perms_equal(const struct xsim_perms *a, const struct xsim_perms *b)
{
    if (a->num != b->num)
        return false;
    for (unsigned int i = 0; i < a->num; i++)
        if (a->p[i].domid != b->p[i].domid || a->p[i].perm != b->p[i].perm)
            return false;
    return true;
}

unsigned int xsim_perms_access(const struct xsim_perms *p, unsigned int domid,
                               bool privileged)
{
    const unsigned int all = XSIM_PERM_BOTH | XSIM_PERM_OWNER;

    if (privileged)
        return all;
    if (p->num == 0)
        return XSIM_PERM_NONE;
    if (p->p[0].domid == domid)
        return all;
    for (unsigned int i = 1; i < p->num; i++)
        if (p->p[i].domid == domid)
            return p->p[i].perm;
    return p->p[0].perm;
}
