/*
 * Internals of guest scripts, shared by the lexer (guest_script_lex.c), the
 * parser (guest_script.c) and the interpreter (guest_exec.c).
 */
#ifndef XENSIM_GUEST_SCRIPT_IMPL_H
#define XENSIM_GUEST_SCRIPT_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest_op.h"
#include "guest_script.h"

struct guest_script {
    char *name;
    struct guest_op *ops;
    size_t nr_ops;
    uint8_t *pool;      /* mem-write/mem-read bytes, wait-irq strings */
    size_t pool_len;
};

/* ---- the lexer (guest_script_lex.c) ---- */

#define GS_MAX_TOKENS 8

struct gs_token {
    const char *p;
    size_t len;
};

/*
 * Split one line (no newline) into tokens; a '#' outside a string starts a
 * comment, whose text (after the '#') goes to `comment` (p NULL, len 0
 * without one).  Returns the number of tokens, or -1 with `why` set (too
 * many tokens, unterminated string, text glued to a string).
 */
int gs_split(const char *line, size_t len, struct gs_token *tok,
             struct gs_token *comment, const char **why);

/* Does the comment mark its line as timing-dependent ("# timing ...")? */
bool gs_timing_comment(const struct gs_token *comment);

/* Is the token exactly `word`? */
bool gs_is(const struct gs_token *t, const char *word);

/* Unsigned decimal (no leading zeros) or 0x hex, up to `max`.  0 or -1. */
int gs_number(const struct gs_token *t, uint64_t max, uint64_t *out);
/* The same with an optional leading '-', within int64_t.  0 or -1. */
int gs_signed(const struct gs_token *t, int64_t *out);

/* PCI address "BB:DD.F", hex, DD <= 0x1f, F <= 7.  0 or -1. */
int gs_pci_addr(const struct gs_token *t, unsigned int *bus, unsigned int *dev,
                unsigned int *fn);

/*
 * Decode a data operand ("C string" or hex:...) into `buf` (room for `max`
 * bytes).  Returns the byte count, or -1 with `why` set.
 */
long gs_data(const struct gs_token *t, uint8_t *buf, size_t max,
             const char **why);

#endif /* XENSIM_GUEST_SCRIPT_IMPL_H */
