/* xensim domain create | destroy | list | pause | unpause | info */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "client.h"
#include "hvio.h"

#include <xen/domctl.h>

long cli_create_domain(const struct cli_ctx *ctx, struct xensim_client *c,
                       const struct cli_domain_spec *spec)
{
    struct xensim_domain_create req = {
        .hdr.type = XENSIM_DOMAIN_CREATE,
        .type = spec->type,
        .vcpus = spec->vcpus,
        .memory_bytes = spec->memory_bytes,
        .domid = spec->domid,
        .flags = spec->paused ? XENSIM_CREATE_PAUSED : 0,
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

/* ---- domain information (XENSIM_DOMAIN_GETINFO) ---- */

/*
 * The domains with domid >= first, ascending, at most `max`, into *out
 * (malloc'd).  Returns the count, or -1 after printing why.
 */
static long get_info(const struct cli_ctx *ctx, struct xensim_client *c, uint32_t first,
                     uint32_t max, struct xensim_dominfo **out)
{
    struct xensim_domain_getinfo_reply *buf = cli_reply_buffer(ctx);
    struct xensim_dominfo *all = NULL;
    uint32_t count = 0;

    *out = NULL;
    if (!buf)
        return -1;
    while (count < max && first < DOMID_FIRST_RESERVED) {
        struct xensim_domain_getinfo req = { .hdr.type = XENSIM_DOMAIN_GETINFO,
                                             .first_domid = first, .max = max - count };
        long n = cli_call(ctx, c, &req, sizeof(req), buf, XENSIM_MSG_MAX, CLI_CALL_TIMEOUT_MS);
        if (n < 0)
            goto fail;
        if (buf->hdr.err) {
            cli_error(ctx, CLI_FAILED, "cannot get domain information: %s",
                      cli_strerror(buf->hdr.err));
            goto fail;
        }
        if ((size_t)n < sizeof(*buf) || buf->count > XENSIM_GETINFO_MAX ||
            buf->count > max - count ||
            (size_t)n != sizeof(*buf) + buf->count * sizeof(buf->info[0])) {
            cli_error(ctx, CLI_USAGE, "malformed reply from the daemon");
            goto fail;
        }
        if (buf->count == 0)
            break;
        struct xensim_dominfo *grown = realloc(all, (count + buf->count) * sizeof(*all));
        if (!grown) {
            cli_error(ctx, CLI_FAILED, "out of memory");
            goto fail;
        }
        all = grown;
        memcpy(all + count, buf->info, buf->count * sizeof(*all));
        for (uint32_t i = 0; i < buf->count; i++)
            all[count + i].name[XENSIM_NAME_MAX - 1] = '\0';
        count += buf->count;
        if (all[count - 1].domid < first) {
            cli_error(ctx, CLI_USAGE, "malformed reply from the daemon");
            goto fail;
        }
        first = all[count - 1].domid + 1;
    }
    free(buf);
    *out = all;
    return count;

fail:
    free(buf);
    free(all);
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
    struct xensim_dominfo *d;
    int rc = cli_domain_ref(ctx, ref, domid);

    if (rc || *domid)
        return rc;
    long n = get_info(ctx, c, 0, DOMID_FIRST_RESERVED, &d);
    if (n < 0)
        return CLI_FAILED;
    bool found = false; /* Domain-0 is domid 0 */
    for (long i = 0; i < n && !found; i++) {
        if (strcmp(d[i].name, ref) == 0) {
            *domid = d[i].domid;
            found = true;
        }
    }
    free(d);
    if (!found)
        return cli_error(ctx, CLI_FAILED, "no domain named '%s'",
                         cli_safe(ref, safe, sizeof(safe)));
    return CLI_OK;
}

/* ---- domain create ---- */

enum { OPT_NAME = 1, OPT_TYPE, OPT_VCPUS, OPT_MEMORY, OPT_DOMID, OPT_PAUSED };

static const struct cli_option create_options[] = {
    { "--name", true, OPT_NAME },
    { "--type", true, OPT_TYPE },
    { "--vcpus", true, OPT_VCPUS },
    { "--memory", true, OPT_MEMORY },
    { "--domid", true, OPT_DOMID },
    { "--paused", false, OPT_PAUSED },
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
    case OPT_PAUSED:
        spec->paused = true;
        return 0;
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
    "domain create --name NAME --type hvm|pvh --vcpus N --memory SIZE [--domid N] [--paused]\n"
    "\n"
    "Create a domain and print its domid.\n"
    "  --name NAME     1-63 of [A-Za-z0-9_.-], not all digits\n"
    "  --type TYPE     hvm (emulated PIC/IOAPIC) or pvh (none)\n"
    "  --vcpus N       1 to 128\n"
    "  --memory SIZE   guest RAM with a unit: 64M, 1G (a multiple of 4K, at most 1T)\n"
    "  --domid N       1 to 32751; default: the lowest free id\n"
    "  --paused        start paused (a pause count of 1, as 'xl create -p'): its\n"
    "                  vCPUs run no guest script until 'xensim domain unpause'\n",
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

/* "0", "00", "0x0": dom0, which cli_domain_ref() does not take. */
static bool is_dom0_ref(const char *ref)
{
    if (ref[0] == '0' && (ref[1] == 'x' || ref[1] == 'X'))
        ref += 2;
    return ref[0] && strspn(ref, "0") == strlen(ref);
}

/* The one DOMID (0 included) or NAME argument, resolved; CLI_OK, else a status. */
static int domain_arg(struct cli_ctx *ctx, int argc, char **argv, struct xensim_client *c,
                      bool *connected, uint32_t *domid)
{
    const char *ref = NULL;
    int rc;

    *connected = false;
    if (argc == 1 && is_dom0_ref(argv[0])) {
        *domid = 0;
    } else if ((rc = cli_one_domain_arg(ctx, argc, argv, &ref)) || !ref) {
        return rc ? rc : -1; /* -1: help printed */
    }
    if ((rc = cli_connect(ctx, c)))
        return rc;
    *connected = true;
    return ref ? cli_resolve_domain(ctx, c, ref, domid) : CLI_OK;
}

/* ---- domain pause / unpause ---- */

static int pause_or_unpause(struct cli_ctx *ctx, int argc, char **argv, bool pause)
{
    struct xensim_domain_ref req = { .hdr.type = pause ? XENSIM_DOMAIN_PAUSE
                                                       : XENSIM_DOMAIN_UNPAUSE };
    struct xensim_hdr reply;
    struct xensim_client c;
    bool connected;
    int rc = domain_arg(ctx, argc, argv, &c, &connected, &req.domid);

    if (rc == CLI_OK) {
        if (cli_call(ctx, &c, &req, sizeof(req), &reply, sizeof(reply),
                     CLI_CALL_TIMEOUT_MS) < 0)
            rc = CLI_USAGE;
        else if (reply.err)
            rc = cli_error(ctx, CLI_FAILED, "cannot %s domain %u: %s",
                           pause ? "pause" : "unpause", req.domid, cli_strerror(reply.err));
    }
    if (connected)
        xensim_client_close(&c);
    return rc < 0 ? CLI_OK : rc;
}

static int domain_pause(struct cli_ctx *ctx, int argc, char **argv)
{
    return pause_or_unpause(ctx, argc, argv, true);
}

static int domain_unpause(struct cli_ctx *ctx, int argc, char **argv)
{
    return pause_or_unpause(ctx, argc, argv, false);
}

const struct cli_command cli_domain_pause = {
    "domain pause",
    "domain pause DOMID|NAME\n"
    "\n"
    "Pause a domain, as 'xl pause': add one to its pause count.  Its vCPUs\n"
    "run no guest script while the count is not 0.  Fails with 'Invalid\n"
    "argument' for domain 0 (the caller's own), 'Value too large' at 255.\n",
    domain_pause,
};

const struct cli_command cli_domain_unpause = {
    "domain unpause",
    "domain unpause DOMID|NAME\n"
    "\n"
    "Take one from a domain's pause count, as 'xl unpause'; at 0 the domain\n"
    "runs again.  Fails with 'Invalid argument' when the count is 0.\n",
    domain_unpause,
};

/* ---- domain info ---- */

static void print_names(uint32_t bits, const char *const *names, unsigned int nr)
{
    const char *sep = "";

    for (unsigned int i = 0; i < nr; i++) {
        if (bits & (1u << i) && names[i]) {
            printf("%s%s", sep, names[i]);
            sep = ",";
        }
    }
    printf("%s\n", *sep ? "" : "-");
}

static void print_info(const struct xensim_dominfo *d)
{
    static const char *const dominf[] = { "dying", "hvm_guest", "shutdown", "paused", "blocked",
                                          "running", "debugged", "xs_domain", "hap" };
    static const char *const emu[] = { "lapic", "hpet", "pm", "rtc", "ioapic", "pic",
                                       "vga", "iommu", "pit", "use_pirq", "vpci" };
    char safe[CLI_SAFE_MAX];

    printf("domid %u\n", d->domid);
    printf("name %s\n", cli_safe(d->name, safe, sizeof(safe)));
    printf("type %s\n", cli_type_name(d->type));
    printf("pause-count %u\n", d->pause_count);
    printf("flags 0x%x ", d->flags);
    print_names(d->flags, dominf, sizeof(dominf) / sizeof(dominf[0]));
    if (d->flags & XEN_DOMINF_shutdown)
        printf("shutdown-code %u\n",
               (d->flags >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask);
    printf("vcpus %u\n", d->nr_online_vcpus);
    if (d->max_vcpu_id == XEN_INVALID_MAX_VCPU_ID)
        printf("max-vcpu-id -\n");
    else
        printf("max-vcpu-id %u\n", d->max_vcpu_id);
    printf("tot-pages %llu\n", (unsigned long long)d->tot_pages);
    printf("max-pages %llu\n", (unsigned long long)d->max_pages);
    printf("emulation-flags 0x%x ", d->emulation_flags);
    print_names(d->emulation_flags, emu, sizeof(emu) / sizeof(emu[0]));
    printf("servers %u\n", d->nr_servers);
    printf("refused-irqs %u\n", d->refused_irqs);
    printf("busy-vcpus %u\n", d->busy_vcpus);
}

static int domain_info(struct cli_ctx *ctx, int argc, char **argv)
{
    struct xensim_dominfo *d = NULL;
    struct xensim_client c;
    bool connected;
    uint32_t domid;
    int rc = domain_arg(ctx, argc, argv, &c, &connected, &domid);

    if (rc == CLI_OK) {
        long n = get_info(ctx, &c, domid, 1, &d);
        if (n < 0)
            rc = CLI_FAILED;
        else if (n == 0 || d[0].domid != domid)
            rc = cli_error(ctx, CLI_FAILED, "cannot get domain %u: %s", domid,
                           strerror(ESRCH));
        else
            print_info(&d[0]);
        free(d);
    }
    if (connected)
        xensim_client_close(&c);
    return rc < 0 ? CLI_OK : rc;
}

const struct cli_command cli_domain_info = {
    "domain info",
    "domain info DOMID|NAME\n"
    "\n"
    "What XEN_DOMCTL_getdomaininfo says of a domain (0 is dom0), one\n"
    "'key value' a line: domid, name, type, pause-count, flags (XEN_DOMINF_*,\n"
    "in hex and by name), shutdown-code (only when shut down), vcpus,\n"
    "max-vcpu-id, tot-pages, max-pages, emulation-flags (XEN_X86_EMU_*, as\n"
    "libxl sets them: all but vpci for hvm, lapic for pvh), servers (ioreq\n"
    "servers), refused-irqs (ISA IRQ and INTx requests the domain refused\n"
    "for want of an emulated PIC/IOAPIC) and busy-vcpus (vCPUs a guest run\n"
    "holds, paused or not).\n",
    domain_info,
};

/* ---- domain list ---- */

static int domain_list(struct cli_ctx *ctx, int argc, char **argv)
{
    struct cli_args a = { .argc = argc, .argv = argv };
    struct xensim_dominfo *d;
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
    long n = get_info(ctx, &c, 0, DOMID_FIRST_RESERVED, &d);
    xensim_client_close(&c);
    if (n < 0)
        return CLI_FAILED;

    int width = 4;
    for (long i = 0; i < n; i++) {
        int len = (int)strlen(cli_safe(d[i].name, safe, sizeof(safe)));
        width = len > width ? len : width;
    }
    /* SERVERS stays last: scripts read it as the last field. */
    printf("%-5s  %-*s  %-4s  %5s  %6s  %6s  %7s\n", "DOMID", width, "NAME", "TYPE",
           "VCPUS", "MEMORY", "PAUSED", "SERVERS");
    for (long i = 0; i < n; i++) {
        char mem[32];
        cli_format_memory(d[i].tot_pages * HVIO_PAGE_SIZE, mem, sizeof(mem));
        printf("%-5u  %-*s  %-4s  %5u  %6s  %6u  %7u\n", d[i].domid, width,
               cli_safe(d[i].name, safe, sizeof(safe)), cli_type_name(d[i].type),
               d[i].nr_online_vcpus, mem, d[i].pause_count, d[i].nr_servers);
    }
    free(d);
    return CLI_OK;
}

const struct cli_command cli_domain_list = {
    "domain list",
    "domain list\n"
    "\n"
    "List the domains: domid, name, type, vCPUs, memory, pause count (0: not\n"
    "paused) and ioreq servers.\n",
    domain_list,
};
