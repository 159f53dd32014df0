/* xensim: command line front end of the Xen simulator. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "xensim_proto.h"

static const char usage[] =
    "usage: xensim [--socket PATH] COMMAND [ARGS...]\n"
    "\n"
    "Commands:\n"
    "  domain create --name NAME --type hvm|pvh --vcpus N --memory SIZE [--domid N]\n"
    "                [--paused]\n"
    "  domain destroy DOMID|NAME\n"
    "  domain list\n"
    "  domain pause DOMID|NAME\n"
    "  domain unpause DOMID|NAME\n"
    "  domain info DOMID|NAME\n"
    "  guest run [--timeout MS] [--trace] [--vcpu N] DOMID|NAME SCRIPT...\n"
    "  irq-log DOMID|NAME\n"
    "  run [--keep-dir] [--domain NAME:TYPE:VCPUS:MEM]... [--] CMD [ARGS...]\n"
    "\n"
    "Options:\n"
    "  --socket PATH   the daemon's control socket (default: $" XENSIM_SOCKET_ENV ")\n"
    "  -h, --help      this text; 'xensim COMMAND --help' describes a command\n"
    "\n"
    "Exit status: 0 success, 1 failure, 2 usage or connection error\n"
    "('xensim run': the command's status, 125 if the daemon could not be set up).\n";

struct group {
    const char *name;
    const struct cli_command *const *sub; /* NULL-terminated; NULL: a command itself */
    const struct cli_command *cmd;
};

static const struct cli_command *const domain_cmds[] = {
    &cli_domain_create, &cli_domain_destroy, &cli_domain_list,
    &cli_domain_pause, &cli_domain_unpause, &cli_domain_info, NULL,
};
static const struct cli_command *const guest_cmds[] = { &cli_guest_run, NULL };

static const struct group groups[] = {
    { "domain", domain_cmds, NULL },
    { "guest", guest_cmds, NULL },
    { "irq-log", NULL, &cli_irq_log },
    { "run", NULL, &cli_run },
};

static bool is_help(const char *arg)
{
    return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

static int group_help(const struct group *g)
{
    printf("usage:\n");
    for (const struct cli_command *const *c = g->sub; *c; c++) {
        const char *nl = strchr((*c)->usage, '\n');
        printf("  xensim %.*s\n", (int)(nl ? nl - (*c)->usage : (long)strlen((*c)->usage)),
               (*c)->usage);
    }
    printf("'xensim %s COMMAND --help' describes a command.\n", g->name);
    return CLI_OK;
}

/* argv[0] is the group's subcommand. */
static int run_group(struct cli_ctx *ctx, const struct group *g, int argc, char **argv)
{
    char safe[CLI_SAFE_MAX];

    if (argc == 0)
        return cli_error(ctx, CLI_USAGE, "'%s' needs a subcommand (see xensim %s --help)",
                         g->name, g->name);
    if (is_help(argv[0]))
        return group_help(g);
    for (const struct cli_command *const *c = g->sub; *c; c++) {
        const char *sub = (*c)->name + strlen(g->name) + 1;
        if (strcmp(argv[0], sub) == 0) {
            ctx->cmd = *c;
            return (*c)->run(ctx, argc - 1, argv + 1);
        }
    }
    return cli_error(ctx, CLI_USAGE, "unknown subcommand '%s %s' (see xensim %s --help)",
                     g->name, cli_safe(argv[0], safe, sizeof(safe)), g->name);
}

int main(int argc, char **argv)
{
    struct cli_ctx ctx = { .socket_path = getenv(XENSIM_SOCKET_ENV) };
    char safe[CLI_SAFE_MAX];
    int i = 1;

    for (; i < argc && argv[i][0] == '-'; i++) {
        if (is_help(argv[i])) {
            fputs(usage, stdout);
            return CLI_OK;
        } else if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc) {
            ctx.socket_path = argv[++i];
        } else if (strncmp(argv[i], "--socket=", 9) == 0) {
            ctx.socket_path = argv[i] + 9;
        } else if (strcmp(argv[i], "--socket") == 0) {
            return cli_error(&ctx, CLI_USAGE, "option --socket needs a value");
        } else {
            return cli_error(&ctx, CLI_USAGE, "unknown option '%s' (see xensim --help)",
                             cli_safe(argv[i], safe, sizeof(safe)));
        }
    }
    if (i == argc)
        return cli_error(&ctx, CLI_USAGE, "a command is required (see xensim --help)");
    for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
        if (strcmp(argv[i], groups[g].name) != 0)
            continue;
        if (groups[g].sub)
            return run_group(&ctx, &groups[g], argc - i - 1, argv + i + 1);
        ctx.cmd = groups[g].cmd;
        return ctx.cmd->run(&ctx, argc - i - 1, argv + i + 1);
    }
    return cli_error(&ctx, CLI_USAGE, "unknown command '%s' (see xensim --help)",
                     cli_safe(argv[i], safe, sizeof(safe)));
}
