/*
 * threads.c: one producer handle shared by 8 application threads.
 *
 *   threads <broker> <topic> [per_thread] [property=value ...]
 *
 * Each thread produces per_thread (default 20000) messages with rd_kafka_producev(), values
 * "t<thread>-<seq>", RD_KAFKA_MSG_F_COPY, and a per-message opaque that encodes (thread, seq).
 * On RD_KAFKA_RESP_ERR__QUEUE_FULL a thread calls rd_kafka_poll(rk, 10) itself and retries, so
 * delivery reports may be served on any of the 9 threads at once: every counter is atomic.
 * The main thread polls until the producers are done, then rd_kafka_flush(rk, 60000).
 *
 * Checked, exit 1 on any mismatch: every message delivered exactly once (a per-message flag),
 * no failed delivery, each report carries its own value, length, opaque and topic (the
 * rd_kafka_message_t layout), rd_kafka_flush() returns no error and rd_kafka_outq_len() is 0.
 * The extra property=value arguments go to rd_kafka_conf_set() (e.g. queue.buffering.max.messages=
 * 10000 to force the QUEUE_FULL path). scripts/c-abi reads the topic back for 8 * per_thread
 * distinct values.
 *
 * Works against native librdkafka and against kprod's librdkafka-compatible library alike.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#define NTHREADS 8

static const char *topic;
static long per_thread = 20000;
static rd_kafka_t *rk;

static atomic_long delivered;     /* successful delivery reports */
static atomic_long failed;        /* failed delivery reports */
static atomic_long bad_reports;   /* a report whose fields do not match its message */
static atomic_long duplicates;    /* a second report for the same message */
static atomic_long queue_full;    /* QUEUE_FULL retries (informational) */
static atomic_long produce_errors; /* any other produce error */
static atomic_int threads_done;
static atomic_uchar *seen;        /* one flag per message: reported yet? */

static double now_s(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The value of message (thread, seq); returns its length. */
static int format_value(char *buf, size_t size, long thread, long seq) {
        return snprintf(buf, size, "t%ld-%06ld", thread, seq);
}

static void
dr_msg_cb(rd_kafka_t *h, const rd_kafka_message_t *m, void *opaque) {
        /* The per-message opaque (rd_kafka_message_t._private) is 1 + thread * per_thread + seq. */
        uintptr_t id = (uintptr_t)m->_private;
        long idx     = (long)id - 1;
        char expect[32];
        int len;
        (void)h;
        (void)opaque;

        if (m->err) {
                if (atomic_fetch_add(&failed, 1) < 10)
                        fprintf(stderr, "threads: delivery failed: %s\n",
                                rd_kafka_err2str(m->err));
        } else {
                atomic_fetch_add(&delivered, 1);
        }

        if (idx < 0 || idx >= NTHREADS * per_thread) {
                if (atomic_fetch_add(&bad_reports, 1) < 10)
                        fprintf(stderr, "threads: report with bad opaque %p\n", m->_private);
                return;
        }
        len = format_value(expect, sizeof(expect), idx / per_thread, idx % per_thread);
        if (m->len != (size_t)len || !m->payload || memcmp(m->payload, expect, (size_t)len) != 0 ||
            !m->rkt || strcmp(rd_kafka_topic_name(m->rkt), topic) != 0 ||
            (!m->err && (m->partition < 0 || m->offset < 0))) {
                if (atomic_fetch_add(&bad_reports, 1) < 10)
                        fprintf(stderr,
                                "threads: report does not match message %s: len %zu, "
                                "partition %" PRId32 ", offset %" PRId64 "\n",
                                expect, m->len, m->partition, m->offset);
        }
        if (atomic_fetch_add(&seen[idx], 1) != 0)
                atomic_fetch_add(&duplicates, 1);
}

static void *producer_thread(void *arg) {
        long thread = (long)(intptr_t)arg;
        char buf[32];

        for (long seq = 0; seq < per_thread; seq++) {
                int len        = format_value(buf, sizeof(buf), thread, seq);
                uintptr_t id   = 1 + (uintptr_t)(thread * per_thread + seq);
                rd_kafka_resp_err_t err;

                for (;;) {
                        err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
                                                RD_KAFKA_V_VALUE(buf, (size_t)len),
                                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                                RD_KAFKA_V_OPAQUE((void *)id),
                                                RD_KAFKA_V_END);
                        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                                break;
                        /* Full: serve reports from this thread too, then retry. */
                        atomic_fetch_add(&queue_full, 1);
                        rd_kafka_poll(rk, 10);
                }
                if (err) {
                        if (atomic_fetch_add(&produce_errors, 1) < 10)
                                fprintf(stderr, "threads: produce of %s failed: %s\n", buf,
                                        rd_kafka_err2str(err));
                        break;
                }
        }
        atomic_fetch_add(&threads_done, 1);
        return NULL;
}

