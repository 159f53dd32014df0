/* xensim CLI: messages, safe printing of untrusted text, option parsing. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cli_error(const struct cli_ctx *ctx, int status, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "xensim%s%s: ", ctx->cmd ? " " : "", ctx->cmd ? ctx->cmd->name : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return status;
}

const char *cli_safe(const char *s, char *buf, size_t len)
{
    size_t n = 0, max = len > 4 ? len - 4 : 0;

    for (; *s && n < max; s++)
        buf[n++] = (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s;
    if (*s && len >= 4) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    if (len)
        buf[n] = '\0';
    return buf;
}

void cli_print_text(FILE *f, const char *s, size_t len)
{
    for (size_t i = 0; i < len && s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        fputc((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f ? '?' : c, f);
    }
}

int cli_help(const struct cli_ctx *ctx)
{
    printf("usage: xensim %s\n", ctx->cmd->usage);
    return CLI_OK;
}

static const struct cli_option *find_option(const struct cli_option *opts,
                                            const char *arg, size_t len)
{
    for (; opts && opts->name; opts++)
        if (strlen(opts->name) == len && strncmp(opts->name, arg, len) == 0)
            return opts;
    return NULL;
}

int cli_next_arg(const struct cli_ctx *ctx, struct cli_args *a,
                 const struct cli_option *opts, const char **value)
{
    char safe[CLI_SAFE_MAX];

    *value = NULL;
    if (a->i >= a->argc)
        return CLI_ARG_END;
    const char *arg = a->argv[a->i++];
    if (a->positional_only || arg[0] != '-' || strcmp(arg, "-") == 0) {
        if (a->stop_at_positional)
            a->positional_only = true;
        *value = arg;
        return CLI_ARG_POSITIONAL;
    }
    if (strcmp(arg, "--") == 0) {
        a->positional_only = true;
        return cli_next_arg(ctx, a, opts, value);
    }
    if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)
        return CLI_ARG_HELP;

    const char *eq = strchr(arg, '=');
    size_t name_len = eq ? (size_t)(eq - arg) : strlen(arg);
    const struct cli_option *o = arg[1] == '-' ? find_option(opts, arg, name_len) : NULL;
    if (!o) {
        char name[CLI_SAFE_MAX];
        snprintf(name, sizeof(name), "%.*s",
                 (int)(name_len < sizeof(name) - 1 ? name_len : sizeof(name) - 1), arg);
        cli_error(ctx, CLI_USAGE, "unknown option '%s' (see --help)",
                  cli_safe(name, safe, sizeof(safe)));
        return CLI_ARG_ERROR;
    }
    if (!o->has_arg) {
        if (eq) {
            cli_error(ctx, CLI_USAGE, "option %s takes no value", o->name);
            return CLI_ARG_ERROR;
        }
        return o->id;
    }
    if (eq) {
        *value = eq + 1;
    } else if (a->i < a->argc) {
        *value = a->argv[a->i++];
    } else {
        cli_error(ctx, CLI_USAGE, "option %s needs a value", o->name);
        return CLI_ARG_ERROR;
    }
    return o->id;
}
