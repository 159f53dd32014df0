/*
 * ioreq-uart: a 16550A serial port for a Xen guest, as an ioreq server.
 *
 * The register model is uart16550.c, the far end of the line a backend
 * (uart_backend.h); this file joins them to libioreq in one poll loop: the
 * ioreq fd, a signalfd for SIGTERM/SIGINT, and the backend's fds.  The
 * interrupt line goes to the guest as an ISA IRQ unless the guest has no
 * emulated PIC (--pvh / --no-pic): then the port is polled only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <libioreq.h>

#include "emu_args.h"
#include "emu_log.h"
#include "emu_serve.h"
#include "uart16550.h"
#include "uart_backend.h"

#define PROG "ioreq-uart"

struct options {
    struct emu_opts common;
    uint16_t base;
    unsigned int irq;
    const char *backend;
};

struct uart_prog {
    struct emu_log log;
    struct ioreq_ctx *ctx;
    struct uart_backend *backend;
    struct uart16550 uart;
    bool use_irq;
    unsigned int irq;
    bool irq_failed;    /* reported once */
};

static void usage(FILE *out)
{
    fprintf(out,
        EMU_USAGE_LINE(PROG)
        "A 16550A UART (16-byte FIFOs) for guest D, served through an ioreq server.\n"
        "\n"
        EMU_USAGE_HEAD("the ports")
        "  --base PORT        first of the 8 ports (default 0x3f8)\n"
        "  --irq N            ISA IRQ 0-15 (default 4)\n"
        "  --backend SPEC     where the line goes (default stdio):\n"
        "                       stdio       stdout, and stdin as input\n"
        "                       file:PATH   append output to PATH; no input\n"
        "                       unix:PATH   listening socket, one client\n"
        "                       pty         a new pty; its slave is printed on\n"
        "                                   stdout as \"" PROG ": pty /dev/pts/N\"\n"
        "  --pvh, --no-pic    the guest has no emulated PIC/IOAPIC: never raise\n"
        "                     the IRQ (the port is polled only)\n"
        EMU_USAGE_COMMON
        "\n"
        "SIGTERM or SIGINT: finish the request in flight and exit 0.\n"
        EMU_USAGE_EXIT_STATUS);
}

static void parse_args(int argc, char **argv, struct options *o)
{
    enum { OPT_BASE = EMU_OPT_PROGRAM, OPT_IRQ, OPT_BACKEND };
    static const struct option longopts[] = {
        { "base", required_argument, NULL, OPT_BASE },
        { "irq", required_argument, NULL, OPT_IRQ },
        { "backend", required_argument, NULL, OPT_BACKEND },
        EMU_NO_PIC_LONG_OPTS,
        EMU_COMMON_LONG_OPTS,
        { NULL, 0, NULL, 0 },
    };
    int c;

    *o = (struct options){ .base = 0x3f8, .irq = 4, .backend = "stdio" };
    emu_opts_init(&o->common, PROG, usage);
    while ((c = emu_getopt(&o->common, argc, argv, longopts)) != -1) {
        switch (c) {
        case OPT_BASE:
            o->base = (uint16_t)emu_uint_arg(PROG, "--base", optarg, 0x10000 - UART_NR_REGS);
            break;
        case OPT_IRQ:
            o->irq = (unsigned int)emu_uint_arg(PROG, "--irq", optarg, 15);
            break;
        case OPT_BACKEND:
            o->backend = optarg;
            break;
        }
    }
}

/* ---- the model's callbacks ------------------------------------------------ */

static size_t on_tx(void *opaque, const uint8_t *buf, size_t len)
{
    struct uart_prog *p = opaque;

    return uart_backend_write(p->backend, buf, len);
}

static void set_irq(struct uart_prog *p, bool level)
{
    int rc;

    if (!p->use_irq || !p->ctx)
        return;
    emu_logf(&p->log, IOREQ_LOG_DEBUG, "ISA IRQ %u %s", p->irq, level ? "raised" : "lowered");
    rc = ioreq_set_isa_irq(p->ctx, p->irq, level);
    /* -EOPNOTSUPP (no PIC): libioreq has said so once already */
    if (rc < 0 && rc != -EOPNOTSUPP && !p->irq_failed) {
        p->irq_failed = true;
        emu_logf(&p->log, IOREQ_LOG_WARNING, "setting ISA IRQ %u: %s", p->irq, strerror(-rc));
    }
}

static void on_irq(void *opaque, bool level)
{
    set_irq(opaque, level);
}

static void on_backend_note(void *opaque, const char *msg)
{
    struct uart_prog *p = opaque;

    emu_logf(&p->log, IOREQ_LOG_INFO, "%s", msg);
}

static const struct uart16550_ops uart_ops = {
    .tx = on_tx,
    .irq = on_irq,
};

static const struct ioreq_region_ops region_ops = {
    .read = uart16550_io_read,
    .write = uart16550_io_write,
};

/* ---- the loop ---------------------------------------------------------------- */

