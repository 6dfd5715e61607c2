/* The health check server's state, shared by health.c (HTTP) and
 * health_check.c (the asynchronous /health check). */
#ifndef BT_SERVICE_HEALTH_H
#define BT_SERVICE_HEALTH_H
#include "service/svc.h"

#define HEALTH_MAX_WAITING 16

struct bt_svc_health {
    int fd;            /* the listening socket */
    double checked_at; /* monotonic time of the cached answer; 0 = none */
    bool healthy;
    char error[512];
    int waiting[HEALTH_MAX_WAITING]; /* /health probes waiting for the check */
    bool waiting_head[HEALTH_MAX_WAITING]; /* ...asked with HEAD: no body */
    int n_waiting;
    pid_t check_pid; /* > 0 while a check runs */
    int check_fd;
    bool check_ended;
    int check_status;
    char check_out[512];
    size_t check_len;
    double check_deadline;
};

/* health.c */
void bt_svc_health_store(bt_svc_health *h, bool healthy, const char *why);
void bt_svc_health_answer_waiting(bt_svc_health *h);
/* health_check.c */
bool bt_svc_health_fresh(const bt_svc_health *h);
void bt_svc_health_want_check(bt_svc_daemon *d, bt_svc_health *h);

#endif
