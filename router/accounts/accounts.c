/* accounts: NSS look-ups with the buffer growing and "not found" handling
 * done once (see accounts.h). */
#include "accounts.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BUF_MAX (1u << 24)

int account_parse_id(const char *s, unsigned *id)
{
    unsigned long long v = 0;

    if (!*s)
        return 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return 0;
        v = v * 10 + (unsigned)(*p - '0');
        if (v >= UINT32_MAX)
            return -ERANGE;
    }
    *id = (unsigned)v;
    return 1;
}

/* One *_r call into BUF; sets *found.  Returns 0 or an errno value. */
typedef int (*nss_call_fn)(void *arg, char *buf, size_t len, bool *found);

static bool means_not_found(int rc)
{
    return rc == ENOENT || rc == ESRCH || rc == EBADF || rc == EPERM;
}

static int nss_lookup(int size_hint, nss_call_fn call, void *arg)
{
    long hint = sysconf(size_hint);
    size_t size = hint > 0 && hint < (long)BUF_MAX ? (size_t)hint : 4096;

    for (;;) {
        char *buf = malloc(size);
        bool found = false;
        if (!buf)
            return -ENOMEM;
        int rc = call(arg, buf, size, &found);
        free(buf);
        if (rc == ERANGE && size < BUF_MAX) {
            size *= 2;
            continue;
        }
        if (rc == EINTR)
            continue;
        if (rc == 0)
            return found ? 1 : 0;
        return means_not_found(rc) ? 0 : -rc;
    }
}

struct user_query {
    const char *name; /* NULL: by uid */
    uid_t uid;
    uid_t *out_uid;
    gid_t *out_gid;
    char **out_name;
    int name_err; /* ENOMEM copying the name */
};

static int user_call(void *arg, char *buf, size_t len, bool *found)
{
    struct user_query *q = arg;
    struct passwd pw, *res = NULL;
    int rc = q->name ? getpwnam_r(q->name, &pw, buf, len, &res)
                     : getpwuid_r(q->uid, &pw, buf, len, &res);

    if (rc || !res)
        return rc;
    *found = true;
    if (q->out_uid)
        *q->out_uid = pw.pw_uid;
    if (q->out_gid)
        *q->out_gid = pw.pw_gid;
    if (q->out_name && !(*q->out_name = strdup(pw.pw_name)))
        q->name_err = ENOMEM;
    return 0;
}

int account_user_by_name(const char *name, uid_t *uid, gid_t *gid)
{
    struct user_query q = { .name = name, .out_uid = uid, .out_gid = gid };
    return nss_lookup(_SC_GETPW_R_SIZE_MAX, user_call, &q);
}

int account_user_by_uid(uid_t uid, gid_t *gid, char **name)
{
    struct user_query q = { .uid = uid, .out_gid = gid, .out_name = name };
    if (name)
        *name = NULL;
    int rc = nss_lookup(_SC_GETPW_R_SIZE_MAX, user_call, &q);
    return rc == 1 && q.name_err ? -q.name_err : rc;
}

struct group_query {
    const char *name; /* NULL: by gid */
    gid_t gid;
    gid_t *out_gid;
    char **out_name;
    int name_err; /* ENOMEM copying the name */
};

static int group_call(void *arg, char *buf, size_t len, bool *found)
{
    struct group_query *q = arg;
    struct group gr, *res = NULL;
    int rc = q->name ? getgrnam_r(q->name, &gr, buf, len, &res)
                     : getgrgid_r(q->gid, &gr, buf, len, &res);

    if (rc || !res)
        return rc;
    *found = true;
    if (q->out_gid)
        *q->out_gid = gr.gr_gid;
    if (q->out_name && !(*q->out_name = strdup(gr.gr_name)))
        q->name_err = ENOMEM;
    return 0;
}

int account_group_by_name(const char *name, gid_t *gid)
{
    struct group_query q = { .name = name, .out_gid = gid };
    return nss_lookup(_SC_GETGR_R_SIZE_MAX, group_call, &q);
}

int account_group_by_gid(gid_t gid, char **name)
{
    struct group_query q = { .gid = gid, .out_name = name };
    *name = NULL;
    int rc = nss_lookup(_SC_GETGR_R_SIZE_MAX, group_call, &q);
    return rc == 1 && q.name_err ? -q.name_err : rc;
}
