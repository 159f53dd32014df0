/*
 * xensim run [--keep-dir] [--domain NAME:TYPE:VCPUS:MEM]... [--] CMD ARGS...
 *
 * A private daemon in a private directory, CMD run against it, the
 * daemon stopped and the directory removed; CMD's exit status.
 */
#define _GNU_SOURCE /* nftw's FTW_* flags, SI_KERNEL */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client.h"
#include "hvio.h"
#include "run.h"

#define MAX_DOMAINS 64
#define CONTROL_SOCK "control.sock"
#define XENSTORED_SOCK "xenstored.sock"
#define DIR_TEMPLATE "/xensim.XXXXXX"

struct run_opts {
    bool keep_dir;
    unsigned int nr_domains;
    struct cli_domain_spec domain[MAX_DOMAINS];
    char *spec_copy[MAX_DOMAINS]; /* the names point into these */
    char **cmd;                   /* NULL-terminated, from argv */
};

/* dir + "/" + name into buf; -1 if it does not fit. */
static int join(char *buf, size_t len, const char *dir, const char *name)
{
    int n = snprintf(buf, len, "%s/%s", dir, name);

    return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* ---- arguments ---- */

/* NAME:TYPE:VCPUS:MEM into spec (NAME in a copy of the text). */
static int parse_domain_spec(const struct cli_ctx *ctx, const char *text,
                             struct run_opts *o)
{
    char safe[CLI_SAFE_MAX], *field[4], *copy;
    uint64_t vcpus;
    unsigned int n = 0;

    if (o->nr_domains == MAX_DOMAINS)
        return cli_error(ctx, CLI_USAGE, "at most %u --domain options", MAX_DOMAINS);
    copy = strdup(text);
    if (!copy)
        return cli_error(ctx, CLI_FAILED, "out of memory");
    o->spec_copy[o->nr_domains] = copy;
    for (char *p = copy; p && n < 4; n++) {
        field[n] = p;
        p = strchr(p, ':');
        if (p)
            *p++ = '\0';
        if (n == 3 && p)
            n = 4; /* a fifth field: counted as too many below */
    }
    if (n != 4)
        return cli_error(ctx, CLI_USAGE, "--domain must be NAME:TYPE:VCPUS:MEM "
                         "(like web:hvm:2:64M), not '%s'", cli_safe(text, safe, sizeof(safe)));

    struct cli_domain_spec *d = &o->domain[o->nr_domains];
    if (cli_check_name(ctx, "--domain NAME", field[0]) ||
        cli_parse_type(ctx, "--domain TYPE", field[1], &d->type) ||
        cli_parse_uint(ctx, "--domain VCPUS", field[2], 1, HVIO_MAX_VCPUS, &vcpus) ||
        cli_parse_memory(ctx, "--domain MEM", field[3], &d->memory_bytes))
        return CLI_USAGE;
    for (unsigned int i = 0; i < o->nr_domains; i++)
        if (strcmp(o->domain[i].name, field[0]) == 0)
            return cli_error(ctx, CLI_USAGE, "two --domain options name '%s'", field[0]);
    d->name = field[0];
    d->vcpus = (uint32_t)vcpus;
    o->nr_domains++;
    return CLI_OK;
}

enum { OPT_KEEP_DIR = 1, OPT_DOMAIN };

static const struct cli_option run_options[] = {
    { "--keep-dir", false, OPT_KEEP_DIR },
    { "--domain", true, OPT_DOMAIN },
    { NULL, false, 0 },
};

/* CLI_OK, CLI_USAGE, or -1 after printing help. */
static int parse_args(const struct cli_ctx *ctx, int argc, char **argv,
                      struct run_opts *o)
{
    struct cli_args a = { .argc = argc, .argv = argv, .stop_at_positional = true };
    const char *v;
    int id, rc;

    while ((id = cli_next_arg(ctx, &a, run_options, &v)) != CLI_ARG_END) {
        switch (id) {
        case CLI_ARG_HELP:
            cli_help(ctx);
            return -1;
        case CLI_ARG_ERROR:
            return CLI_USAGE;
        case CLI_ARG_POSITIONAL:
            o->cmd = argv + a.i - 1;
            return CLI_OK;
        case OPT_KEEP_DIR:
            o->keep_dir = true;
            break;
        default:
            if ((rc = parse_domain_spec(ctx, v, o)))
                return rc;
            break;
        }
    }
    return cli_error(ctx, CLI_USAGE, "a command to run is required: xensim run [OPTIONS] -- CMD ARGS...");
}

/* ---- the private directory ---- */

static int make_dir(const struct cli_ctx *ctx, char *dir, size_t len)
{
    struct sockaddr_un sa;
    const char *base = getenv("TMPDIR");
    size_t room = sizeof(sa.sun_path) - sizeof(DIR_TEMPLATE) - sizeof("/" XENSTORED_SOCK);

    /* The sockets' paths must fit in sun_path. */
    if (!base || base[0] != '/' || strlen(base) > room)
        base = "/tmp";
    if ((size_t)snprintf(dir, len, "%s" DIR_TEMPLATE, base) >= len || !mkdtemp(dir))
        return cli_error(ctx, CLI_SETUP, "cannot create a directory in %s: %s", base,
                         strerror(errno));
    return CLI_OK;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path) < 0 ? -1 : 0;
}

