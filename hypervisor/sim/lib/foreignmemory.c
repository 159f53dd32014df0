/*
 * Drop-in libxenforeignmemory.so.1: guest frames and resource pages live in
 * the daemon's memfds.  A map asks the daemon where each frame lives (which
 * passed fd, at what offset), reserves the caller's address range with one
 * PROT_NONE mapping and maps the frames over it with MAP_SHARED|MAP_FIXED.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xenforeignmemory.h>

#include "xsc_client.h"
#include "xsc_toolcore.h"

struct xenforeignmemory_handle {
    Xentoolcore__Active_Handle tc_ah;
    struct xsc_conn conn;
};

struct xenforeignmemory_resource_handle {
    void *addr;
    size_t nr_frames;
};

/*
 * Frames per XENSIM_FMEM_MAP request: the protocol's limit, and no more
 * than fit in one reply of at most XENSIM_MSG_MAX bytes.
 */
#define REPLY_FRAMES_MAX \
    ((XENSIM_MSG_MAX - sizeof(struct xensim_fmem_map_reply)) / sizeof(struct xensim_frame))
#define MAP_CHUNK \
    (XENSIM_FMEM_MAX_PAGES < REPLY_FRAMES_MAX ? (size_t)XENSIM_FMEM_MAX_PAGES : REPLY_FRAMES_MAX)
_Static_assert(sizeof(struct xensim_fmem_map) + MAP_CHUNK * sizeof(uint64_t) <= XENSIM_MSG_MAX,
               "a map request fits in one message");

/* mmap flags of map2's `flags` that still make sense for each frame's mapping. */
#define FRAME_MMAP_FLAGS (MAP_POPULATE | MAP_LOCKED | MAP_NORESERVE | MAP_NONBLOCK)

static int restrict_cb(Xentoolcore__Active_Handle *ah, domid_t domid)
{
    return xenforeignmemory_restrict(XSC_CONTAINER_OF(ah, xenforeignmemory_handle, tc_ah),
                                     domid);
}

xenforeignmemory_handle *xenforeignmemory_open(struct xentoollog_logger *logger,
                                               unsigned open_flags)
{
    xenforeignmemory_handle *fmem = calloc(1, sizeof(*fmem));
    const char *what = "cannot allocate a handle";

    (void)open_flags; /* no flags are defined */
    if (!fmem || xsc_open(&fmem->conn, XENSIM_CLIENT_FOREIGNMEMORY, true, NULL, NULL,
                          &what) < 0) {
        int err = errno;
        free(fmem);
        xsc_log_open_failure(logger, "xenforeignmemory", err, what);
        errno = err;
        return NULL;
    }
    fmem->tc_ah.restrict_callback = restrict_cb;
    xentoolcore__register_active_handle(&fmem->tc_ah);
    return fmem;
}

int xenforeignmemory_close(xenforeignmemory_handle *fmem)
{
    if (!fmem)
        return 0;
    xentoolcore__deregister_active_handle(&fmem->tc_ah);
    xsc_close(&fmem->conn);
    free(fmem);
    return 0;
}

int xenforeignmemory_restrict(xenforeignmemory_handle *fmem, domid_t domid)
{
    if (!fmem) {
        errno = EBADF;
        return -1;
    }
    return xsc_restrict(&fmem->conn, XENSIM_FMEM_RESTRICT, domid);
}

