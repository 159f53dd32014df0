/*
 * ioreq-routerd's model (docs/router.md).
 *
 * What the router *wants* comes from config files and xenstore entries and
 * is assembled into `struct want_guest`s (desired.c).  What *runs* is a
 * `struct guest` per picked-up domain, holding one `struct emu` per
 * emulator: its ioreq server, its process and its supervision state
 * (emu.c).  reconcile() (reconcile.c) moves what runs towards what is
 * wanted; it is called after every event and is idempotent.
 */
#ifndef ROUTERD_H
#define ROUTERD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "router_config.h"
#include "xen_host.h"

#define ROUTERD_XS_ROOT "/tool/ioreq-router"
#define ROUTERD_STOP_GRACE_MS 3000u /* SIGTERM, then SIGKILL after this */

enum emu_state {
    EMU_STARTING,   /* process started, not ready yet (first start) */
    EMU_RUNNING,    /* ready and serving */
    EMU_RESTARTING, /* crashed: waiting for the backoff, or restarted and not ready yet */
    EMU_STOPPING,   /* asked to exit; the server goes once it has */
    EMU_STOPPED,    /* not running by request (or exited cleanly); no server */
    EMU_FAILED,     /* gave up: crash loop, or failed without a restart policy; no server */
};

const char *emu_state_name(enum emu_state s);
void emu_format_status(int status, char *buf, size_t len); /* "exited N", "killed by SIGKILL" */

/* Why an emulator is being stopped: decides what happens once it has exited. */
enum emu_stop_goal {
    EMU_GOAL_NONE,
    EMU_GOAL_STOP,    /* operator stop: stay stopped */
    EMU_GOAL_RESTART, /* operator restart: start again, keep the server */
    EMU_GOAL_REMOVE,  /* config removed or changed: destroy and forget */
};

#define EMU_HISTORY ROUTER_RESTART_MAX_RESTARTS /* restart times kept for the crash-loop window */

/* The keys under state/<domid>/<id> (docs/router.md, xenstore layout). */
enum emu_key { EMU_KEY_STATE, EMU_KEY_PID, EMU_KEY_SERVER, EMU_KEY_RESTARTS, EMU_KEY_EXIT,
               EMU_KEY_ERROR, EMU_NKEYS };

struct guest;

struct emu {
    struct guest *guest;
    struct router_emulator cfg; /* a copy, owned */
    char *where;                /* where the config came from, for logs */
    enum emu_state state;
    enum emu_stop_goal goal;

    bool have_server;
    uint16_t server;
    pid_t pid;                  /* 0: no process */
    int ready_fd;               /* read end of the readiness pipe, -1 */
    char ready_buf[32];
    size_t ready_len;
    bool ever_ready;            /* this server has had a ready emulator */

    uint64_t deadline_ms;       /* ready timeout, backoff end or kill time; 0 none */
    uint64_t started_ms;        /* when the current process was started */
    unsigned starts, restarts;
    uint64_t restart_times[EMU_HISTORY];
    unsigned nrestart_times;
    bool has_exit;
    int exit_status;            /* waitpid status of the last exit */
    char error[256];            /* last problem, published as "error" */

    /* What xenstore holds for each key, so that unchanged values are not
     * written again: the value (NULL: absent), valid where the bit in
     * `published_known` is set. */
    char *published[EMU_NKEYS];
    unsigned published_known;
};

struct guest {
    char *name;
    uint16_t domid;
    bool holding;    /* we hold a pause reference of our own (counted, as
                      * XEN_DOMCTL_pausedomain is): ours alone to drop */
    bool hold_stuck_logged; /* "held paused: N failed" said once */
    struct emu *emus[ROUTER_MAX_EMULATORS_PER_GUEST];
    size_t nemus;
};

/* A process we no longer track as an emulator (its guest is gone). */
struct orphan {
    pid_t pid;
    uint64_t kill_ms;
};

struct want_emu {
    struct router_emulator *cfg; /* borrowed from the file config or the xenstore cache */
    const char *where;
};

struct want_guest {
    const char *name;
    bool has_domid;
    uint32_t domid;
    bool hold;
    struct want_emu emus[ROUTER_MAX_EMULATORS_PER_GUEST];
    size_t nemus;
};

