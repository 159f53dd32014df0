/* xensim domain create | destroy | list */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "client.h"
#include "hvio.h"

/* DOMAIN_LIST reply: header, uint32_t count, then count domain_info bodies. */
#define LIST_COUNT_OFFSET sizeof(struct xensim_hdr)
#define LIST_ENTRIES_OFFSET (LIST_COUNT_OFFSET + sizeof(uint32_t))
#define LIST_ENTRY_SIZE (sizeof(struct xensim_domain_info) - sizeof(struct xensim_hdr))

long cli_create_domain(const struct cli_ctx *ctx, struct xensim_client *c,
                       const struct cli_domain_spec *spec)
{
    struct xensim_domain_create req = {
        .hdr.type = XENSIM_DOMAIN_CREATE,
        .type = spec->type,
        .vcpus = spec->vcpus,
        .memory_bytes = spec->memory_bytes,
        .domid = spec->domid,
    };
    struct xensim_domain_info reply;

    snprintf(req.name, sizeof(req.name), "%s", spec->name);
    if (cli_call(ctx, c, &req, sizeof(req), &reply, sizeof(reply), CLI_CALL_TIMEOUT_MS) < 0)
        return -1;
    if (reply.hdr.err) {
        cli_error(ctx, CLI_FAILED, "cannot create domain '%s': %s", spec->name,
                  cli_strerror(reply.hdr.err));
        return -1;
    }
    if (reply.hdr.len != sizeof(reply) || reply.domid == 0 ||
        reply.domid >= DOMID_FIRST_RESERVED) {
        cli_error(ctx, CLI_FAILED, "malformed reply from the daemon");
        return -1;
    }
    return reply.domid;
}

/* Fetch the domain list into *out (malloc'd, sorted by domid); count or -1. */
static long list_domains(const struct cli_ctx *ctx, struct xensim_client *c,
                         struct xensim_domain_info **out)
{
    struct xensim_hdr req = { .type = XENSIM_DOMAIN_LIST };
    uint8_t *buf = cli_reply_buffer(ctx);
    uint32_t count;
    long n;

    if (!buf)
        return -1;
    n = cli_call(ctx, c, &req, sizeof(req), buf, XENSIM_MSG_MAX, CLI_CALL_TIMEOUT_MS);
    if (n < 0)
        goto fail;
    if (((struct xensim_hdr *)buf)->err) {
        cli_error(ctx, CLI_FAILED, "cannot list domains: %s",
                  cli_strerror(((struct xensim_hdr *)buf)->err));
        goto fail;
    }
    if ((size_t)n < LIST_ENTRIES_OFFSET)
        goto malformed;
    memcpy(&count, buf + LIST_COUNT_OFFSET, sizeof(count));
    if (count > (XENSIM_MSG_MAX - LIST_ENTRIES_OFFSET) / LIST_ENTRY_SIZE ||
        (size_t)n != LIST_ENTRIES_OFFSET + count * LIST_ENTRY_SIZE)
        goto malformed;
    *out = calloc(count ? count : 1, sizeof(**out));
    if (!*out) {
        cli_error(ctx, CLI_FAILED, "out of memory");
        goto fail;
    }
    for (uint32_t i = 0; i < count; i++) {
        memcpy((uint8_t *)&(*out)[i] + sizeof(struct xensim_hdr),
               buf + LIST_ENTRIES_OFFSET + i * LIST_ENTRY_SIZE, LIST_ENTRY_SIZE);
        (*out)[i].name[XENSIM_NAME_MAX - 1] = '\0';
    }
    free(buf);
    return count;

malformed:
    cli_error(ctx, CLI_USAGE, "malformed reply from the daemon");
fail:
    free(buf);
    return -1;
}

int cli_domain_ref(const struct cli_ctx *ctx, const char *ref, uint32_t *domid)
{
    if (strspn(ref, "0123456789") == strlen(ref) ||
        (ref[0] == '0' && (ref[1] == 'x' || ref[1] == 'X')))
        return cli_parse_domid(ctx, "DOMID", ref, domid) ? CLI_USAGE : CLI_OK;
    if (cli_check_name(ctx, "a domain NAME", ref))
        return CLI_USAGE;
    *domid = 0;
    return CLI_OK;
}

