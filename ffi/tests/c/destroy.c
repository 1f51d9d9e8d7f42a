/*
 * destroy.c: rd_kafka_destroy() with messages outstanding neither leaks nor hangs.
 *
 *   destroy <broker> <topic> [unreachable_address] [slack_ms] [property=value ...]
 *
 * Phase 1: a producer whose bootstrap.servers is an address where nothing listens (default
 * 127.0.0.1:1), message.timeout.ms=3000, a dr_msg_cb; 1000 messages in four kinds:
 *   - RD_KAFKA_MSG_F_COPY of a stack buffer, with a key,
 *   - RD_KAFKA_MSG_F_FREE of a malloc'd buffer (the library must free() it),
 *   - RD_KAFKA_MSG_F_COPY with two RD_KAFKA_V_HEADER()s,
 *   - RD_KAFKA_MSG_F_FREE with an rd_kafka_headers_t list (RD_KAFKA_V_HEADERS; the library owns it).
 * No flush, no poll: rd_kafka_destroy() must return within message.timeout.ms + 2 s (and the 1000
 * produce calls, which never wait for a broker in librdkafka, must take no longer either).
 * Phase 2: the same against the real broker (argv[1]) with message.timeout.ms=5000, destroyed right
 * after the last produce call: within 5 s + 2 s.
 * slack_ms (default 0) widens both bounds, for runs under valgrind. Extra property=value arguments
 * go to both producers' rd_kafka_conf_set() (for experiments; scripts/c-abi passes none).
 *
 * Exit 1 on an overrun or a refused produce call; progress lines on stdout show where a hang was. Run under valgrind (scripts/c-abi) it must show
 * no definite leak: every F_FREE buffer, header list and queued message is freed by the library.
 * Delivery reports are counted but not required: whether destroy() serves them is not part of the
 * contract checked here.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#define MSGS 1000

static atomic_long reports;
static char **extra_props; /* property=value arguments */
static int extra_cnt;

static long now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
        (void)rk;
        (void)m;
        (void)opaque;
        atomic_fetch_add(&reports, 1);
}

static rd_kafka_t *new_producer(const char *bootstrap, const char *timeout_ms) {
        char errstr[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_t *rk;

        if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr, sizeof(errstr)) !=
                RD_KAFKA_CONF_OK ||
            rd_kafka_conf_set(conf, "message.timeout.ms", timeout_ms, errstr, sizeof(errstr)) !=
                RD_KAFKA_CONF_OK) {
                fprintf(stderr, "destroy: %s\n", errstr);
                rd_kafka_conf_destroy(conf);
                return NULL;
        }
        for (int i = 0; i < extra_cnt; i++) {
                char name[256];
                const char *eq = strchr(extra_props[i], '=');
                if (!eq || (size_t)(eq - extra_props[i]) >= sizeof(name)) {
                        fprintf(stderr, "destroy: expected property=value, not %s\n", extra_props[i]);
                        rd_kafka_conf_destroy(conf);
                        return NULL;
                }
                memcpy(name, extra_props[i], (size_t)(eq - extra_props[i]));
                name[eq - extra_props[i]] = '\0';
                if (rd_kafka_conf_set(conf, name, eq + 1, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
                        fprintf(stderr, "destroy: %s\n", errstr);
                        rd_kafka_conf_destroy(conf);
                        return NULL;
                }
        }
        rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk) {
                /* On failure the conf object is still the application's. */
                fprintf(stderr, "destroy: rd_kafka_new failed: %s\n", errstr);
                rd_kafka_conf_destroy(conf);
        }
        return rk;
}

