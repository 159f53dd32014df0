/* The public API: a store behind a lock, served by the socket thread. */
#include <errno.h>
#include <stdlib.h>

#include "xenstore_sim.h"
#include "xs_server.h"

static const struct xsim_caller api_caller = { 0, true, NULL };

int xs_sim_start(const char *socket_path, struct xs_sim **out)
{
    struct xs_sim *xs;
    int rc;

    *out = NULL;
    if (!socket_path || !*socket_path)
        return -EINVAL;
    xs = calloc(1, sizeof(*xs));
    if (!xs)
        return -ENOMEM;
    xs->listen_fd = xs->wake_fd = -1;
    rc = pthread_mutex_init(&xs->lock, NULL);
    if (rc != 0) {
        free(xs);
        return -rc;
    }
    rc = xsim_store_init(&xs->store, xsim_server_event, xs);
    if (rc < 0) {
        pthread_mutex_destroy(&xs->lock);
        free(xs);
        return rc;
    }
    rc = xsim_server_open(xs, socket_path);
    if (rc == 0)
        rc = xsim_server_start(xs);
    if (rc < 0) {
        xs_sim_stop(xs);
        return rc;
    }
    *out = xs;
    return 0;
}

void xs_sim_stop(struct xs_sim *xs)
{
    if (!xs)
        return;
    xsim_server_close(xs);
    xsim_store_destroy(&xs->store);
    pthread_mutex_destroy(&xs->lock);
    free(xs);
}

const char *xs_sim_socket_path(const struct xs_sim *xs)
{
    return xs->socket_path;
}

/* Run a store call under the lock, then let the thread send any events. */
#define LOCKED(xs, call)                          \
    ({                                            \
        int rc_;                                  \
        pthread_mutex_lock(&(xs)->lock);          \
        rc_ = (call);                             \
        pthread_mutex_unlock(&(xs)->lock);        \
        xsim_server_wake(xs);                     \
        rc_;                                      \
    })

int xs_sim_introduce_domain(struct xs_sim *xs, unsigned int domid,
                            const char *name)
{
    return LOCKED(xs, xsim_store_introduce(&xs->store, domid, name, true));
}

int xs_sim_release_domain(struct xs_sim *xs, unsigned int domid)
{
    return LOCKED(xs, xsim_store_release(&xs->store, domid, true));
}

int xs_sim_is_domain_introduced(struct xs_sim *xs, unsigned int domid)
{
    int rc;

    pthread_mutex_lock(&xs->lock);
    rc = xsim_store_is_introduced(&xs->store, domid);
    pthread_mutex_unlock(&xs->lock);
    return rc;
}

int xs_sim_read(struct xs_sim *xs, const char *path, char **value, size_t *len)
{
    size_t l;
    int rc;

    if (!path || !value)
        return -EINVAL;
    pthread_mutex_lock(&xs->lock);
    rc = xsim_store_read(&xs->store, &api_caller, 0, path, value, &l);
    pthread_mutex_unlock(&xs->lock);
    if (rc == 0 && len)
        *len = l;
    return rc;
}

int xs_sim_write(struct xs_sim *xs, const char *path, const void *value,
                 size_t len)
{
    if (!path || (len && !value))
        return -EINVAL;
    return LOCKED(xs, xsim_store_write(&xs->store, &api_caller, 0, path,
                                       value, len));
}

int xs_sim_mkdir(struct xs_sim *xs, const char *path)
{
    if (!path)
        return -EINVAL;
    return LOCKED(xs, xsim_store_mkdir(&xs->store, &api_caller, 0, path));
}

int xs_sim_rm(struct xs_sim *xs, const char *path)
{
    if (!path)
        return -EINVAL;
    return LOCKED(xs, xsim_store_rm(&xs->store, &api_caller, 0, path));
}