/* Put PROT_NONE back over [addr, addr + len) of a reservation. */
static void unmap_to_reserved(void *addr, size_t len)
{
    mmap(addr, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
}

struct map_job {
    xenforeignmemory_handle *fmem;
    uint32_t dom;
    int prot;
    int mflags;              /* extra mmap flags for each frame */
    unsigned char *base;     /* the reservation */
    const xen_pfn_t *arr;
    int *res;                /* per page: 0 or -errno */
    struct xensim_fmem_map *req;
    struct xensim_fmem_map_reply *rep;
    size_t rep_size;
};

/*
 * Map the pages listed in todo[0..*nr) (indices into arr, ascending).  The
 * pages still to do afterwards (the daemon answered only part of the list,
 * or ran out of fds for one reply and said E2BIG) are left in todo[0..*nr).
 * Returns 0, or -1 with errno when the request as a whole failed.
 */
static int map_batch(struct map_job *job, size_t *todo, size_t *nr)
{
    struct xensim_fmem_map *req = job->req;
    struct xensim_fmem_map_reply *rep = job->rep;
    int fds[XENSIM_MAX_FDS];
    unsigned int nr_fds = 0;
    size_t n = *nr, left = 0;

    memset(req, 0, sizeof(*req));
    req->hdr.type = XENSIM_FMEM_MAP;
    req->domid = job->dom;
    req->prot = (uint32_t)(job->prot & (PROT_READ | PROT_WRITE));
    req->nr = (uint32_t)n;
    for (size_t i = 0; i < n; i++)
        req->gfn[i] = job->arr[todo[i]];

    if (xsc_call(&job->fmem->conn, req, sizeof(*req) + n * sizeof(uint64_t), rep, job->rep_size,
                 sizeof(*rep), fds, &nr_fds) < 0)
        return -1;
    if (rep->nr == 0 || rep->nr > n || rep->nr_fds > nr_fds ||
        rep->hdr.len != sizeof(*rep) + rep->nr * sizeof(struct xensim_frame)) {
        xsc_close_fds(fds, nr_fds);
        errno = EIO;
        return -1;
    }
    for (size_t i = 0; i < rep->nr; i++) {
        const struct xensim_frame *f = &rep->frame[i];
        if (!f->err && (f->fd_index >= rep->nr_fds || f->offset % XSC_PAGE_SIZE ||
                        f->offset > INT64_MAX)) {
            xsc_close_fds(fds, nr_fds);
            errno = EIO;
            return -1;
        }
    }

    for (size_t i = 0; i < rep->nr;) {
        const struct xensim_frame *f = &rep->frame[i];
        if (f->err) {
            if (f->err == E2BIG)
                todo[left++] = todo[i];
            else
                job->res[todo[i]] = f->err > 0 && f->err < 4096 ? -f->err : -EIO;
            i++;
            continue;
        }
        /* One mmap for a run of pages that are contiguous on both sides. */
        size_t run = 1;
        while (i + run < rep->nr && todo[i + run] == todo[i] + run && !f[run].err &&
               f[run].fd_index == f->fd_index &&
               f[run].offset == f->offset + run * XSC_PAGE_SIZE)
            run++;
        void *at = job->base + (todo[i] << XSC_PAGE_SHIFT);
        void *m = mmap(at, run << XSC_PAGE_SHIFT, job->prot,
                       MAP_SHARED | MAP_FIXED | job->mflags, fds[f->fd_index], (off_t)f->offset);
        int e = m == MAP_FAILED ? errno : 0;
        if (e)
            unmap_to_reserved(at, run << XSC_PAGE_SHIFT);
        for (size_t k = 0; k < run; k++)
            job->res[todo[i + k]] = -e;
        i += run;
    }
    xsc_close_fds(fds, nr_fds);

    /* Not answered at all: still to do. */
    for (size_t i = rep->nr; i < n; i++)
        todo[left++] = todo[i];
    if (left == n) { /* no progress: give up on these */
        for (size_t i = 0; i < left; i++)
            job->res[todo[i]] = -E2BIG;
        left = 0;
    }
    *nr = left;
    return 0;
}

void *xenforeignmemory_map2(xenforeignmemory_handle *fmem, uint32_t dom, void *addr, int prot,
                            int flags, size_t pages, const xen_pfn_t arr[/*pages*/],
                            int err[/*pages*/])
{
    struct map_job job = { .fmem = fmem, .dom = dom, .prot = prot, .arr = arr };
    size_t chunk = pages < MAP_CHUNK ? pages : MAP_CHUNK;
    size_t *todo = NULL;
    void *base = MAP_FAILED;
    int e = 0;

    if (!fmem) {
        errno = EBADF;
        return NULL;
    }
    if (pages == 0 || pages > (SIZE_MAX >> XSC_PAGE_SHIFT) / 2 || !arr) {
        errno = EINVAL;
        return NULL;
    }
    size_t len = pages << XSC_PAGE_SHIFT;

    job.res = err ? err : malloc(pages * sizeof(int));
    job.req = malloc(sizeof(*job.req) + chunk * sizeof(uint64_t));
    job.rep_size = sizeof(*job.rep) + chunk * sizeof(struct xensim_frame);
    job.rep = malloc(job.rep_size);
    todo = malloc(chunk * sizeof(*todo));
    if (!job.res || !job.req || !job.rep || !todo) {
        e = ENOMEM;
        goto out;
    }
    job.mflags = flags & FRAME_MMAP_FLAGS;
    base = mmap(addr, len, PROT_NONE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
                    (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)),
                -1, 0);
    if (base == MAP_FAILED) {
        e = errno;
        goto out;
    }
    job.base = base;

    for (size_t done = 0; done < pages; done += chunk) {
        size_t nr = pages - done < chunk ? pages - done : chunk;
        for (size_t i = 0; i < nr; i++)
            todo[i] = done + i;
        while (nr) {
            if (map_batch(&job, todo, &nr) < 0) {
                e = errno;
                goto out;
            }
        }
    }
    if (!err) { /* all or nothing: fail on the first page that failed */
        for (size_t i = 0; i < pages; i++) {
            if (job.res[i]) {
                e = -job.res[i];
                break;
            }
        }
    }

out:
    if (e && base != MAP_FAILED) {
        munmap(base, len);
        base = MAP_FAILED;
    }
    if (job.res != err)
        free(job.res);
    free(job.req);
    free(job.rep);
    free(todo);
    if (e) {
        errno = e;
        return NULL;
    }
    return base;
}

