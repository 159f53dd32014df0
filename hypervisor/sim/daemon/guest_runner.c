/*
 * XENSIM_GUEST_RUN: one thread per script, each driving one vCPU of the
 * domain through the hypervisor core, under a watchdog.  The reply (the
 * failure report, and with XENSIM_GUEST_RUN_TRACE a memfd holding the
 * trace) is sent from the coordinating thread when all are done.
 */
#define _GNU_SOURCE /* memfd_create */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "guest_runner.h"
#include "guest_script.h"
#include "guest_trace.h"
#include "proto_io.h"

#define DEFAULT_TIMEOUT_MS 30000
#define REPORT_MAX 8192
#define TRACE_MAX (64u << 20) /* bytes of one run's trace */
#define TRACE_CUT "(trace cut: longer than 64 MiB)\n"

/* Where a traced run's lines go: a memfd the reply hands to the client. */
struct guest_trace_sink {
    pthread_mutex_t lock; /* one line at a time */
    int fd;
    size_t bytes;         /* written so far */
    bool failed;          /* a write failed or the trace was cut: it is incomplete */
};

struct vcpu_run {
    struct guest_run *run;
    unsigned int vcpu_id;
    struct hvio_vcpu *vcpu;
    struct guest_script *script;
    unsigned int irq_cursor; /* interrupts seen: those before the run, and consumed by wait-irq */
    char report[REPORT_MAX];
    int failures;
    bool started; /* its thread exists (and must be joined) */
    pthread_t thread;
};

struct guest_run {
    struct request rq;        /* header copied: the message buffer is gone */
    struct xensim_hdr hdr;
    struct sim *sim;
    struct sim_domain *domain;
    unsigned int timeout_ms;
    unsigned int nr;
    unsigned int finished;    /* under domain->lock */
    struct guest_trace_sink *trace; /* NULL: not traced */
    struct vcpu_run vcpu[];
};

/* ---- the trace ---- */

static struct guest_trace_sink *sink_new(void)
{
    struct guest_trace_sink *t = calloc(1, sizeof(*t));

    if (!t)
        return NULL;
    t->fd = memfd_create("xensim-guest-trace", MFD_CLOEXEC);
    if (t->fd < 0 || pthread_mutex_init(&t->lock, NULL) != 0) {
        if (t->fd >= 0)
            close(t->fd);
        free(t);
        return NULL;
    }
    return t;
}

static void sink_free(struct guest_trace_sink *t)
{
    if (!t)
        return;
    pthread_mutex_destroy(&t->lock);
    close(t->fd);
    free(t);
}

/* Write all of `buf`; false on an error. */
static bool write_all(int fd, const char *buf, size_t len)
{
    for (size_t done = 0; done < len;) {
        ssize_t w = write(fd, buf + done, len - done);
        if (w > 0)
            done += (size_t)w;
        else if (w < 0 && errno != EINTR)
            return false;
    }
    return true;
}

/*
 * Append "PREFIXline\n".  A trace that would grow past TRACE_MAX (a script
 * can print a great many console lines) ends with the TRACE_CUT line.
 */