int cli_resolve_domain(const struct cli_ctx *ctx, struct xensim_client *c,
                       const char *ref, uint32_t *domid)
{
    char safe[CLI_SAFE_MAX];
    struct xensim_domain_info *d;
    int rc = cli_domain_ref(ctx, ref, domid);

    if (rc || *domid)
        return rc;
    long n = list_domains(ctx, c, &d);
    if (n < 0)
        return CLI_FAILED;
    for (long i = 0; i < n && !*domid; i++)
        if (strcmp(d[i].name, ref) == 0)
            *domid = d[i].domid;
    free(d);
    if (!*domid)
        return cli_error(ctx, CLI_FAILED, "no domain named '%s'",
                         cli_safe(ref, safe, sizeof(safe)));
    return CLI_OK;
}

/* ---- domain create ---- */

enum { OPT_NAME = 1, OPT_TYPE, OPT_VCPUS, OPT_MEMORY, OPT_DOMID };

static const struct cli_option create_options[] = {
    { "--name", true, OPT_NAME },
    { "--type", true, OPT_TYPE },
    { "--vcpus", true, OPT_VCPUS },
    { "--memory", true, OPT_MEMORY },
    { "--domid", true, OPT_DOMID },
    { NULL, false, 0 },
};

static int create_option(const struct cli_ctx *ctx, int id, const char *v,
                         struct cli_domain_spec *spec)
{
    uint64_t n;

    switch (id) {
    case OPT_NAME:
        spec->name = v;
        return cli_check_name(ctx, "--name", v);
    case OPT_TYPE:
        return cli_parse_type(ctx, "--type", v, &spec->type);
    case OPT_VCPUS:
        if (cli_parse_uint(ctx, "--vcpus", v, 1, HVIO_MAX_VCPUS, &n))
            return -1;
        spec->vcpus = (uint32_t)n;
        return 0;
    case OPT_MEMORY:
        return cli_parse_memory(ctx, "--memory", v, &spec->memory_bytes);
    default:
        return cli_parse_domid(ctx, "--domid", v, &spec->domid);
    }
}

static int domain_create(struct cli_ctx *ctx, int argc, char **argv)
{
    struct cli_args a = { .argc = argc, .argv = argv };
    struct cli_domain_spec spec = { 0 };
    unsigned int seen = 0;
    const char *v;
    char safe[CLI_SAFE_MAX];
    int id;

    while ((id = cli_next_arg(ctx, &a, create_options, &v)) != CLI_ARG_END) {
        if (id == CLI_ARG_HELP)
            return cli_help(ctx);
        if (id == CLI_ARG_ERROR)
            return CLI_USAGE;
        if (id == CLI_ARG_POSITIONAL)
            return cli_error(ctx, CLI_USAGE, "unexpected argument '%s'",
                             cli_safe(v, safe, sizeof(safe)));
        if (seen & (1u << id))
            return cli_error(ctx, CLI_USAGE, "%s given twice", create_options[id - 1].name);
        seen |= 1u << id;
        if (create_option(ctx, id, v, &spec))
            return CLI_USAGE;
    }
    for (id = OPT_NAME; id <= OPT_MEMORY; id++)
        if (!(seen & (1u << id)))
            return cli_error(ctx, CLI_USAGE, "%s is required", create_options[id - 1].name);

    struct xensim_client c;
    int rc = cli_connect(ctx, &c);
    if (rc)
        return rc;
    long domid = cli_create_domain(ctx, &c, &spec);
    xensim_client_close(&c);
    if (domid < 0)
        return CLI_FAILED;
    printf("%ld\n", domid);
    return CLI_OK;
}

const struct cli_command cli_domain_create = {
    "domain create",
    "domain create --name NAME --type hvm|pvh --vcpus N --memory SIZE [--domid N]\n"
    "\n"
    "Create a domain and print its domid.\n"
    "  --name NAME     1-63 of [A-Za-z0-9_.-], not all digits\n"
    "  --type TYPE     hvm (emulated PIC/IOAPIC) or pvh (none)\n"
    "  --vcpus N       1 to 128\n"
    "  --memory SIZE   guest RAM with a unit: 64M, 1G (a multiple of 4K, at most 1T)\n"
    "  --domid N       1 to 32751; default: the lowest free id\n",
    domain_create,
};

/* ---- domain destroy ---- */

