/*
 * Xen's HVM debug console: port 0xE9 (XEN_HVM_DEBUGCONS_IOPORT), an
 * internal port handler that Xen registers for every HVM and PVH domain
 * (hvm_print_line), consulted before any ioreq server.
 *
 * Xen 4.17's handler takes accesses that lie wholly inside its one-byte
 * range, so only one-byte accesses to 0xE9.  Writes keep Xen's printable
 * characters (its ctype table: 0x20..0x7e and 0xa0..0xff), tabs and
 * newlines, build a line of at most DOMAIN_PBUF_SIZE - 1 characters, and
 * print it on a newline or when it is full.  Reads are declined
 * (X86EMUL_UNHANDLEABLE), and Xen then lowers the request's count to 1
 * and offers it to the ioreq servers.
 */
#include "hvio_internal.h"

static bool printable(uint8_t c)
{
    return (c >= 0x20 && c <= 0x7e) || c >= 0xa0;
}

static void console_put_locked(struct hvio_domain *d, uint8_t c)
{
    struct hvio_host *h = d->host;

    if (!printable(c) && c != '\n' && c != '\t')
        return;
    if (c != '\n')
        d->console[d->console_len++] = (char)c;
    if (d->console_len == HVIO_CONSOLE_LINE_MAX - 1 || c == '\n') {
        d->console[d->console_len] = '\0';
        if (h->ops.debug_console)
            h->ops.debug_console(h->ctx, d->cfg.domid, d->console);
        d->console_len = 0;
    }
}

/* One byte of guest RAM; all ones if it cannot be read, as for Xen's bad gfn. */
static uint8_t guest_byte(struct hvio_domain *d, uint64_t gpa)
{
    struct hvio_host *h = d->host;
    uint8_t b;

    if (!h->ops.copy_from_guest || h->ops.copy_from_guest(h->ctx, d->cfg.domid, gpa, &b, 1) < 0)
        return 0xff;
    return b;
}

bool debugcon_intercept_locked(struct hvio_domain *d, ioreq_t *p)
{
    if (p->type != IOREQ_TYPE_PIO || p->addr != HVIO_DEBUG_PORT || p->size != 1)
        return false;
    if (p->dir == IOREQ_READ) {
        p->count = 1;
        return false;
    }
    for (uint32_t i = 0; i < p->count; i++) {
        uint64_t gpa = p->df ? p->data - i : p->data + i;
        console_put_locked(d, p->data_is_ptr ? guest_byte(d, gpa) : (uint8_t)p->data);
    }
    return true;
}