static void sink_write(struct guest_trace_sink *t, const char *prefix, const char *line)
{
    char buf[32 + GUEST_TRACE_LINE_MAX + HVIO_CONSOLE_LINE_MAX];
    int n = snprintf(buf, sizeof(buf), "%s%s\n", prefix, line);
    size_t len = n < 0 ? 0 : (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1;

    pthread_mutex_lock(&t->lock);
    if (!t->failed && t->bytes + len > TRACE_MAX - (sizeof(TRACE_CUT) - 1)) {
        t->failed = true;
        write_all(t->fd, TRACE_CUT, sizeof(TRACE_CUT) - 1);
    }
    if (!t->failed) {
        t->failed = !write_all(t->fd, buf, len);
        t->bytes += len;
    }
    pthread_mutex_unlock(&t->lock);
}

static void op_trace(void *ctx, const char *line)
{
    struct vcpu_run *vr = ctx;
    char prefix[16];

    snprintf(prefix, sizeof(prefix), "v%u ", vr->vcpu_id);
    sink_write(vr->run->trace, prefix, line);
}

void guest_run_console(struct sim_domain *d, const char *line)
{
    char prefix[16];

    snprintf(prefix, sizeof(prefix), "(d%u) ", (unsigned int)d->domid);
    pthread_mutex_lock(&d->lock);
    if (d->trace_sink)
        sink_write(d->trace_sink, prefix, line);
    pthread_mutex_unlock(&d->lock);
}

/* Wait while the domain is paused; false once it is crashed or gone. */
static bool wait_runnable(struct sim_domain *d)
{
    pthread_mutex_lock(&d->lock);
    while (d->pause_count > 0 && !d->crashed)
        pthread_cond_wait(&d->changed, &d->lock);
    bool ok = !d->crashed;
    pthread_mutex_unlock(&d->lock);
    return ok;
}

static int op_emulate(void *ctx, ioreq_t *p)
{
    struct vcpu_run *vr = ctx;
    struct sim_domain *d = vr->run->domain;

    if (!wait_runnable(d))
        return -EIO;
    /* An unserved string read: the interpreter fills the buffer with ones. */
    return hvio_emulate(vr->vcpu, p);
}

static int op_mem(struct vcpu_run *vr, uint64_t gpa, size_t len, bool write,
                  void *buf)
{
    struct sim_domain *d = vr->run->domain;

    if (gpa > d->memory_bytes || len > d->memory_bytes - gpa)
        return -EFAULT;
    if (write)
        memcpy(d->ram + gpa, buf, len);
    else
        memcpy(buf, d->ram + gpa, len);
    return 0;
}

static int op_mem_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    return op_mem(ctx, gpa, len, false, buf);
}

static int op_mem_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
    return op_mem(ctx, gpa, len, true, (void *)buf);
}

/* "isa N", "msi", "intx BB:DD.F PIN" (see guest_ops): does the record match? */
static bool irq_matches(const char *what, const struct xensim_irq_record *r)
{
    unsigned int irq, bus, dev, fn;
    char pin;

    if (strcmp(what, "msi") == 0)
        return r->kind == HVIO_IRQ_MSI;
    if (sscanf(what, "isa %u", &irq) == 1)
        return r->kind == HVIO_IRQ_ISA && r->line == irq && r->level == 1;
    if (sscanf(what, "intx %x:%x.%x %c", &bus, &dev, &fn, &pin) == 4 &&
        pin >= 'A' && pin <= 'D')
        return r->kind == HVIO_IRQ_PCI_INTX && r->level == 1 &&
               r->line == (dev << 2 | (unsigned int)(pin - 'A'));
    return false;
}

