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

#define CHUNK 64 /* bytes read from guest RAM at a time */

/*
 * `len` bytes of guest RAM from `gpa` up: one platform call, or where that
 * fails (a span leaving guest RAM), byte by byte, all ones for each byte
 * that cannot be read, as Xen reads a frame that is not there.
 */
static void guest_bytes(struct hvio_domain *d, uint64_t gpa, uint8_t *buf, uint32_t len)
{
    struct hvio_host *h = d->host;

    if (h->ops.copy_from_guest && h->ops.copy_from_guest(h->ctx, d->cfg.domid, gpa, buf, len) == 0)
        return;
    for (uint32_t i = 0; i < len; i++)
        if (!h->ops.copy_from_guest ||
            h->ops.copy_from_guest(h->ctx, d->cfg.domid, gpa + i, &buf[i], 1) < 0)
            buf[i] = 0xff;
}

bool debugcon_intercept_locked(struct hvio_domain *d, ioreq_t *p)
{
    if (p->type != IOREQ_TYPE_PIO || p->addr != HVIO_DEBUG_PORT || p->size != 1)
        return false;
    if (p->dir == IOREQ_READ) {
        p->count = 1;
        return false;
    }
    /*
     * At most a page of bytes per call, under the domain's lock: the guest
     * chooses count (up to 2^32).  The caller issues the rest again, as Xen
     * re-executes a rep instruction it did a part of.
     */
    if (p->count > HVIO_DEBUG_MAX_REPS)
        p->count = HVIO_DEBUG_MAX_REPS;
    if (!p->data_is_ptr) {
        for (uint32_t i = 0; i < p->count; i++)
            console_put_locked(d, (uint8_t)p->data);
        return true;
    }
    /* A string write: the bytes at data upwards, or downwards with df. */
    uint8_t buf[CHUNK];
    for (uint32_t done = 0; done < p->count;) {
        uint32_t n = p->count - done < CHUNK ? p->count - done : CHUNK;

        guest_bytes(d, p->df ? p->data - done - (n - 1) : p->data + done, buf, n);
        for (uint32_t i = 0; i < n; i++)
            console_put_locked(d, buf[p->df ? n - 1 - i : i]);
        done += n;
    }
    return true;
}