static int open_signalfd(void)
{
    sigset_t mask;

    if (emu_block_stop_signals(&mask) < 0)
        return -1;
    return signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* Returns 0 when asked to stop, -1 on failure. */
static int serve(struct uart_prog *p, int sigfd)
{
    enum { FD_IOREQ, FD_SIGNAL, FD_BACKEND };
    uint8_t buf[UART_FIFO_SIZE];

    for (;;) {
        struct pollfd fds[FD_BACKEND + UART_BACKEND_MAX_FDS];
        int nbe, rc;
        size_t got;

        fds[FD_IOREQ] = (struct pollfd){ .fd = ioreq_fd(p->ctx), .events = POLLIN };
        fds[FD_SIGNAL] = (struct pollfd){ .fd = sigfd, .events = POLLIN };
        nbe = uart_backend_poll_fds(p->backend, &fds[FD_BACKEND],
                                    uart16550_rx_room(&p->uart) > 0,
                                    uart16550_tx_pending(&p->uart) > 0);
        if (poll(fds, (nfds_t)(FD_BACKEND + nbe), -1) < 0) {
            if (errno == EINTR)
                continue;
            emu_logf(&p->log, IOREQ_LOG_ERROR, "poll: %s", strerror(errno));
            return -1;
        }
        bool stopping = fds[FD_SIGNAL].revents & POLLIN;
        if (stopping) {
            struct signalfd_siginfo si;

            if (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
                emu_logf(&p->log, IOREQ_LOG_INFO, "signal %u: stopping", si.ssi_signo);
        }
        /* Stopping, finish what is in flight first: a vCPU waits on it, and
         * the server may be destroyed once we are gone. */
        if (stopping || fds[FD_IOREQ].revents) {
            rc = ioreq_dispatch(p->ctx);
            if (rc < 0) {
                emu_logf(&p->log, IOREQ_LOG_ERROR, "dispatch: %s", strerror(-rc));
                return -1;
            }
        }
        if (stopping)
            return 0;
        /* The room now, not at poll time: the guest may have changed it. */
        got = uart_backend_handle(p->backend, &fds[FD_BACKEND], nbe, buf,
                                  uart16550_rx_room(&p->uart));
        if (got)
            uart16550_receive(&p->uart, buf, got);
        uart16550_tx_kick(&p->uart);
    }
}

int main(int argc, char **argv)
{
    struct options o;
    struct uart_prog p = { .log = { .prog = PROG } };
    char err[512], irq_desc[32];
    int rc, sigfd, status = 1;

    parse_args(argc, argv, &o);
    p.log.verbosity = o.common.verbosity;
    p.use_irq = !o.common.no_pic;
    p.irq = o.irq;
    signal(SIGPIPE, SIG_IGN); /* a socket peer going away is not fatal */

    /* The backend first: a bad path is reported before touching the guest. */
    rc = uart_backend_open(o.backend, &p.backend, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, PROG ": --backend %s: %s\n", o.backend, err);
        return rc == -EINVAL ? EMU_EXIT_USAGE : 1;
    }
    uart_backend_set_note(p.backend, on_backend_note, &p);
    if (strcmp(o.backend, "pty") == 0) {
        printf(PROG ": %s\n", uart_backend_describe(p.backend));
        fflush(stdout);
    }
    uart16550_init(&p.uart, &uart_ops, &p);

    sigfd = open_signalfd();
    if (sigfd < 0) {
        fprintf(stderr, PROG ": signalfd: %s\n", strerror(errno));
        goto out_backend;
    }

    if (emu_open(&o.common, !o.common.no_pic, &p.log, &p.ctx) < 0)
        goto out_signal;
    rc = ioreq_add_port_region(p.ctx, o.base, UART_NR_REGS, &region_ops, &p.uart, NULL);
    if (rc < 0) {
        fprintf(stderr, PROG ": ports 0x%x-0x%x: %s\n", o.base, o.base + UART_NR_REGS - 1,
                strerror(-rc));
        goto out_ctx;
    }
    /*
     * The model starts with its line low; make the guest's agree, in case a
     * previous instance died with it high (an edge-triggered PIC would
     * otherwise never see the next interrupt).  Before ioreq_start(), which
     * may serve a request left over by that instance and raise it again.
     */
    set_irq(&p, false);
    if (p.use_irq)
        snprintf(irq_desc, sizeof(irq_desc), "ISA IRQ %u", p.irq);
    else
        snprintf(irq_desc, sizeof(irq_desc), "no IRQ (polled)");
    if (emu_start(&o.common, p.ctx, &p.log, "16550A at 0x%x-0x%x, %s, ioreq server %u, %s",
                  o.base, o.base + UART_NR_REGS - 1, irq_desc, ioreq_server_id(p.ctx),
                  uart_backend_describe(p.backend)) < 0)
        goto out_ctx;

    if (serve(&p, sigfd) == 0)
        status = 0;
    set_irq(&p, false); /* the device is going away */

out_ctx:
    ioreq_close(p.ctx); /* finishes the request in flight */
    p.ctx = NULL;
out_signal:
    close(sigfd);
out_backend:
    uart16550_tx_kick(&p.uart); /* what the line would still take */
    uart_backend_close(p.backend);
    return status;
}