int cli_one_domain_arg(struct cli_ctx *ctx, int argc, char **argv, const char **ref)
{
    struct cli_args a = { .argc = argc, .argv = argv };
    char safe[CLI_SAFE_MAX];
    const char *v;
    int id;

    *ref = NULL;
    while ((id = cli_next_arg(ctx, &a, NULL, &v)) != CLI_ARG_END) {
        if (id == CLI_ARG_HELP) {
            *ref = NULL;
            return cli_help(ctx);
        }
        if (id == CLI_ARG_ERROR)
            return CLI_USAGE;
        if (*ref)
            return cli_error(ctx, CLI_USAGE, "unexpected argument '%s'",
                             cli_safe(v, safe, sizeof(safe)));
        *ref = v;
    }
    if (!*ref)
        return cli_error(ctx, CLI_USAGE, "a DOMID or NAME is required");
    uint32_t domid;
    return cli_domain_ref(ctx, *ref, &domid);
}

static int domain_destroy(struct cli_ctx *ctx, int argc, char **argv)
{
    struct xensim_domain_ref req = { .hdr.type = XENSIM_DOMAIN_DESTROY };
    struct xensim_hdr reply;
    struct xensim_client c;
    const char *ref;
    int rc = cli_one_domain_arg(ctx, argc, argv, &ref);

    if (rc || !ref)
        return rc;
    if ((rc = cli_connect(ctx, &c)))
        return rc;
    rc = cli_resolve_domain(ctx, &c, ref, &req.domid);
    if (rc == CLI_OK) {
        if (cli_call(ctx, &c, &req, sizeof(req), &reply, sizeof(reply),
                     CLI_CALL_TIMEOUT_MS) < 0)
            rc = CLI_USAGE;
        else if (reply.err)
            rc = cli_error(ctx, CLI_FAILED, "cannot destroy domain %u: %s", req.domid,
                           cli_strerror(reply.err));
    }
    xensim_client_close(&c);
    return rc;
}

const struct cli_command cli_domain_destroy = {
    "domain destroy",
    "domain destroy DOMID|NAME\n"
    "\n"
    "Destroy a domain; its emulators' later calls fail with ESRCH.\n",
    domain_destroy,
};

/* ---- domain list ---- */

static int by_domid(const void *a, const void *b)
{
    const struct xensim_domain_info *x = a, *y = b;

    return (x->domid > y->domid) - (x->domid < y->domid);
}

static int domain_list(struct cli_ctx *ctx, int argc, char **argv)
{
    struct cli_args a = { .argc = argc, .argv = argv };
    struct xensim_domain_info *d;
    struct xensim_client c;
    char safe[CLI_SAFE_MAX];
    const char *v;
    int id, rc;

    while ((id = cli_next_arg(ctx, &a, NULL, &v)) != CLI_ARG_END) {
        if (id == CLI_ARG_HELP)
            return cli_help(ctx);
        if (id == CLI_ARG_ERROR)
            return CLI_USAGE;
        return cli_error(ctx, CLI_USAGE, "unexpected argument '%s'",
                         cli_safe(v, safe, sizeof(safe)));
    }
    if ((rc = cli_connect(ctx, &c)))
        return rc;
    long n = list_domains(ctx, &c, &d);
    xensim_client_close(&c);
    if (n < 0)
        return CLI_FAILED;
    qsort(d, (size_t)n, sizeof(*d), by_domid);

    int width = 4;
    for (long i = 0; i < n; i++) {
        int len = (int)strlen(cli_safe(d[i].name, safe, sizeof(safe)));
        width = len > width ? len : width;
    }
    printf("%-5s  %-*s  %-4s  %5s  %6s  %7s\n", "DOMID", width, "NAME", "TYPE",
           "VCPUS", "MEMORY", "SERVERS");
    for (long i = 0; i < n; i++) {
        char mem[32];
        cli_format_memory(d[i].memory_bytes, mem, sizeof(mem));
        printf("%-5u  %-*s  %-4s  %5u  %6s  %7u\n", d[i].domid, width,
               cli_safe(d[i].name, safe, sizeof(safe)), cli_type_name(d[i].type),
               d[i].vcpus, mem, d[i].nr_servers);
    }
    free(d);
    return CLI_OK;
}

const struct cli_command cli_domain_list = {
    "domain list",
    "domain list\n"
    "\n"
    "List the domains: domid, name, type, vCPUs, memory, ioreq servers.\n",
    domain_list,
};