void *xenforeignmemory_map(xenforeignmemory_handle *fmem, uint32_t dom, int prot, size_t pages,
                           const xen_pfn_t arr[/*pages*/], int err[/*pages*/])
{
    return xenforeignmemory_map2(fmem, dom, NULL, prot, 0, pages, arr, err);
}

int xenforeignmemory_unmap(xenforeignmemory_handle *fmem, void *addr, size_t pages)
{
    (void)fmem;
    if (pages > SIZE_MAX >> XSC_PAGE_SHIFT) {
        errno = EINVAL;
        return -1;
    }
    return munmap(addr, pages << XSC_PAGE_SHIFT);
}

static void resource_request(struct xensim_fmem_resource *req, uint32_t type, domid_t domid,
                             unsigned int rtype, unsigned int id, uint64_t frame,
                             uint64_t nr_frames)
{
    memset(req, 0, sizeof(*req));
    req->hdr.type = type;
    req->domid = domid;
    req->type = rtype;
    req->id = id;
    req->frame = frame;
    req->nr_frames = nr_frames;
}

/* Map frames [frame, frame + nr) of a resource at `at`; returns how many were mapped. */
static long map_resource_chunk(xenforeignmemory_handle *fmem, domid_t domid, unsigned int type,
                               unsigned int id, uint64_t frame, size_t nr, unsigned char *at,
                               int prot)
{
    struct xensim_fmem_resource req;
    struct xensim_fmem_resource_reply rep;
    int fds[XENSIM_MAX_FDS];
    unsigned int nr_fds = 0;
    int e = 0;

    resource_request(&req, XENSIM_FMEM_MAP_RESOURCE, domid, type, id, frame, nr);
    if (xsc_call(&fmem->conn, &req, sizeof(req), &rep, sizeof(rep), sizeof(rep), fds,
                 &nr_fds) < 0)
        return -1;
    if (rep.nr_frames == 0 || rep.nr_frames > nr)
        e = EIO;
    for (uint32_t i = 0; !e && i < rep.nr_frames; i++) {
        const struct xensim_frame *f = &rep.frame[i];
        if (f->err)
            e = f->err > 0 && f->err < 4096 ? f->err : EIO;
        else if (f->fd_index >= nr_fds || f->offset % XSC_PAGE_SIZE || f->offset > INT64_MAX)
            e = EIO;
        else if (mmap(at + ((size_t)i << XSC_PAGE_SHIFT), XSC_PAGE_SIZE, prot,
                      MAP_SHARED | MAP_FIXED, fds[f->fd_index], (off_t)f->offset) == MAP_FAILED)
            e = errno;
    }
    xsc_close_fds(fds, nr_fds);
    if (e) {
        errno = e;
        return -1;
    }
    return rep.nr_frames;
}

