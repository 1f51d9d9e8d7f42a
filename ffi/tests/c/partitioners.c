/* Prints the partition each of librdkafka's exported partitioner functions picks for a set of keys
 * and partition counts (the deterministic cases: hashed keys). scripts/c-abi runs it on librdkafka
 * and on kprod and requires the same output: same hashes, same placement. */
#include <stdio.h>
#include <string.h>
#include "rdkafka.h"

typedef int32_t (*partitioner_t)(const rd_kafka_topic_t *, const void *, size_t, int32_t, void *, void *);

int main(void) {
        static const struct { const char *name; partitioner_t fn; int keyed_only; } ps[] = {
            {"consistent", rd_kafka_msg_partitioner_consistent, 0},
            {"consistent_random", rd_kafka_msg_partitioner_consistent_random, 1},
            {"murmur2", rd_kafka_msg_partitioner_murmur2, 0},
            {"murmur2_random", rd_kafka_msg_partitioner_murmur2_random, 1},
            {"fnv1a", rd_kafka_msg_partitioner_fnv1a, 0},
            {"fnv1a_random", rd_kafka_msg_partitioner_fnv1a_random, 1},
        };
        static const int32_t counts[] = {1, 2, 3, 7, 12, 100, 1000};
        char key[64];
        size_t i, c, k;
        for (i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
                for (c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
                        /* Empty and NULL keys where the partitioner is deterministic for them. */
                        if (!ps[i].keyed_only)
                                printf("%s %d NULL %d\n", ps[i].name, counts[c],
                                       ps[i].fn(NULL, NULL, 0, counts[c], NULL, NULL));
                        for (k = 0; k < 200; k++) {
                                size_t len = (size_t)snprintf(key, sizeof(key), "key-%zu-%s", k * 7919,
                                                              k % 3 ? "x" : "\xff\xfe");
                                printf("%s %d %s %d\n", ps[i].name, counts[c], key,
                                       ps[i].fn(NULL, key, len, counts[c], NULL, NULL));
                        }
                }
        }
        return 0;
}
