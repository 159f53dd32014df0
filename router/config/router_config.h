/* router_config: the ioreq router's JSON configuration (docs/config.md).
 *
 * Parsing and validation only: nothing is started.  Every problem found is
 * appended to a struct config_errors as one line
 *     "FILE: JSON.PATH: plain sentence"
 * e.g. `demo.json: guests[0].emulators[1].ports[0]: overlaps "uart0" 0x3f8-0x3ff`.
 * The library never prints, never exits and keeps no global state. */
#ifndef ROUTER_CONFIG_H
#define ROUTER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ROUTER_MAX_EMULATORS_PER_GUEST 8 /* Xen: ioreq servers per guest */
#define ROUTER_MAX_DOMID 0x7fef          /* DOMID_FIRST_RESERVED - 1 */

enum router_bufioreq {
    ROUTER_BUFIOREQ_OFF = 0,
    ROUTER_BUFIOREQ_LEGACY,
    ROUTER_BUFIOREQ_ATOMIC,
};

enum router_restart_policy {
    ROUTER_RESTART_ON_FAILURE = 0, /* default */
    ROUTER_RESTART_ALWAYS,
    ROUTER_RESTART_NEVER,
};

/* An inclusive range; in JSON the string "START-END" (decimal or 0x hex). */
struct router_range {
    uint64_t start;
    uint64_t end;
};

struct router_sbdf {
    uint16_t segment;
    uint8_t bus;
    uint8_t dev;  /* 0..0x1f */
    uint8_t func; /* 0..7 */
};

struct router_restart {
    enum router_restart_policy policy;
    unsigned max_restarts; /* default 5 */
    unsigned window_s;     /* default 60 */
};

struct router_emulator {
    char *id;
    char *exec;          /* as written in the file */
    char *exec_resolved; /* absolute path found by validation, or NULL when
                            executables were not checked */
    char **args;
    size_t nargs;
    enum router_bufioreq bufioreq;
    struct router_range *ports;
    size_t nports;
    struct router_range *mmio;
    size_t nmmio;
    struct router_sbdf *pci;
    size_t npci;
    char *user;  /* NULL if not given */
    char *group; /* NULL if not given */
    struct router_restart restart;
};

struct router_guest {
    char *name; /* NULL if matched by domid only */
    bool has_domid;
    uint32_t domid;
    bool hold; /* keep paused until all emulators are ready; default false */
    struct router_emulator *emulators;
    size_t nemulators;
};

struct router_config {
    struct router_guest *guests;
    size_t nguests;
};

/* The list of problems.  Zero-initialise (or config_errors_init) before use,
 * config_errors_free after. */
struct config_errors {
    char **msg;
    size_t count;
    size_t cap;
    bool out_of_memory; /* some messages could not be recorded */
};

struct router_config_options {
    /* Check that every `exec` exists and is executable (access X_OK).
     * Absolute paths are checked as they are; bare names are looked up
     * first in exec_path, then in $PATH.  Names with a '/' that are not
     * absolute are rejected. */
    bool check_exec;
    /* Colon-separated directories searched before $PATH; may be NULL. */
    const char *exec_path;
};

void config_errors_init(struct config_errors *errs);
void config_errors_free(struct config_errors *errs);

/* Read and validate PATH.  Returns 0 and sets *out (free with
 * router_config_free) when valid; returns -1, sets *out to NULL and appends
 * every problem to errs otherwise.  Uses the default options: executables are
 * checked, exec_path is $IOREQ_ROUTER_EXEC_PATH if set. */
int router_config_load(const char *path, struct router_config **out,
                       struct config_errors *errs);

/* As router_config_load with explicit options (NULL: the defaults above). */
int router_config_load_opts(const char *path, const struct router_config_options *opts,
                            struct router_config **out, struct config_errors *errs);

/* Validate JSON text; FILENAME is only used in messages. */
int router_config_parse_string(const char *text, const char *filename,
                               const struct router_config_options *opts,
                               struct router_config **out, struct config_errors *errs);

void router_config_free(struct router_config *cfg);

const char *router_bufioreq_name(enum router_bufioreq mode);
const char *router_restart_policy_name(enum router_restart_policy policy);

#endif
