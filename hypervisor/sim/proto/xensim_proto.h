/*
 * The xensim wire protocol, spoken between the simulator daemon and its
 * clients: the drop-in Xen libraries (one connection per handle) and the
 * `xensim` CLI.
 *
 * Transport: a unix SOCK_SEQPACKET socket (path in $XENSIM_SOCKET), one
 * message per request and one per reply, file descriptors passed with
 * SCM_RIGHTS.  Every message starts with struct xensim_hdr; `len` counts the
 * whole message.  Integers are host-endian (both ends are on one machine).
 * A request the daemon cannot parse gets a reply with err = EINVAL, or the
 * connection is closed; it never takes the daemon down.
 *
 * The first request on a connection is XENSIM_HELLO.  Until then, nothing
 * else is accepted.  Each connection acts as one domain (dom0 unless HELLO
 * says otherwise) and may be restricted to one target domain, as the real
 * libraries' *_restrict calls do.
 */
#ifndef XENSIM_PROTO_H
#define XENSIM_PROTO_H

#include <stdbool.h>
#include <stdint.h>

#define XENSIM_PROTO_VERSION 2 /* 2: GUEST_RUN's first_vcpu, dominfo's busy_vcpus */
#define XENSIM_MSG_MAX 65536u /* bytes, header included */
#define XENSIM_MAX_FDS 4      /* per message */
#define XENSIM_SOCKET_ENV "XENSIM_SOCKET"
#define XENSIM_DOMID_ENV "XENSIM_DOMID" /* optional: act as this domain */

enum xensim_msg_type {
    XENSIM_HELLO = 1,

    /* libxendevicemodel */
    XENSIM_DM_OP = 0x100,
    XENSIM_DM_RESTRICT,

    /* libxenforeignmemory */
    XENSIM_FMEM_MAP = 0x200,
    XENSIM_FMEM_MAP_RESOURCE,
    XENSIM_FMEM_RESOURCE_SIZE,
    XENSIM_FMEM_RESTRICT,

    /* libxenevtchn */
    XENSIM_EVTCHN_BIND_INTERDOMAIN = 0x300,
    XENSIM_EVTCHN_BIND_UNBOUND,
    XENSIM_EVTCHN_UNBIND,
    XENSIM_EVTCHN_NOTIFY,
    XENSIM_EVTCHN_RESTRICT,

    /* the xensim CLI and tests */
    XENSIM_DOMAIN_CREATE = 0x400,
    XENSIM_DOMAIN_DESTROY,
    XENSIM_DOMAIN_LIST,
    XENSIM_GUEST_RUN,
    XENSIM_IRQ_LOG,
    XENSIM_SHUTDOWN,

    /* domain pause and information: the CLI and the libxenctrl drop-in */
    XENSIM_DOMAIN_PAUSE = 0x500,
    XENSIM_DOMAIN_UNPAUSE,
    XENSIM_DOMAIN_GETINFO,
};

struct xensim_hdr {
    uint32_t type;   /* enum xensim_msg_type; replies echo it */
    uint32_t len;    /* whole message, header included */
    uint32_t seq;    /* echoed in the reply */
    int32_t err;     /* replies: 0 or a positive errno */
};

/* ---- XENSIM_HELLO ---- */

enum xensim_client_kind {
    XENSIM_CLIENT_DEVICEMODEL = 1,
    XENSIM_CLIENT_FOREIGNMEMORY,
    XENSIM_CLIENT_EVTCHN,
    XENSIM_CLIENT_CONTROL,
    XENSIM_CLIENT_XENCTRL, /* may send XENSIM_DOMAIN_PAUSE..GETINFO only */
};

struct xensim_hello {
    struct xensim_hdr hdr;
    uint32_t version;  /* XENSIM_PROTO_VERSION */
    uint32_t kind;     /* enum xensim_client_kind */
    uint32_t domid;    /* the domain this client acts as (0: dom0) */
    uint32_t pid;      /* for logs */
};
/*
 * Reply: a bare header.  For XENSIM_CLIENT_EVTCHN it carries two fds: the
 * handle's event socket (SOCK_STREAM) and its event page (a memfd of
 * XENSIM_EVTCHN_PAGE_SIZE bytes, struct xensim_evtchn_page, mapped shared by
 * both ends).  See "event channels" below.  Clients refuse a reply without
 * the page (there is no unmasking through the socket alone).
 */