xenforeignmemory_resource_handle *xenforeignmemory_map_resource(
    xenforeignmemory_handle *fmem, domid_t domid, unsigned int type, unsigned int id,
    unsigned long frame, unsigned long nr_frames, void **paddr, int prot, int flags)
{
    xenforeignmemory_resource_handle *fres;

    if (!fmem) {
        errno = EBADF;
        return NULL;
    }
    /* As the real library: only the POSIX-defined flags. */
    if ((flags & ~(MAP_SHARED | MAP_PRIVATE)) || nr_frames == 0 ||
        nr_frames > (SIZE_MAX >> XSC_PAGE_SHIFT) / 2) {
        errno = EINVAL;
        return NULL;
    }
    fres = calloc(1, sizeof(*fres));
    if (!fres)
        return NULL;
    size_t len = (size_t)nr_frames << XSC_PAGE_SHIFT;
    unsigned char *base = mmap(paddr ? *paddr : NULL, len, PROT_NONE,
                               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) {
        free(fres);
        return NULL;
    }
    for (size_t done = 0; done < nr_frames;) {
        size_t nr = nr_frames - done < XENSIM_MAX_FDS ? nr_frames - done : XENSIM_MAX_FDS;
        long got = map_resource_chunk(fmem, domid, type, id, (uint64_t)frame + done, nr,
                                      base + (done << XSC_PAGE_SHIFT), prot);
        if (got < 0) {
            int e = errno;
            munmap(base, len);
            free(fres);
            errno = e;
            return NULL;
        }
        done += (size_t)got;
    }
    fres->addr = base;
    fres->nr_frames = nr_frames;
    if (paddr)
        *paddr = base;
    return fres;
}

int xenforeignmemory_unmap_resource(xenforeignmemory_handle *fmem,
                                    xenforeignmemory_resource_handle *fres)
{
    int rc = 0;

    (void)fmem;
    if (!fres)
        return 0;
    rc = munmap(fres->addr, fres->nr_frames << XSC_PAGE_SHIFT);
    int e = errno;
    free(fres);
    errno = e;
    return rc;
}

int xenforeignmemory_resource_size(xenforeignmemory_handle *fmem, domid_t domid,
                                   unsigned int type, unsigned int id, size_t *size)
{
    struct xensim_fmem_resource req;
    struct xensim_fmem_resource_reply rep;

    if (!fmem) {
        errno = EBADF;
        return -1;
    }
    resource_request(&req, XENSIM_FMEM_RESOURCE_SIZE, domid, type, id, 0, 0);
    if (xsc_call(&fmem->conn, &req, sizeof(req), &rep, sizeof(rep), sizeof(rep), NULL, NULL) <
        0)
        return -1;
    if (rep.size > SIZE_MAX) {
        errno = EOVERFLOW;
        return -1;
    }
    *size = (size_t)rep.size;
    return 0;
}