static void deadline_after(struct timespec *ts, unsigned int ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static int op_wait_irq(void *ctx, const char *what, unsigned int timeout_ms)
{
    struct vcpu_run *vr = ctx;
    struct sim_domain *d = vr->run->domain;
    struct timespec deadline;
    int rc = -ETIMEDOUT;

    deadline_after(&deadline, timeout_ms);
    pthread_mutex_lock(&d->lock);
    for (;;) {
        if (vr->irq_cursor + SIM_IRQ_LOG_SIZE < d->nr_irqs)
            vr->irq_cursor = d->nr_irqs - SIM_IRQ_LOG_SIZE; /* overwritten */
        for (; vr->irq_cursor < d->nr_irqs && rc; vr->irq_cursor++)
            if (irq_matches(what, &d->irq[vr->irq_cursor % SIM_IRQ_LOG_SIZE]))
                rc = 0;
        if (!rc || d->crashed ||
            pthread_cond_timedwait(&d->changed, &d->lock, &deadline) == ETIMEDOUT)
            break;
    }
    if (rc && d->crashed)
        rc = -EIO;
    pthread_mutex_unlock(&d->lock);
    return rc;
}

static int op_invalidate(void *ctx)
{
    struct vcpu_run *vr = ctx;

    return wait_runnable(vr->run->domain) ? hvio_send_invalidate(vr->vcpu) : -EIO;
}

static int op_timeoffset(void *ctx, int64_t delta)
{
    struct vcpu_run *vr = ctx;

    return wait_runnable(vr->run->domain) ? hvio_send_timeoffset(vr->vcpu, delta) : -EIO;
}

/* Sleep, but wake up (with -EIO) when the domain crashes or goes. */
static int op_sleep(void *ctx, unsigned int ms)
{
    struct vcpu_run *vr = ctx;
    struct sim_domain *d = vr->run->domain;
    struct timespec deadline;

    deadline_after(&deadline, ms);
    pthread_mutex_lock(&d->lock);
    while (!d->crashed &&
           pthread_cond_timedwait(&d->changed, &d->lock, &deadline) != ETIMEDOUT)
        ;
    int rc = d->crashed ? -EIO : 0;
    pthread_mutex_unlock(&d->lock);
    return rc;
}

static void op_pci_config_lock(void *ctx)
{
    struct vcpu_run *vr = ctx;

    pthread_mutex_lock(&vr->run->domain->pci_config_lock);
}

static void op_pci_config_unlock(void *ctx)
{
    struct vcpu_run *vr = ctx;

    pthread_mutex_unlock(&vr->run->domain->pci_config_lock);
}

static void *vcpu_thread(void *arg)
{
    struct vcpu_run *vr = arg;
    struct guest_run *run = vr->run;
    struct guest_ops ops = {
        .ctx = vr, .emulate = op_emulate, .mem_read = op_mem_read,
        .mem_write = op_mem_write, .wait_irq = op_wait_irq,
        .invalidate = op_invalidate, .timeoffset = op_timeoffset,
        .sleep = op_sleep, .trace = run->trace ? op_trace : NULL,
        .pci_config_lock = op_pci_config_lock, .pci_config_unlock = op_pci_config_unlock,
    };

    vr->failures = guest_script_run(vr->script, &ops, vr->report, sizeof(vr->report));

    pthread_mutex_lock(&run->domain->lock);
    run->finished++;
    pthread_cond_broadcast(&run->domain->changed);
    pthread_mutex_unlock(&run->domain->lock);
    return NULL;
}

/* Wait for every vCPU thread; past the deadline, crash the domain to stop them. */
static bool wait_all(struct guest_run *run)
{
    struct sim_domain *d = run->domain;
    struct timespec deadline;
    bool timed_out = false;

    deadline_after(&deadline, run->timeout_ms);
    pthread_mutex_lock(&d->lock);
    while (run->finished < run->nr) {
        if (!timed_out &&
            pthread_cond_timedwait(&d->changed, &d->lock, &deadline) == ETIMEDOUT) {
            timed_out = true;
            pthread_mutex_unlock(&d->lock);
            hvio_domain_crash(run->sim->host, d->domid, "guest run timed out");
            pthread_mutex_lock(&d->lock);
        } else if (timed_out) {
            pthread_cond_wait(&d->changed, &d->lock);
        }
    }
    pthread_mutex_unlock(&d->lock);
    return timed_out;
}

/*
 * Reply and let the client go (busy = false).  The client may send its next
 * request as soon as it has the reply, so busy is cleared first, else that
 * request could find the client still busy (EBUSY).  Once busy is clear the
 * main loop may free a closing client: the reply goes out on a duplicate of
 * its socket.
 */
static void send_reply(struct guest_run *run, void *msg, size_t len, int err)
{
    struct client *c = run->rq.client;
    struct xensim_hdr *hdr = msg;
    int fd = fcntl(c->fd, F_DUPFD_CLOEXEC, 0);
    const int *fds = run->trace ? &run->trace->fd : NULL;
    unsigned int nr_fds = run->trace ? 1 : 0;

    if (fd < 0) { /* no fd to spare: the old order, EBUSY possible */
        reply(&run->rq, msg, len, err, fds, nr_fds);
        __atomic_store_n(&c->busy, false, __ATOMIC_RELEASE);
        return;
    }
    hdr->type = run->hdr.type;
    hdr->len = (uint32_t)len;
    hdr->seq = run->hdr.seq;
    hdr->err = err;
    __atomic_store_n(&c->busy, false, __ATOMIC_RELEASE);
    if (proto_send(fd, msg, len, fds, nr_fds) < 0)
        shutdown(fd, SHUT_RDWR); /* as reply() does: the client is dropped */
    close(fd);
}

/*
 * Claim what a run needs, all or nothing, under the domain's lock: its
 * vCPUs (one run per vCPU), the console's trace (one traced run per
 * domain: console lines have one home) and a runner count (the domain
 * stays until the run is over); and note where its interrupts start.
 * EBUSY with a message when taken.
 */
static int claim(struct guest_run *run, char *err, size_t errlen)
{
    struct sim_domain *d = run->domain;
    int rc = 0;

    pthread_mutex_lock(&d->lock);
    for (unsigned int i = 0; !rc && i < run->nr; i++)
        if (d->vcpu[run->vcpu[i].vcpu_id].running) {
            snprintf(err, errlen, "vCPU %u is running another guest run",
                     run->vcpu[i].vcpu_id);
            rc = EBUSY;
        }
    if (!rc && run->trace && d->trace_sink) {
        snprintf(err, errlen, "another traced guest run has the debug console");
        rc = EBUSY;
    }
    if (!rc) {
        for (unsigned int i = 0; i < run->nr; i++)
            d->vcpu[run->vcpu[i].vcpu_id].running = true;
        if (run->trace)
            d->trace_sink = run->trace;
        d->runners++;
        /* wait-irq waits for interrupts of this run, not of earlier ones:
         * those from the moment the domain shows it running. */
        for (unsigned int i = 0; i < run->nr; i++)
            run->vcpu[i].irq_cursor = d->nr_irqs;
    }
    pthread_mutex_unlock(&d->lock);
    return rc;
}

/*
 * The run is over: its vCPUs are free and console lines no longer go to
 * its trace, before the reply, so that a client's next run finds them free.
 */
static void release(struct guest_run *run)
{
    struct sim_domain *d = run->domain;

    pthread_mutex_lock(&d->lock);
    for (unsigned int i = 0; i < run->nr; i++)
        d->vcpu[run->vcpu[i].vcpu_id].running = false;
    if (run->trace && d->trace_sink == run->trace)
        d->trace_sink = NULL;
    pthread_mutex_unlock(&d->lock);
    if (run->trace && run->trace->failed)
        fprintf(stderr, "xensim: domain %u: the guest run's trace is incomplete\n",
                (unsigned int)d->domid);
}

static void finish(struct guest_run *run, bool timed_out)
{
    char *report = calloc(1, XENSIM_MSG_MAX);
    size_t used = sizeof(struct xensim_hdr);
    int failures = 0;

    if (timed_out && report)
        used += (size_t)snprintf(report + used, XENSIM_MSG_MAX - used,
                                 "guest run timed out after %u ms\n", run->timeout_ms);
    for (unsigned int i = 0; i < run->nr; i++) {
        struct vcpu_run *vr = &run->vcpu[i];

        failures += vr->failures;
        if (report && used < XENSIM_MSG_MAX - 1)
            used += (size_t)snprintf(report + used, XENSIM_MSG_MAX - used, "%s", vr->report);
        if (vr->started)
            pthread_join(vr->thread, NULL);
        hvio_vcpu_put(vr->vcpu);
        guest_script_free(vr->script);
    }
    if (used >= XENSIM_MSG_MAX)
        used = XENSIM_MSG_MAX - 1;

    struct xensim_hdr bare;
    release(run);
    if (report)
        send_reply(run, report, used + 1, failures || timed_out ? EIO : 0);
    else
        send_reply(run, &bare, sizeof(bare), ENOMEM);
    free(report);
    sink_free(run->trace);

    struct sim_domain *d = run->domain;
    uint64_t one = 1;
    if (write(run->sim->wake_fd, &one, sizeof(one)) < 0)
        perror("xensim: wake main loop");
    free(run);

    /* Last: once runners drops, the domain (and the daemon) may go away. */
    pthread_mutex_lock(&d->lock);
    d->runners--;
    pthread_cond_broadcast(&d->changed);
    pthread_mutex_unlock(&d->lock);
}

static void *coordinator(void *arg)
{
    struct guest_run *run = arg;

    finish(run, wait_all(run));
    return NULL;
}

/* Parse the request's scripts into `run`; a positive errno and a message on failure. */
static int parse_scripts(struct guest_run *run, const struct xensim_guest_run *req,
                         size_t len, char *err, size_t errlen)
{
    const char *p = (const char *)(req + 1), *end = (const char *)req + len;

    for (unsigned int i = 0; i < run->nr; i++) {
        uint32_t name_len, text_len;

        if ((size_t)(end - p) < 2 * sizeof(uint32_t))
            return EINVAL;
        memcpy(&name_len, p, sizeof(name_len));
        memcpy(&text_len, p + sizeof(name_len), sizeof(text_len));
        p += 2 * sizeof(uint32_t);
        if (name_len == 0 || name_len > 4096 || (size_t)(end - p) < (size_t)name_len + text_len ||
            memchr(p, 0, (size_t)name_len + text_len))
            return EINVAL; /* lengths that lie, or NULs that would cut text short */

        char *name = strndup(p, name_len), *text = strndup(p + name_len, text_len);
        int rc = name && text ? guest_script_parse(name, text, &run->vcpu[i].script, err, errlen)
                              : -ENOMEM;
        free(name);
        free(text);
        if (rc)
            return rc < 0 ? -rc : EINVAL;
        p += name_len + text_len;
    }
    return p == end ? 0 : EINVAL;
}

void guest_run_start(struct request *rq)
{
    const struct xensim_guest_run *req = rq->body;
    struct sim *sim = rq->client->sim;
    struct sim_domain *d = rq->len >= sizeof(*req) && req->domid < DOMID_FIRST_RESERVED
                               ? sim_domain_get(sim, (domid_t)req->domid) : NULL;

    if (!d) {
        reply_error(rq, rq->len >= sizeof(*req) ? ESRCH : EINVAL);
        return;
    }
    if (req->nr_scripts == 0 || req->first_vcpu >= d->nr_vcpus ||
        req->nr_scripts > d->nr_vcpus - req->first_vcpu ||
        (req->flags & ~XENSIM_GUEST_RUN_TRACE)) {
        reply_error(rq, EINVAL);
        return;
    }
    struct guest_run *run = calloc(1, sizeof(*run) + req->nr_scripts * sizeof(run->vcpu[0]));
    if (!run) {
        reply_error(rq, ENOMEM);
        return;
    }
    run->hdr = *rq->hdr;
    run->rq = (struct request){ .client = rq->client, .hdr = &run->hdr };
    run->sim = sim;
    run->domain = d;
    run->nr = req->nr_scripts;
    run->timeout_ms = req->timeout_ms ? req->timeout_ms : DEFAULT_TIMEOUT_MS;

    char err[512] = "";
    int rc = parse_scripts(run, req, rq->len, err, sizeof(err));
    for (unsigned int i = 0; !rc && i < run->nr; i++) {
        unsigned int vcpu_id = req->first_vcpu + i;

        run->vcpu[i] = (struct vcpu_run){ .run = run, .vcpu_id = vcpu_id,
                                          .script = run->vcpu[i].script };
        rc = -hvio_vcpu_get(sim->host, d->domid, vcpu_id, &run->vcpu[i].vcpu);
    }
    if (!rc && (req->flags & XENSIM_GUEST_RUN_TRACE) && !(run->trace = sink_new()))
        rc = ENOMEM;
    if (!rc)
        rc = claim(run, err, sizeof(err));
    if (rc) {
        for (unsigned int i = 0; i < run->nr; i++) {
            hvio_vcpu_put(run->vcpu[i].vcpu);
            guest_script_free(run->vcpu[i].script);
        }
        sink_free(run->trace);
        free(run);
        size_t n = strlen(err);
        char msg[sizeof(struct xensim_hdr) + sizeof(err)];
        memcpy(msg + sizeof(struct xensim_hdr), err, n + 1);
        reply(rq, msg, sizeof(struct xensim_hdr) + n + 1, rc, NULL, 0);
        return;
    }

    rq->client->busy = true;
    for (unsigned int i = 0; i < run->nr; i++) {
        struct vcpu_run *vr = &run->vcpu[i];

        vr->started = pthread_create(&vr->thread, NULL, vcpu_thread, vr) == 0;
        if (!vr->started) { /* reported as a failure of that script */
            snprintf(vr->report, sizeof(vr->report), "%s: cannot start a vCPU thread\n",
                     guest_script_name(vr->script));
            vr->failures = 1;
            if (run->trace)
                op_trace(vr, "END fail 1");
            pthread_mutex_lock(&d->lock);
            run->finished++;
            pthread_mutex_unlock(&d->lock);
        }
    }
    /* Without a coordinator thread, this one coordinates (and the loop waits). */
    pthread_t coord;
    if (pthread_create(&coord, NULL, coordinator, run) == 0)
        pthread_detach(coord);
    else
        coordinator(run);
}
