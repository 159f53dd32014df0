/*
 * Guest I/O scripts: what a simulated vCPU does, one access per line.
 *
 *   # comment                      (also after a line's operands)
 *   out PORT SIZE VALUE            port write, SIZE 1/2/4
 *   in PORT SIZE [expect V]        port read
 *   mmio-write ADDR SIZE VALUE     SIZE 1/2/4/8
 *   mmio-read ADDR SIZE [expect V]
 *   pci-write BB:DD.F REG SIZE VALUE       as CF8 write + CFC access,
 *                                          under guest_ops' config lock
 *   pci-read BB:DD.F REG SIZE [expect V]
 *   rep-outsb|rep-outsw|rep-outsl PORT GPA COUNT   one ioreq, data_is_ptr
 *   rep-insb|rep-insw|rep-insl PORT GPA COUNT
 *   rep-mmio-write ADDR SIZE GPA COUNT     guest memory -> device (movs)
 *   rep-mmio-read ADDR SIZE GPA COUNT      device -> guest memory
 *   mem-write GPA DATA             DATA: "C string" or hex:0011aa
 *   mem-read GPA LEN expect DATA
 *   wait-irq N | isa N | msi | intx 00:DD.F PIN   [timeout MS]
 *   invalidate
 *   timeoffset DELTA               signed
 *   sleep MS
 *
 * Numbers are decimal or 0x hex (BB, DD, F of a PCI address are hex).  A
 * value or expectation that does not fit SIZE is a parse error, as is an
 * unknown verb or a missing or extra operand.  Strings take the escapes
 * \n \r \t \0 \\ \" and \xNN.
 *
 * A comment whose first word is "timing" marks its line's result as
 * timing-dependent: it may differ between backends (xensim, real Xen), and
 * a differential check compares that line's verb and operands, not its
 * result.  Example:  in 0x3fd 1    # timing: LSR depends on the emulator
 *
 * Traces.  Run with tracing (guest_ops.trace, `xensim guest run --trace`,
 * and always inside the guest image of tests/xen/guest, on Xen's debug
 * console), every line that runs produces one trace line, formatted by the
 * shared freestanding code in guest_trace.c, so that both backends print
 * the same text for the same results:
 *
 *   L<line>[~] <verb> <operands> = <result>[ (expected <what>)]
 *
 * <line> is the script line in decimal; "~" follows it on timing lines.
 * Hex is lowercase, without 0x, zero-padded: ports 4 digits, addresses and
 * GPAs 8 digits (up to 16 above 4 GiB), values 2*SIZE digits, PCI
 * registers 2 digits; sizes, counts, lengths and milliseconds are decimal.
 *   out PPPP S VV                       in PPPP S
 *   mmio-write AAAAAAAA S VV            mmio-read AAAAAAAA S
 *   pci-write BB:DD.F RR S VV           pci-read BB:DD.F RR S
 *   rep-outsb PPPP GGGGGGGG COUNT       (rep-outsw/l, rep-insb/w/l alike)
 *   rep-mmio-write AAAAAAAA S GGGGGGGG COUNT   (rep-mmio-read alike)
 *   mem-write GGGGGGGG LEN              mem-read GGGGGGGG LEN
 *   wait-irq isa N|msi|intx BB:DD.F P MS   invalidate   timeoffset DELTA
 *   sleep MS
 * <result>: the value read (2*SIZE digits) for in, mmio-read, pci-read;
 * for rep-ins*, rep-mmio-read and mem-read, the bytes in guest memory
 * afterwards: "hex:" and the bytes when there are at most 16, else
 * "fnv1a:" and their 32-bit FNV-1a hash in 8 digits; "irq" or "timeout"
 * for wait-irq; "fault" for guest memory outside guest RAM; "stopped: WHY"
 * where the run stops; "ok" for everything else.  A failed expectation
 * appends " (expected V)", V printed as the result would be.  The trace
 * ends with "END pass" or "END fail N" (N: the run's failure count).
 * Examples:
 *   L3 out 03f8 1 41 = ok
 *   L4~ in 03fd 1 = 60
 *   L7 pci-read 00:05.0 00 4 = ffffffff (expected 11e81234)
 *   L9 rep-insb 0080 00002000 4 = hex:ffffffff
 *   END fail 1
 * Every line is shorter than GUEST_TRACE_LINE_MAX (Xen's debug console
 * cuts guest lines at 199 characters).
 *
 * Parsing and running are pure logic: the daemon gives the interpreter a
 * struct guest_ops for the vCPU the script runs on.  Scripts are immutable
 * once parsed; several threads may run different (or the same) scripts.
 */