/* ---- XENSIM_DM_OP: HYPERVISOR_dm_op ---- */

#define XENSIM_DM_MAX_BUFS 4

struct xensim_dm_op {
    struct xensim_hdr hdr;
    uint32_t domid;
    uint32_t nr_bufs;
    uint32_t buf_size[XENSIM_DM_MAX_BUFS];
    /* followed by the buffers' bytes, back to back; buf 0 is a struct xen_dm_op */
};
/* Reply: the same layout, with the buffers as the hypervisor left them. */

/* ---- XENSIM_*_RESTRICT ---- */

struct xensim_restrict {
    struct xensim_hdr hdr;
    uint32_t domid;
};

/* ---- XENSIM_FMEM_MAP: map guest frames ---- */

/* Per request, so that the reply (header + 16 bytes a frame) fits a message. */
#define XENSIM_FMEM_MAX_PAGES 4094

struct xensim_fmem_map {
    struct xensim_hdr hdr;
    uint32_t domid;
    uint32_t prot;  /* PROT_READ / PROT_WRITE */
    uint32_t nr;
    uint32_t pad;
    uint64_t gfn[];  /* nr frames */
};

/* Where one requested frame lives: in which passed fd, at what offset. */
struct xensim_frame {
    int32_t err;      /* 0, or a positive errno for this frame */
    uint32_t fd_index;
    uint64_t offset;  /* byte offset of the frame in that fd */
};

/*
 * A frame whose fd did not fit the reply's XENSIM_MAX_FDS gets err = E2BIG:
 * the client asks again for those frames.  prot carries only PROT_READ and
 * PROT_WRITE.
 */
struct xensim_fmem_map_reply {
    struct xensim_hdr hdr;
    uint32_t nr;
    uint32_t nr_fds;  /* fds passed with this message */
    struct xensim_frame frame[];
};

/* ---- XENSIM_FMEM_MAP_RESOURCE / _RESOURCE_SIZE: acquire_resource ---- */

struct xensim_fmem_resource {
    struct xensim_hdr hdr;
    uint32_t domid;
    uint32_t type;      /* XENMEM_resource_* */
    uint32_t id;
    uint32_t pad;
    uint64_t frame;
    uint64_t nr_frames;
};

/*
 * MAP_RESOURCE reply: the frames, each in its own fd; a request asks for at
 * most XENSIM_MAX_FDS frames.  RESOURCE_SIZE is sent with frame = nr_frames
 * = 0 and answers in `size`.  Error replies may be a bare header.
 */
struct xensim_fmem_resource_reply {
    struct xensim_hdr hdr;
    uint32_t nr_frames;
    uint32_t pad;
    uint64_t size;      /* RESOURCE_SIZE: bytes */
    struct xensim_frame frame[XENSIM_MAX_FDS];
};

/* ---- event channels ---- */

/*
 * Delivery follows Linux's /dev/xen/evtchn: an event on an unmasked port is
 * delivered, the daemon writing the port as a uint32_t to the handle's event
 * socket, and the port is masked from then on; events arriving meanwhile
 * are latched, at most one per port; unmasking delivers a latched event.
 * Each unmask lets at most one delivery through: none is lost, none doubled.
 *
 * The mask and latch live in the event page, as Xen's mask and pending bits
 * live in shared memory, so that unmasking costs no system call unless an
 * event is latched.  Bit (port % 64) of word (port / 64) is the handle's
 * local port `port` (ports of the domain the handle acts as).  Every access
 * is a sequentially consistent atomic (__atomic builtins, __ATOMIC_SEQ_CST:
 * the unmask and the latch below form a Dekker pair).  Who does what:
 *
 *   masked   set by the daemon only, when it delivers; cleared by the client
 *            (xenevtchn_unmask), or by the daemon when the port is closed.
 *   pending  set by the daemon when an event finds the port masked; cleared
 *            by the daemon only, when it delivers (a delivery covers the
 *            latched event), or when the port is closed.
 *
 * The daemon's side runs under one lock (per event table), so two daemon
 * threads never race on a bit; only the client's unmask runs concurrently.
 * Client: clear masked, then read pending; if set, write the port to the
 * event socket (an "unmask record"): the daemon then delivers the latched
 * event unless it has done so already.  Daemon, on an event: set masked;
 * if it was clear, deliver; else set pending, then read masked: if clear
 * (an unmask raced with the latch), deliver the latched event itself.  Of
 * the two reads at least one sees the other side's write; delivering a
 * latched event (xensim_evtchn_take_latched) claims it by clearing pending
 * with an atomic exchange, so it is delivered exactly once.  A record that
 * finds nothing latched, or the port masked again, does nothing.
 */
