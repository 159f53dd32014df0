/* xensim CLI: the connection to the daemon, with messages for failures. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "client.h"

const char *cli_strerror(int32_t err)
{
    return err > 0 && err < 4096 ? strerror(err) : "unknown error";
}

int cli_connect(const struct cli_ctx *ctx, struct xensim_client *c)
{
    char safe[CLI_SAFE_MAX];
    int refused;

    if (!ctx->socket_path || !ctx->socket_path[0])
        return cli_error(ctx, CLI_USAGE,
                         "%s is not set: run under 'xensim run' or pass --socket PATH",
                         XENSIM_SOCKET_ENV);
    int rc = xensim_client_open(c, ctx->socket_path, CLI_CALL_TIMEOUT_MS, &refused);
    if (rc == 0)
        return CLI_OK;
    if (refused)
        return cli_error(ctx, CLI_USAGE, "the daemon at %s refused the connection: %s",
                         cli_safe(ctx->socket_path, safe, sizeof(safe)), strerror(-rc));
    return cli_error(ctx, CLI_USAGE, "cannot connect to the daemon at %s: %s",
                     cli_safe(ctx->socket_path, safe, sizeof(safe)),
                     rc == -EPROTO ? "it does not speak the xensim protocol" : strerror(-rc));
}

long cli_call(const struct cli_ctx *ctx, struct xensim_client *c, void *req,
              size_t req_len, void *reply, size_t reply_max, unsigned int timeout_ms)
{
    return cli_call_fd(ctx, c, req, req_len, reply, reply_max, timeout_ms, NULL);
}

long cli_call_fd(const struct cli_ctx *ctx, struct xensim_client *c, void *req,
                 size_t req_len, void *reply, size_t reply_max, unsigned int timeout_ms,
                 int *fd)
{
    long n = xensim_client_call(c, req, req_len, reply, reply_max, timeout_ms, fd);

    if (n >= 0)
        return n;
    switch (-n) {
    case ETIMEDOUT:
        cli_error(ctx, CLI_USAGE, "the daemon did not answer within %u ms", timeout_ms);
        break;
    case ECONNRESET:
        cli_error(ctx, CLI_USAGE, "the daemon closed the connection");
        break;
    case EPROTO:
        cli_error(ctx, CLI_USAGE, "malformed reply from the daemon");
        break;
    default:
        cli_error(ctx, CLI_USAGE, "talking to the daemon: %s", strerror((int)-n));
        break;
    }
    return -1;
}

void *cli_reply_buffer(const struct cli_ctx *ctx)
{
    void *buf = malloc(XENSIM_MSG_MAX);

    if (!buf)
        cli_error(ctx, CLI_FAILED, "out of memory");
    return buf;
}
