/* Internal to router_isolate: the default seccomp profile (seccomp_profile.c).
 *
 * The filter is compiled in the caller, before forking, into a classic BPF
 * program that the child installs with one prctl() call: the child between
 * fork and exec then does no allocation and no library work. */
#ifndef ROUTER_ISOLATE_SECCOMP_H
#define ROUTER_ISOLATE_SECCOMP_H

#include <stddef.h>

struct sock_fprog;

/* Build the default deny-list filter into *prog (prog->filter is allocated).
 * Returns 0, or a negative errno with a one-line reason in err. */
int isolate_seccomp_build(struct sock_fprog *prog, char *err, size_t errlen);

/* Free what isolate_seccomp_build allocated; safe on a zeroed prog. */
void isolate_seccomp_release(struct sock_fprog *prog);

#endif /* ROUTER_ISOLATE_SECCOMP_H */