#ifndef XENSIM_GUEST_SCRIPT_H
#define XENSIM_GUEST_SCRIPT_H

#include <stddef.h>
#include <stdint.h>

#include "hvio.h"

#define GUEST_SCRIPT_IRQ_TIMEOUT_MS 5000u  /* wait-irq without `timeout` */
#define GUEST_SCRIPT_MAX_MS 600000u        /* sleep and wait-irq timeouts */
#define GUEST_SCRIPT_MAX_REP 65536u        /* rep COUNT */
#define GUEST_SCRIPT_MAX_DATA 65536u       /* bytes of one mem-write/mem-read */

/*
 * What a script does to its vCPU.  Every call returns 0 (or, for emulate,
 * an hvio_outcome; for invalidate, a non-negative count) or a negative
 * errno.  A negative return stops the run with a report line naming the
 * script line, except the "soft" failures below, which are reported and the
 * run goes on:
 *   mem_read / mem_write: -EFAULT (range outside guest RAM);
 *   wait_irq: -ETIMEDOUT (no matching interrupt within timeout_ms).
 * The daemon can abort a run (run timeout, domain destroyed) by making its
 * calls return -ECANCELED or -ESRCH.
 */
struct guest_ops {
    void *ctx;
    /*
     * Like hvio_emulate(): HVIO_EMULATED, HVIO_UNHANDLED or -errno.  For a
     * string access (data_is_ptr) it may lower p->count to the elements it
     * did; the interpreter then issues the rest, as a CPU re-executes a rep
     * instruction.
     */
    int (*emulate)(void *ctx, ioreq_t *p);
    int (*mem_read)(void *ctx, uint64_t gpa, void *buf, size_t len);
    int (*mem_write)(void *ctx, uint64_t gpa, const void *buf, size_t len);
    /*
     * Wait for an interrupt to be recorded for the domain.  `what` is one
     * of exactly these forms (suitable for sscanf):
     *   "isa %u"                    ISA IRQ 0..15 asserted (level 1)
     *   "msi"                       any MSI
     *   "intx %02x:%02x.%x %c"     INTx of bus 00, device, function, pin
     *                               'A'..'D' asserted; the dm_op carries no
     *                               function, so match device and pin.
     */
    int (*wait_irq)(void *ctx, const char *what, unsigned int timeout_ms);
    /* hvio_send_invalidate / hvio_send_timeoffset: >= 0 or -errno. */
    int (*invalidate)(void *ctx);
    int (*timeoffset)(void *ctx, int64_t delta);
    /*
     * Optional: taken around a pci-* op's two accesses (CF8, then CFC), as
     * a guest OS serialises its config cycles; the CF8 latch is per domain.
     */
    void (*pci_config_lock)(void *ctx);
    void (*pci_config_unlock)(void *ctx);
    /* Optional (NULL: nanosleep).  Lets the daemon cut a sleep short. */
    int (*sleep)(void *ctx, unsigned int ms);
    /*
     * Optional: tracing.  Receives each line's trace line once the line has
     * run, then the END line (no newlines; see "Traces" above).
     */
    void (*trace)(void *ctx, const char *line);
};

struct guest_script;

/*
 * Parse `text` (NUL-terminated; reject texts with an embedded NUL before
 * calling) into *out.  `name` is used in messages and in run reports.
 * Returns 0, -EINVAL with a one-line message "NAME:LINE: what is wrong" in
 * `err`, or -ENOMEM.
 */
int guest_script_parse(const char *name, const char *text,
                       struct guest_script **out, char *err, size_t errlen);
void guest_script_free(struct guest_script *s);

const char *guest_script_name(const struct guest_script *s);
/* Number of operations (lines other than blank lines and comments). */
size_t guest_script_length(const struct guest_script *s);

/*
 * The operations (guest_script_length() of them, see guest_op.h) and the
 * byte pool they refer to, for tools that translate scripts (the PVH guest
 * image compiler of tests/xen/guest).
 */
struct guest_op;
const struct guest_op *guest_script_ops(const struct guest_script *s);
const uint8_t *guest_script_pool(const struct guest_script *s, size_t *len);

/*
 * Run the script against `ops`.  Returns 0 when every line held, else the
 * number of failures (a run stopped by an error counts as one).  `report`
 * (may be NULL when len is 0) receives one line per failure,
 * "NAME:LINE: expected X, got Y" or "NAME:LINE: run stopped: why", and is
 * always NUL-terminated; a report that does not fit ends in
 * "(report truncated)".  -EINVAL for bad arguments.
 */
int guest_script_run(const struct guest_script *s, const struct guest_ops *ops,
                     char *report, size_t len);

#endif /* XENSIM_GUEST_SCRIPT_H */