#define XENSIM_EVTCHN_PORTS 4096     /* per domain, port 0 unused */
#define XENSIM_EVTCHN_PAGE_SIZE 4096 /* bytes, the memfd's size */

struct xensim_evtchn_page {
    uint64_t masked[XENSIM_EVTCHN_PORTS / 64];
    uint64_t pending[XENSIM_EVTCHN_PORTS / 64];
};
_Static_assert(sizeof(struct xensim_evtchn_page) <= XENSIM_EVTCHN_PAGE_SIZE,
               "the event page holds both bitmaps");

#define XENSIM_EVTCHN_BIT_(port) ((uint64_t)1 << ((port) % 64))

/* A test may define this to run the other side's steps in the daemon's race windows. */
#ifndef XENSIM_EVTCHN_STEP
#define XENSIM_EVTCHN_STEP() ((void)0)
#endif

/*
 * Client: unmask `port` (< XENSIM_EVTCHN_PORTS).  True when an event is
 * latched: write the port to the event socket so that the daemon delivers it.
 */
static inline bool xensim_evtchn_unmask(struct xensim_evtchn_page *pg, uint32_t port)
{
    __atomic_fetch_and(&pg->masked[port / 64], ~XENSIM_EVTCHN_BIT_(port), __ATOMIC_SEQ_CST);
    return __atomic_load_n(&pg->pending[port / 64], __ATOMIC_SEQ_CST) & XENSIM_EVTCHN_BIT_(port);
}

/*
 * Daemon: if `port` is unmasked and has a latched event, claim the event
 * and mask the port.  True: deliver it.  For unmask records, and below.
 */
static inline bool xensim_evtchn_take_latched(struct xensim_evtchn_page *pg, uint32_t port)
{
    const uint64_t bit = XENSIM_EVTCHN_BIT_(port);

    if (__atomic_load_n(&pg->masked[port / 64], __ATOMIC_SEQ_CST) & bit)
        return false; /* held by the client: its unmask will look again */
    XENSIM_EVTCHN_STEP();
    if (!(__atomic_fetch_and(&pg->pending[port / 64], ~bit, __ATOMIC_SEQ_CST) & bit))
        return false; /* nothing latched, or delivered already */
    XENSIM_EVTCHN_STEP();
    __atomic_fetch_or(&pg->masked[port / 64], bit, __ATOMIC_SEQ_CST);
    return true;
}

/* Daemon: an event arrives at `port`.  True: deliver it (the port is masked now). */
static inline bool xensim_evtchn_raise(struct xensim_evtchn_page *pg, uint32_t port)
{
    const uint64_t bit = XENSIM_EVTCHN_BIT_(port);

    const uint64_t was = __atomic_fetch_or(&pg->masked[port / 64], bit, __ATOMIC_SEQ_CST);

    XENSIM_EVTCHN_STEP();
    if (!(was & bit)) {
        /* An event latched before an unmask (its record on the way) is covered too. */
        __atomic_fetch_and(&pg->pending[port / 64], ~bit, __ATOMIC_SEQ_CST);
        return true;
    }
    __atomic_fetch_or(&pg->pending[port / 64], bit, __ATOMIC_SEQ_CST);
    XENSIM_EVTCHN_STEP();
    return xensim_evtchn_take_latched(pg, port); /* an unmask may have raced with the latch */
}

