/* ioreq-routerd: for now only `--check FILE` (validate a config without
 * starting anything) and `--help`.  The daemon proper comes later. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "router_config.h"

static void usage(FILE *f, const char *prog)
{
    fprintf(f,
            "usage: %s --check FILE [--exec-path DIR[:DIR...]]\n"
            "       %s --help\n"
            "\n"
            "  --check FILE      validate the router config FILE, print every problem\n"
            "                    on stderr; exit 0 if valid, 1 if not\n"
            "  --exec-path DIRS  also look up relative `exec` names in DIRS (colon-\n"
            "                    separated) before $PATH; default $IOREQ_ROUTER_EXEC_PATH\n"
            "  --help            show this help\n"
            "\n"
            "Exit status: 0 valid, 1 invalid, 2 usage error.\n",
            prog, prog);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"check", required_argument, NULL, 'c'},
        {"exec-path", required_argument, NULL, 'x'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *file = NULL;
    struct router_config_options opts = {true, getenv("IOREQ_ROUTER_EXEC_PATH")};
    int ch;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            file = optarg;
            break;
        case 'x':
            opts.exec_path = optarg;
            break;
        case 'h':
            usage(stdout, argv[0]);
            return 0;
        default:
            fprintf(stderr, "%s: unknown option or missing argument: %s\n", argv[0],
                    argv[optind - 1]);
            usage(stderr, argv[0]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument: %s\n", argv[0], argv[optind]);
        usage(stderr, argv[0]);
        return 2;
    }
    if (!file) {
        fprintf(stderr, "%s: only --check FILE is supported so far\n", argv[0]);
        usage(stderr, argv[0]);
        return 2;
    }

    struct config_errors errs;
    struct router_config *cfg = NULL;
    config_errors_init(&errs);
    int r = router_config_load_opts(file, &opts, &cfg, &errs);
    for (size_t i = 0; i < errs.count; i++)
        fprintf(stderr, "%s\n", errs.msg[i]);
    if (errs.out_of_memory)
        fprintf(stderr, "%s: out of memory while checking\n", file);
    config_errors_free(&errs);
    if (r != 0)
        return 1;
    router_config_free(cfg);
    printf("%s: ok\n", file);
    return 0;
}
