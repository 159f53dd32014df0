/*
 * A single-threaded platform for unit tests of the hypervisor core.
 *
 * It counts every resource the core takes and gives back, can fail the
 * N-th acquisition of any kind on demand, records notifications, kicks,
 * pauses, crashes and interrupts, and plays the emulator: when the core
 * blocks a vCPU, the test's `on_block` hook runs in its place (the core has
 * dropped its lock by then, so the hook may issue dm_ops too).
 */
#ifndef FAKE_PLATFORM_H
#define FAKE_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>

#include "hvio.h"

#define FAKE_MAX_PORTS 4096
#define FAKE_MAX_DOMAINS 64
#define FAKE_MAX_IRQS 64
#define FAKE_BLOCK_LIMIT 100000 /* blocks in one test: more is a hang, abort */
#define FAKE_CONSOLE_LINES 16
#define FAKE_GUEST_RAM 4096     /* bytes of guest RAM at GPA 0, for every domain */

enum fake_resource { FAKE_MEM, FAKE_PAGE, FAKE_EVTCHN, FAKE_LOCK, FAKE_NR_KINDS };

struct fake_port {
    bool used;
    domid_t domid;
    unsigned int vcpu_id;
    domid_t remote;
    unsigned int notified; /* how often the core notified it */
};

struct fake_platform;
typedef void (*fake_block_hook)(struct fake_platform *fp, domid_t domid,
                                unsigned int vcpu_id);

struct fake_platform {
    struct hvio_platform_ops ops; /* pass &fp->ops, fp as ctx */

    /* Fail the acquisition numbered fail_at (1-based, all kinds); 0: never. */
    unsigned long fail_at;
    unsigned long acquired;            /* acquisitions attempted so far */
    long live[FAKE_NR_KINDS];          /* currently held, per kind */

    struct fake_port port[FAKE_MAX_PORTS]; /* index = port number */
    unsigned int notifications;        /* total evtchn_notify calls */
    evtchn_port_t last_notified;

    unsigned int kicks[FAKE_MAX_DOMAINS][HVIO_MAX_VCPUS];
    unsigned int blocks;               /* vcpu_block calls */
    fake_block_hook on_block;
    void *hook_data;                   /* for the test's hook */

    int pause_depth[FAKE_MAX_DOMAINS];
    int max_pause_depth;
    unsigned int pauses;

    unsigned int crashes;
    domid_t crashed_domid;
    const char *crash_reason;

    struct hvio_irq_event irq[FAKE_MAX_IRQS];
    domid_t irq_domid[FAKE_MAX_IRQS];
    unsigned int nr_irqs;

    int locks_held; /* the core never nests more than host+domain */

    /* Debug console lines (the first FAKE_CONSOLE_LINES), and guest RAM. */
    char console[FAKE_CONSOLE_LINES][HVIO_CONSOLE_LINE_MAX];
    domid_t console_domid[FAKE_CONSOLE_LINES];
    int console_locks_held[FAKE_CONSOLE_LINES]; /* locks held during the call */
    unsigned int nr_console;
    uint8_t guest_ram[FAKE_GUEST_RAM];
    unsigned int guest_reads; /* copy_from_guest calls */
};

void fake_platform_init(struct fake_platform *fp);
/* Number of live resources of every kind. */
long fake_live_total(const struct fake_platform *fp);
/* Ports currently allocated. */
unsigned int fake_ports_live(const struct fake_platform *fp);

#endif