static void remove_dir(const struct cli_ctx *ctx, const char *dir)
{
    if (nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) < 0)
        cli_error(ctx, 0, "warning: cannot remove %s: %s", dir, strerror(errno));
}

/* ---- the environment ---- */

/* The drop-in libraries' directory, or NULL after a warning. */
static const char *dropin_dir(const struct cli_ctx *ctx, const char *exe_dir, char *buf)
{
    char path[PATH_MAX], safe[CLI_SAFE_MAX];
    struct stat st;

    if ((size_t)snprintf(path, sizeof(path), "%s/../xensim-lib", exe_dir) < sizeof(path) &&
        realpath(path, buf) && stat(buf, &st) == 0 && S_ISDIR(st.st_mode))
        return buf;
    const char *env = getenv("XENSIM_LIB_DIR");
    if (!env || !env[0]) {
        cli_error(ctx, 0, "warning: no drop-in libraries (no %s/../xensim-lib, "
                  "XENSIM_LIB_DIR unset): the command gets the system's Xen libraries",
                  exe_dir);
        return NULL;
    }
    if (!realpath(env, buf) || stat(buf, &st) < 0 || !S_ISDIR(st.st_mode)) {
        cli_error(ctx, 0, "warning: XENSIM_LIB_DIR=%s is not a directory; ignored",
                  cli_safe(env, safe, sizeof(safe)));
        return NULL;
    }
    return buf;
}

static int set_env(const struct cli_ctx *ctx, const char *dir, const char *libdir)
{
    char path[PATH_MAX];
    const char *old = getenv("LD_LIBRARY_PATH");

    if (join(path, sizeof(path), dir, CONTROL_SOCK) ||
        setenv(XENSIM_SOCKET_ENV, path, 1) < 0 ||
        join(path, sizeof(path), dir, XENSTORED_SOCK) ||
        setenv("XENSTORED_PATH", path, 1) < 0)
        return cli_error(ctx, CLI_SETUP, "cannot set the environment");
    if (!libdir)
        return CLI_OK;
    /* No empty element: it would mean the current directory. */
    size_t len = strlen(libdir) + (old ? strlen(old) : 0) + 2;
    char *value = malloc(len);
    if (!value)
        return cli_error(ctx, CLI_SETUP, "out of memory");
    snprintf(value, len, "%s%s%s", libdir, old && old[0] ? ":" : "", old ? old : "");
    int rc = setenv("LD_LIBRARY_PATH", value, 1);
    free(value);
    return rc < 0 ? cli_error(ctx, CLI_SETUP, "setenv: %s", strerror(errno)) : CLI_OK;
}

static int create_domains(const struct cli_ctx *ctx, const struct run_opts *o)
{
    struct xensim_client c;
    int rc;

    if (!o->nr_domains)
        return CLI_OK;
    if (cli_connect(ctx, &c))
        return CLI_SETUP;
    rc = CLI_OK;
    for (unsigned int i = 0; rc == CLI_OK && i < o->nr_domains; i++)
        if (cli_create_domain(ctx, &c, &o->domain[i]) < 0)
            rc = CLI_SETUP;
    xensim_client_close(&c);
    return rc;
}

/* ---- the command ---- */

static pid_t start_command(const struct cli_ctx *ctx, char **cmd, const sigset_t *mask)
{
    char safe[CLI_SAFE_MAX];

    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        cli_error(ctx, 0, "fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        sigprocmask(SIG_SETMASK, mask, NULL);
        execvp(cmd[0], cmd);
        int err = errno;
        cli_error(ctx, 0, "cannot run '%s': %s", cli_safe(cmd[0], safe, sizeof(safe)),
                  strerror(err));
        _exit(err == ENOENT ? 127 : 126);
    }
    return pid;
}