/* Daemon: `port` is closed or reopened: no mask, nothing latched. */
static inline void xensim_evtchn_reset(struct xensim_evtchn_page *pg, uint32_t port)
{
    __atomic_fetch_and(&pg->masked[port / 64], ~XENSIM_EVTCHN_BIT_(port), __ATOMIC_SEQ_CST);
    __atomic_fetch_and(&pg->pending[port / 64], ~XENSIM_EVTCHN_BIT_(port), __ATOMIC_SEQ_CST);
}

struct xensim_evtchn {
    struct xensim_hdr hdr;
    uint32_t domid;       /* BIND_INTERDOMAIN, BIND_UNBOUND: the remote domain */
    uint32_t port;        /* BIND_INTERDOMAIN: remote port; UNBIND, NOTIFY: local port */
};

/*
 * Reply to a bind: `port` is the new local port.  When the remote end is a
 * hypervisor channel that wakes a vCPU, the reply also carries that vCPU's
 * doorbell (an eventfd): the client notifies by writing 1 to it, which
 * wakes the vCPU without a round trip through the daemon.
 */
struct xensim_evtchn_reply {
    struct xensim_hdr hdr;
    uint32_t port;
    uint32_t has_doorbell;
};

/* ---- CLI: domains ---- */

#define XENSIM_NAME_MAX 64

enum xensim_domain_type { XENSIM_DOMAIN_HVM = 1, XENSIM_DOMAIN_PVH = 2 };

struct xensim_domain_create {
    struct xensim_hdr hdr;
    char name[XENSIM_NAME_MAX]; /* NUL-terminated */
    uint32_t type;              /* enum xensim_domain_type */
    uint32_t vcpus;
    uint64_t memory_bytes;
    uint32_t domid;             /* 0: the daemon picks the lowest free id >= 1 */
    uint32_t flags;             /* XENSIM_CREATE_PAUSED, or 0 */
};
/* Reply: struct xensim_domain_info. */

struct xensim_domain_info {
    struct xensim_hdr hdr;
    char name[XENSIM_NAME_MAX];
    uint32_t domid;
    uint32_t type;
    uint32_t vcpus;
    uint32_t nr_servers;
    uint64_t memory_bytes;
};

struct xensim_domain_ref {
    struct xensim_hdr hdr;
    uint32_t domid;
    uint32_t pad;
};
/*
 * DOMAIN_LIST reply: header, uint32_t count, then count domain_info bodies
 * (each without its header), packed: read them with memcpy, they are not
 * 8-byte aligned.  Dom0 has type 0.
 */

/* ---- CLI: guest scripts ---- */

/*
 * Run one script per vCPU, concurrently.  The request carries the scripts'
 * names and texts; the reply arrives when all have finished.
 */
struct xensim_guest_run {
    struct xensim_hdr hdr;
    uint32_t domid;
    uint32_t nr_scripts;     /* first_vcpu + nr_scripts: at most the domain's vCPU count */
    uint32_t timeout_ms;     /* whole run; 0: the daemon's default */
    uint32_t flags;          /* XENSIM_GUEST_RUN_TRACE, or 0 (other bits: EINVAL) */
    uint32_t first_vcpu;     /* script i runs on vCPU first_vcpu + i */
    /* followed by nr_scripts records: uint32_t name_len, uint32_t text_len, name, text */
};

/*
 * XENSIM_GUEST_RUN_TRACE: the reply also carries one file descriptor, a
 * memfd holding the run's trace: "v<vCPU> <trace line>" for every script
 * line run and each script's END line (guest_script.h, "Traces"), and
 * "(d<domid>) <line>" for each line the guest printed on Xen's debug
 * console (port 0xE9) during the run, in the order they happened.  At most
 * one traced run per domain at a time (EBUSY).  A vCPU runs one script at a
 * time: a run wanting a vCPU another run has is refused (EBUSY).
 */
#define XENSIM_GUEST_RUN_TRACE 1u

/*
 * Reply: err = 0 when every line held; EIO when an expectation failed, the
 * run stopped or timed out; EINVAL for a malformed request, vCPUs the
 * domain lacks or a script that does not parse; EBUSY for a vCPU or the
 * trace taken (above); ESRCH for no such domain.  The body is a
 * NUL-terminated report: with EIO, one line per failure, "FILE:LINE:
 * expected X, got Y" (or what went wrong); otherwise, when there is one, why
 * the run was refused (the parse error, the busy vCPU).
 */

