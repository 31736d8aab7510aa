/*
 * Debian 12's simple-whip-client links libsoup 2, while libnice (through
 * libgupnp-igd → gupnp → libsoup 3) pulls libsoup 3 into the same process,
 * which aborts at start-up ("libsoup2 symbols detected"). This stands in for
 * libgupnp-igd, the UPnP port mapper libnice uses only to ask a home router
 * for a port: no mapper, so libnice gathers host candidates alone, which is
 * all a loopback test needs. Built by lib/whipClient.ts, for whip-client only.
 */
#include <stddef.h>
void *gupnp_simple_igd_thread_new(void) { return NULL; }
unsigned long gupnp_simple_igd_get_type(void) { return 80; /* G_TYPE_OBJECT */ }
void gupnp_simple_igd_add_port(void *igd, const char *protocol, unsigned external_port, const char *local_ip,
                               unsigned local_port, unsigned lease_duration, const char *description) {}
void gupnp_simple_igd_remove_port_local(void *igd, const char *protocol, const char *local_ip, unsigned local_port) {}