/* What errors/<guest>/<id> holds for an entry. */
enum xs_entry_error {
    XS_ERROR_NONE,
    XS_ERROR_UNKNOWN, /* not looked at yet (maybe left from before) */
    XS_ERROR_INVALID, /* the latest text does not validate */
    XS_ERROR_CLASH,   /* valid alone, but not with the rest of its guest */
};

/* One xenstore emulator entry, as last read; a bad update keeps `good`. */
struct xs_entry {
    char *guest, *id;
    char *text;                      /* the value last read */
    struct router_emulator *good;    /* the last valid parse, or NULL */
    char *where;
    bool seen;                       /* present in the latest scan */
    bool accepted;                   /* part of the wants last time */
    enum xs_entry_error error;       /* what errors/<guest>/<id> holds */
};

struct routerd_opts {
    const char **config_files;
    size_t nconfig_files;
    const char *exec_path;
    const char *log_dir;
    const char *socket_path;
    const char *ctl_group;
    bool verbose;
};

struct routerd {
    struct routerd_opts opts;
    struct xen_host *xen;
    struct router_config **file_cfgs; /* one per file */

    struct xs_entry *xs_entries;
    size_t nxs_entries;

    struct want_guest *wants;
    size_t nwants;
    char **where_pool; /* the wants' `where` strings */
    size_t nwhere_pool;

    struct guest **guests;
    size_t nguests;

    struct orphan *orphans;
    size_t norphans;

    struct ctl_server *ctl;
    int epfd, sigfd;
    bool stopping;          /* SIGTERM: everything is going down */
    uint64_t rescan_ms;     /* a domain without a name yet: look again then */
    unsigned rescans_left;
};

/* Every emulator of every guest, E set in turn.  Nested loops: leave with
 * return, not break.  The body must not add or remove guests or emulators. */
#define FOR_EACH_EMU(r, e)                                                        \
    for (size_t gi_ = 0; gi_ < (r)->nguests; gi_++)                               \
        for (size_t ei_ = 0;                                                      \
             ei_ < (r)->guests[gi_]->nemus && ((e) = (r)->guests[gi_]->emus[ei_], 1); \
             ei_++)

/* ---- log.c ---- */
void rlog(const struct guest *g, const struct emu *e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void rlog_set_verbose(bool on);
void rdebug(const struct guest *g, const struct emu *e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
uint64_t now_ms(void);

/* ---- desired.c: files + xenstore -> wants ---- */
int routerd_load_files(struct routerd *r, bool initial);
int routerd_read_xs_entries(struct routerd *r);
int routerd_build_wants(struct routerd *r);
void routerd_free_config(struct routerd *r);

/* ---- emu.c: one emulator's lifecycle ---- */
struct emu *emu_new(struct guest *g, const struct router_emulator *cfg, const char *where);
void emu_free(struct emu *e);
void emu_start(struct routerd *r, struct emu *e);             /* fresh: new server */
void emu_request_stop(struct routerd *r, struct emu *e, enum emu_stop_goal goal);
void emu_on_ready_fd(struct routerd *r, struct emu *e);
void emu_on_exit(struct routerd *r, struct emu *e, int status);
void emu_on_deadline(struct routerd *r, struct emu *e);
/* The guest is gone: its process becomes an orphan (SIGTERM, later
 * SIGKILL), its server is destroyed and e is freed. */
void emu_abandon(struct routerd *r, struct emu *e);

/* ---- guest.c ---- */
struct guest *guest_find_domid(struct routerd *r, uint16_t domid);
struct guest *guest_find_name(struct routerd *r, const char *name);
struct emu *guest_find_emu(struct guest *g, const char *id);
void guest_check_hold(struct routerd *r, struct guest *g);
void guest_release_hold(struct routerd *r, struct guest *g, const char *why);
void guest_teardown(struct routerd *r, struct guest *g);
const struct want_guest *routerd_want_for(struct routerd *r, const char *name, uint16_t domid);
void routerd_scan_domains(struct routerd *r);
void routerd_check_released(struct routerd *r);
void routerd_add_orphan(struct routerd *r, pid_t pid);

/* ---- reconcile.c ---- */
void reconcile(struct routerd *r);
void routerd_reap(struct routerd *r);

/* ---- control.c ---- */
int routerd_control_open(struct routerd *r);

/* ---- main.c: the event loop's fds (identified by number) ---- */
void routerd_watch_fd(struct routerd *r, int fd);
void routerd_unwatch_fd(struct routerd *r, int fd);

#endif