/* ---- CLI/tests: interrupts recorded for a domain ---- */

struct xensim_irq_record {
    uint32_t kind;     /* enum hvio_irq_kind */
    uint32_t line;     /* ISA irq, or (device << 2 | intx) for INTx */
    uint32_t level;
    uint32_t msi_data;
    uint64_t msi_addr;
};
/*
 * XENSIM_IRQ_LOG request: xensim_domain_ref; reply: header, uint32_t count,
 * then the most recent records, oldest first, packed (read with memcpy).
 */

/* ---- domain pause and information (libxenctrl, CLI) ---- */

/*
 * What Xen's XEN_DOMCTL_pausedomain, XEN_DOMCTL_unpausedomain and
 * XEN_SYSCTL_getdomaininfolist do, for the CLI (XENSIM_CLIENT_CONTROL) and
 * the libxenctrl drop-in (XENSIM_CLIENT_XENCTRL, which may send nothing
 * else).  As with Xen's default policy only the control domain may: a
 * client acting as any other domain gets EPERM.
 *
 * XENSIM_DOMAIN_PAUSE / XENSIM_DOMAIN_UNPAUSE: struct xensim_domain_ref;
 * the reply is a bare header.  They move the toolstack's pause count (Xen's
 * controller_pause_count): PAUSE adds one (EOVERFLOW past
 * XENSIM_PAUSE_MAX), UNPAUSE takes one away (EINVAL when it is 0).  The
 * domain's vCPUs (guest scripts) run only while it is 0 and the core has
 * no pause of its own on the domain.  ESRCH: no such domain; EINVAL:
 * pausing the domain the client acts as (Xen refuses to pause the caller).
 * A domain created with XENSIM_CREATE_PAUSED starts with a count of 1, as
 * `xl create -p` leaves it.
 */
#define XENSIM_CREATE_PAUSED 1u /* struct xensim_domain_create.flags */
#define XENSIM_PAUSE_MAX 255

/*
 * XENSIM_DOMAIN_GETINFO: the domains whose domid is >= first_domid, in
 * ascending order, at most `max` of them (and at most XENSIM_GETINFO_MAX:
 * ask again from the last domid + 1 for more).  The reply is struct
 * xensim_domain_getinfo_reply; `count` may be 0.
 */
struct xensim_domain_getinfo {
    struct xensim_hdr hdr;
    uint32_t first_domid;
    uint32_t max;
};

/* One domain, as XEN_DOMCTL_getdomaininfo describes it, plus xensim's view. */
struct xensim_dominfo {
    char name[XENSIM_NAME_MAX];
    uint32_t domid;
    uint32_t type;            /* enum xensim_domain_type, 0 for dom0 */
    uint32_t flags;           /* XEN_DOMINF_* of <xen/domctl.h> */
    uint32_t emulation_flags; /* XEN_X86_EMU_* of <xen/arch-x86/xen.h>, as libxl sets them */
    uint32_t nr_online_vcpus;
    uint32_t max_vcpu_id;     /* ~0u without vCPUs (XEN_INVALID_MAX_VCPU_ID) */
    uint64_t tot_pages;       /* 4 KiB pages of guest RAM */
    uint64_t max_pages;
    uint32_t pause_count;     /* the toolstack's, above */
    uint32_t nr_servers;      /* ioreq servers */
    uint32_t refused_irqs;    /* ISA IRQ and INTx dm_ops refused: no emulated PIC/IOAPIC */
    uint32_t busy_vcpus;      /* vCPUs a guest run holds (also while paused) */
};

struct xensim_domain_getinfo_reply {
    struct xensim_hdr hdr;
    uint32_t count;
    uint32_t pad;
    struct xensim_dominfo info[];
};

#define XENSIM_GETINFO_MAX                                                             \
    ((XENSIM_MSG_MAX - sizeof(struct xensim_domain_getinfo_reply)) /                   \
     sizeof(struct xensim_dominfo))

#endif /* XENSIM_PROTO_H */