/*
 * Wait for the command, passing on signals sent to us (not those the
 * terminal sent: the command, in our process group, got those itself).
 */
static int wait_command(const struct cli_ctx *ctx, pid_t cmd, const sigset_t *set,
                        struct daemon_proc *d)
{
    int status;

    for (;;) {
        siginfo_t si;
        int sig = sigwaitinfo(set, &si);
        if (sig < 0)
            continue;
        if (sig != SIGCHLD) {
            if (si.si_code != SI_KERNEL)
                kill(cmd, sig);
            continue;
        }
        daemon_poll(ctx, d);
        pid_t r = waitpid(cmd, &status, WNOHANG);
        if (r == cmd)
            break;
        if (r < 0 && errno != EINTR)
            return cli_error(ctx, CLI_SETUP, "waitpid: %s", strerror(errno));
    }
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

/* A signal that came before the command started ends the run: 0 or 128 + sig. */
static int early_signal(const sigset_t *set)
{
    struct timespec zero = { 0, 0 };
    sigset_t stop = *set;

    sigdelset(&stop, SIGCHLD);
    int sig = sigtimedwait(&stop, NULL, &zero);
    return sig > 0 ? 128 + sig : 0;
}

static int run_with_daemon(struct cli_ctx *ctx, const struct run_opts *o,
                           const char *exe_dir, const char *dir,
                           const sigset_t *set, const sigset_t *old)
{
    char daemon_path[PATH_MAX], sock[PATH_MAX], libbuf[PATH_MAX];
    struct daemon_proc d;
    const char *libdir;
    int rc;

    if (join(daemon_path, sizeof(daemon_path), exe_dir, DAEMON_NAME) ||
        join(sock, sizeof(sock), dir, CONTROL_SOCK))
        return cli_error(ctx, CLI_SETUP, "path too long: %s", exe_dir);
    if ((rc = daemon_start(ctx, daemon_path, dir, old, &d)))
        return rc;
    libdir = dropin_dir(ctx, exe_dir, libbuf);
    ctx->socket_path = sock;
    rc = create_domains(ctx, o);
    if (rc == CLI_OK)
        rc = set_env(ctx, dir, libdir);
    if (rc == CLI_OK)
        rc = early_signal(set);
    if (rc == CLI_OK) {
        pid_t cmd = start_command(ctx, o->cmd, old);
        rc = cmd < 0 ? CLI_SETUP : wait_command(ctx, cmd, set, &d);
    }
    daemon_stop(ctx, &d);
    return rc;
}

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
    struct run_opts o = { 0 };
    char exe_dir[PATH_MAX], dir[PATH_MAX];
    sigset_t set, old;
    int rc = parse_args(ctx, argc, argv, &o);

    if (rc == CLI_OK && cli_exe_dir(exe_dir, sizeof(exe_dir)) < 0)
        rc = cli_error(ctx, CLI_SETUP, "cannot find the xensim executable's directory");
    if (rc == CLI_OK)
        rc = make_dir(ctx, dir, sizeof(dir));
    if (rc == CLI_OK) {
        sigemptyset(&set);
        sigaddset(&set, SIGCHLD);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGHUP);
        sigaddset(&set, SIGQUIT);
        sigprocmask(SIG_BLOCK, &set, &old);
        rc = run_with_daemon(ctx, &o, exe_dir, dir, &set, &old);
        if (o.keep_dir)
            cli_error(ctx, 0, "kept %s", dir);
        else
            remove_dir(ctx, dir);
        sigprocmask(SIG_SETMASK, &old, NULL);
    }
    for (unsigned int i = 0; i < MAX_DOMAINS; i++)
        free(o.spec_copy[i]);
    return rc < 0 ? CLI_OK : rc;
}

const struct cli_command cli_run = {
    "run",
    "run [--keep-dir] [--domain NAME:TYPE:VCPUS:MEM]... [--] CMD [ARGS...]\n"
    "\n"
    "Start a private xensim daemon, run CMD against it, stop the daemon and\n"
    "exit with CMD's status (128+N if a signal N killed it).  CMD gets\n"
    "XENSIM_SOCKET, XENSTORED_PATH and LD_LIBRARY_PATH (the drop-in Xen\n"
    "libraries: ../xensim-lib next to xensim, else $XENSIM_LIB_DIR).\n"
    "  --keep-dir        keep the daemon's directory and print its path\n"
    "  --domain SPEC     create a domain first, e.g. web:hvm:2:64M (repeatable)\n"
    "Exit status 125: the daemon could not be started or set up; 126/127: CMD\n"
    "could not be run.\n",
    run,
};
