/* xensim irq-log: the interrupts that emulators raised for a domain. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "client.h"
#include "hvio.h"

/* IRQ_LOG reply: header, uint32_t count, then count records. */
#define LOG_COUNT_OFFSET sizeof(struct xensim_hdr)
#define LOG_RECORDS_OFFSET (LOG_COUNT_OFFSET + sizeof(uint32_t))

static void print_record(const struct xensim_irq_record *r)
{
    switch (r->kind) {
    case HVIO_IRQ_ISA:
        printf("isa %u level %u\n", r->line, r->level);
        break;
    case HVIO_IRQ_PCI_INTX:
        printf("intx 00:%02x %c level %u\n", (r->line >> 2) & 0x1f,
               'A' + (int)(r->line & 3), r->level);
        break;
    case HVIO_IRQ_MSI:
        printf("msi addr 0x%llx data 0x%x\n", (unsigned long long)r->msi_addr,
               r->msi_data);
        break;
    default:
        printf("kind %u line %u level %u\n", r->kind, r->line, r->level);
        break;
    }
}

static int show_log(const struct cli_ctx *ctx, const uint8_t *buf, long n)
{
    const struct xensim_hdr *hdr = (const struct xensim_hdr *)buf;
    struct xensim_irq_record r;
    uint32_t count;

    if (hdr->err)
        return cli_error(ctx, CLI_FAILED, "cannot read the interrupt log: %s",
                         cli_strerror(hdr->err));
    if ((size_t)n < LOG_RECORDS_OFFSET)
        return cli_error(ctx, CLI_USAGE, "malformed reply from the daemon");
    memcpy(&count, buf + LOG_COUNT_OFFSET, sizeof(count));
    if (count > (XENSIM_MSG_MAX - LOG_RECORDS_OFFSET) / sizeof(r) ||
        (size_t)n != LOG_RECORDS_OFFSET + count * sizeof(r))
        return cli_error(ctx, CLI_USAGE, "malformed reply from the daemon");
    for (uint32_t i = 0; i < count; i++) {
        memcpy(&r, buf + LOG_RECORDS_OFFSET + i * sizeof(r), sizeof(r));
        print_record(&r);
    }
    return CLI_OK;
}

static int irq_log(struct cli_ctx *ctx, int argc, char **argv)
{
    struct xensim_domain_ref req = { .hdr.type = XENSIM_IRQ_LOG };
    struct xensim_client c;
    const char *ref;
    uint8_t *buf = NULL;
    int rc = cli_one_domain_arg(ctx, argc, argv, &ref);

    if (rc || !ref)
        return rc;
    if ((rc = cli_connect(ctx, &c)))
        return rc;
    rc = cli_resolve_domain(ctx, &c, ref, &req.domid);
    if (rc == CLI_OK && !(buf = cli_reply_buffer(ctx)))
        rc = CLI_FAILED;
    if (rc == CLI_OK) {
        long n = cli_call(ctx, &c, &req, sizeof(req), buf, XENSIM_MSG_MAX,
                          CLI_CALL_TIMEOUT_MS);
        rc = n < 0 ? CLI_USAGE : show_log(ctx, buf, n);
        free(buf);
    }
    xensim_client_close(&c);
    return rc;
}

const struct cli_command cli_irq_log = {
    "irq-log",
    "irq-log DOMID|NAME\n"
    "\n"
    "Print the interrupts recorded for a domain, oldest first, one a line:\n"
    "  isa IRQ level L | intx 00:DD PIN level L | msi addr A data D\n",
    irq_log,
};
