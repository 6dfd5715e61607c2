/* Service mode: run as a ConductorOne connector daemon (--client-id and
 * --client-secret). The protocol is BatonService over gRPC; see
 * src/service/svc.h for the pieces. */
#ifndef BT_SERVICE_H
#define BT_SERVICE_H
#include "bt/cli.h"
#include "bt/contract.h"
#include "bt/host.h"

/* Check --client-id/--client-secret (both given, well-formed); prints one
 * error: line and returns -1 otherwise. No network traffic. */
int bt_service_check_credentials(const bt_cli *cli);
/* Run the daemon until SIGTERM/SIGINT (exit status 0) or a permanent
 * failure (non-zero, one error: line). */
int bt_service_run(bt_host *h, const bt_contract *c, const bt_cli *cli);

/* `health-check`: ask a running daemon's /health (--health-check-port,
 * --health-check-bind-address); 0 when healthy, else one error: line and 1
 * (2 for a bad flag). */
int bt_service_health_probe(const bt_cli *cli);

#endif
