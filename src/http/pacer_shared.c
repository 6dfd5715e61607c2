/* Pacers shared between a daemon and its forked task processes: the ring of
 * send times lives in an anonymous shared mapping, guarded by a robust
 * process-shared mutex (a task killed while holding it does not wedge the
 * others). */
#include "bt/http.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

struct bt_http_shared_pacers {
    pthread_mutex_t mu;
    bt_http_pacer reads, writes;
};

bt_http_shared_pacers *bt_http_pacers_share(void)
{
    bt_http_shared_pacers *s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE,
                                    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (s == MAP_FAILED)
        return NULL;
    memset(s, 0, sizeof *s);
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    int rc = pthread_mutex_init(&s->mu, &attr);
    pthread_mutexattr_destroy(&attr);
    if (rc != 0) {
        munmap(s, sizeof *s);
        return NULL;
    }
    s->reads.lock = s->writes.lock = &s->mu;
    return s;
}

bt_http_pacer *bt_http_shared_reads(bt_http_shared_pacers *s) { return &s->reads; }

bt_http_pacer *bt_http_shared_writes(bt_http_shared_pacers *s) { return &s->writes; }

void bt_http_pacer_lock(bt_http_pacer *p)
{
    if (p->lock && pthread_mutex_lock(p->lock) == EOWNERDEAD)
        pthread_mutex_consistent(p->lock); /* the ring is still well-formed */
}

void bt_http_pacer_unlock(bt_http_pacer *p)
{
    if (p->lock)
        pthread_mutex_unlock(p->lock);
}