/* Produces MSGS messages of the four kinds; returns the number of refused calls. */
static int produce_all(rd_kafka_t *rk, const char *topic) {
        int refused = 0;

        for (int i = 0; i < MSGS; i++) {
                char buf[64], key[16];
                int len = snprintf(buf, sizeof(buf), "destroy-%04d", i);
                int klen = snprintf(key, sizeof(key), "k%d", i % 7);
                rd_kafka_resp_err_t err;
                char *owned = NULL;
                rd_kafka_headers_t *hdrs = NULL;

                switch (i % 4) {
                case 0:
                        err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
                                                RD_KAFKA_V_VALUE(buf, (size_t)len),
                                                RD_KAFKA_V_KEY(key, (size_t)klen),
                                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                                RD_KAFKA_V_END);
                        break;
                case 1:
                        owned = malloc((size_t)len);
                        memcpy(owned, buf, (size_t)len);
                        err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
                                                RD_KAFKA_V_VALUE(owned, (size_t)len),
                                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE),
                                                RD_KAFKA_V_END);
                        break;
                case 2:
                        err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
                                                RD_KAFKA_V_VALUE(buf, (size_t)len),
                                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                                RD_KAFKA_V_HEADER("h1", "v1", 2),
                                                RD_KAFKA_V_HEADER("h2", "value-two", -1),
                                                RD_KAFKA_V_END);
                        break;
                default:
                        owned = malloc((size_t)len);
                        memcpy(owned, buf, (size_t)len);
                        hdrs = rd_kafka_headers_new(2);
                        rd_kafka_header_add(hdrs, "list", -1, "yes", 3);
                        rd_kafka_header_add(hdrs, "null-value", -1, NULL, 0);
                        err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
                                                RD_KAFKA_V_VALUE(owned, (size_t)len),
                                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE),
                                                RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
                        break;
                }
                if (err) {
                        /* A refused call leaves the buffer and the header list with us. */
                        free(owned);
                        if (hdrs)
                                rd_kafka_headers_destroy(hdrs);
                        if (refused++ < 5)
                                fprintf(stderr, "destroy: produce %d refused: %s\n", i,
                                        rd_kafka_err2str(err));
                }
        }
        return refused;
}

/* One phase; returns 0 when produce and destroy behaved. */
static int phase(const char *name, const char *bootstrap, const char *topic, long timeout_ms,
                 long slack_ms) {
        char tbuf[32];
        rd_kafka_t *rk;
        long t0, produce_took, took, limit = timeout_ms + 2000 + slack_ms;
        int refused, outq, ok;

        snprintf(tbuf, sizeof(tbuf), "%ld", timeout_ms);
        atomic_store(&reports, 0);
        if (!(rk = new_producer(bootstrap, tbuf))) {
                printf("destroy: %s: FAILED: no producer (see stderr)\n", name);
                return 1;
        }
        /* Progress lines: a run killed by a timeout shows which call hung. */
        printf("destroy: %s: producing %d messages to %s\n", name, MSGS, bootstrap);
        t0           = now_ms();
        refused      = produce_all(rk, topic);
        produce_took = now_ms() - t0;
        outq         = rd_kafka_outq_len(rk);
        printf("destroy: %s: produce calls took %ld ms; destroying with outq %d\n", name,
               produce_took, outq);

        t0 = now_ms();
        rd_kafka_destroy(rk);
        took = now_ms() - t0;

        /* librdkafka's produce calls never wait for the broker (no RD_KAFKA_MSG_F_BLOCK here), so
         * they are held to the same bound as destroy. */
        ok = refused == 0 && took <= limit && produce_took <= limit;
        printf("destroy: %s: %s: bootstrap %s, %d produced (%d refused) in %ld ms, outq %d at "
               "destroy, %ld delivery reports, rd_kafka_destroy took %ld ms (limit %ld ms)\n",
               name, ok ? "OK" : "FAILED", bootstrap, MSGS - refused, refused, produce_took, outq,
               atomic_load(&reports), took, limit);
        return ok ? 0 : 1;
}

int main(int argc, char **argv) {
        const char *unreachable = "127.0.0.1:1";
        long slack_ms           = 0;
        int bad                 = 0;

        /* Line-buffered even into a pipe: a run killed by a timeout still shows how far it got. */
        setvbuf(stdout, NULL, _IOLBF, 0);
        if (argc < 3) {
                fprintf(stderr,
                        "usage: %s <broker> <topic> [unreachable_address] [slack_ms] "
                        "[property=value ...]\n",
                        argv[0]);
                return 2;
        }
        if (argc > 3)
                unreachable = argv[3];
        if (argc > 4)
                slack_ms = strtol(argv[4], NULL, 10);
        if (argc > 5) {
                extra_props = argv + 5;
                extra_cnt   = argc - 5;
        }

        bad |= phase("unreachable broker", unreachable, argv[2], 3000, slack_ms);
        bad |= phase("real broker", argv[1], argv[2], 5000, slack_ms);
        printf("destroy: %s\n", bad ? "FAILED" : "OK");
        return bad;
}