int main(int argc, char **argv) {
        char errstr[512];
        pthread_t tids[NTHREADS];
        rd_kafka_conf_t *conf;
        rd_kafka_resp_err_t flush_err;
        long total, outq, missing = 0;
        double t0, t_produced, t_flushed;
        int ok;

        /* Line-buffered even into a pipe: a run killed by a timeout still shows how far it got. */
        setvbuf(stdout, NULL, _IOLBF, 0);
        if (argc < 3) {
                fprintf(stderr, "usage: %s <broker> <topic> [per_thread] [property=value ...]\n",
                        argv[0]);
                return 2;
        }
        topic = argv[2];
        if (argc > 3) {
                per_thread = strtol(argv[3], NULL, 10);
                if (per_thread <= 0) {
                        fprintf(stderr, "threads: per_thread must be > 0, not %s\n", argv[3]);
                        return 2;
                }
        }
        total = NTHREADS * per_thread;
        seen  = calloc((size_t)total, sizeof(*seen));
        if (!seen) {
                fprintf(stderr, "threads: out of memory\n");
                return 1;
        }

        conf = rd_kafka_conf_new();
        if (rd_kafka_conf_set(conf, "bootstrap.servers", argv[1], errstr, sizeof(errstr)) !=
            RD_KAFKA_CONF_OK) {
                fprintf(stderr, "threads: %s\n", errstr);
                rd_kafka_conf_destroy(conf);
                return 1;
        }
        for (int i = 4; i < argc; i++) {
                char *eq = strchr(argv[i], '=');
                if (!eq) {
                        fprintf(stderr, "threads: expected property=value, not %s\n", argv[i]);
                        rd_kafka_conf_destroy(conf);
                        return 2;
                }
                *eq = '\0';
                if (rd_kafka_conf_set(conf, argv[i], eq + 1, errstr, sizeof(errstr)) !=
                    RD_KAFKA_CONF_OK) {
                        fprintf(stderr, "threads: %s\n", errstr);
                        rd_kafka_conf_destroy(conf);
                        return 1;
                }
        }
        rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);

        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "threads: rd_kafka_new failed: %s\n", errstr);
                rd_kafka_conf_destroy(conf); /* still ours after a failed rd_kafka_new */
                return 1;
        }

        t0 = now_s();
        for (long t = 0; t < NTHREADS; t++) {
                if (pthread_create(&tids[t], NULL, producer_thread, (void *)(intptr_t)t) != 0) {
                        fprintf(stderr, "threads: pthread_create failed\n");
                        return 1;
                }
        }
        /* The main thread serves delivery reports while the producers run. */
        while (atomic_load(&threads_done) < NTHREADS)
                rd_kafka_poll(rk, 100);
        for (int t = 0; t < NTHREADS; t++)
                pthread_join(tids[t], NULL);
        t_produced = now_s();

        flush_err = rd_kafka_flush(rk, 60000);
        t_flushed = now_s();
        outq      = rd_kafka_outq_len(rk);
        if (flush_err)
                fprintf(stderr, "threads: rd_kafka_flush: %s\n", rd_kafka_err2str(flush_err));

        rd_kafka_destroy(rk);

        for (long i = 0; i < total; i++)
                if (!atomic_load(&seen[i]))
                        missing++;
        free(seen);

        ok = atomic_load(&delivered) == total && atomic_load(&failed) == 0 &&
             atomic_load(&bad_reports) == 0 && atomic_load(&duplicates) == 0 &&
             atomic_load(&produce_errors) == 0 && missing == 0 && outq == 0 && !flush_err;
        printf("threads: %s: %d threads x %ld = %ld messages, %ld delivered, %ld failed, "
               "%ld without report, %ld duplicate reports, %ld bad reports, %ld produce errors, "
               "%ld queue-full retries, outq %ld after flush, produce %.2f s, flush %.2f s\n",
               ok ? "OK" : "FAILED", NTHREADS, per_thread, total, atomic_load(&delivered),
               atomic_load(&failed), missing, atomic_load(&duplicates), atomic_load(&bad_reports),
               atomic_load(&produce_errors), atomic_load(&queue_full), outq, t_produced - t0,
               t_flushed - t_produced);
        return ok ? 0 : 1;
}
