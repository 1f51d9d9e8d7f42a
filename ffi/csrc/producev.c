/* rd_kafka_producev: the variadic form of rd_kafka_produceva. Stable Rust cannot define a C variadic
 * function, so this shim reads the (vtype, value...) list into an rd_kafka_vu_t array and hands it to
 * the Rust implementation. Each vtype's arguments are read with the types the RD_KAFKA_V_* macros
 * cast them to. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rdkafka.h"

#define KPROD_VU_INLINE 16

rd_kafka_resp_err_t rd_kafka_producev(rd_kafka_t *rk, ...) {
        rd_kafka_vu_t inline_vus[KPROD_VU_INLINE];
        rd_kafka_vu_t *vus = inline_vus;
        size_t cnt = 0, cap = KPROD_VU_INLINE;
        rd_kafka_vtype_t vtype;
        rd_kafka_error_t *error;
        rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
        va_list ap;

        va_start(ap, rk);
        while ((vtype = (rd_kafka_vtype_t)va_arg(ap, int)) != RD_KAFKA_VTYPE_END) {
                rd_kafka_vu_t *vu;
                if (cnt == cap) {
                        /* A long header list: grow onto the heap. */
                        rd_kafka_vu_t *grown = malloc(sizeof(*grown) * cap * 2);
                        if (!grown) {
                                err = RD_KAFKA_RESP_ERR__CRIT_SYS_RESOURCE;
                                break;
                        }
                        memcpy(grown, vus, sizeof(*grown) * cnt);
                        if (vus != inline_vus)
                                free(vus);
                        vus = grown;
                        cap *= 2;
                }
                vu = &vus[cnt++];
                memset(vu, 0, sizeof(*vu));
                vu->vtype = vtype;
                switch (vtype) {
                case RD_KAFKA_VTYPE_TOPIC:
                        vu->u.cstr = va_arg(ap, const char *);
                        break;
                case RD_KAFKA_VTYPE_RKT:
                        vu->u.rkt = va_arg(ap, rd_kafka_topic_t *);
                        break;
                case RD_KAFKA_VTYPE_PARTITION:
                        vu->u.i32 = va_arg(ap, int32_t);
                        break;
                case RD_KAFKA_VTYPE_VALUE:
                case RD_KAFKA_VTYPE_KEY:
                        vu->u.mem.ptr  = va_arg(ap, void *);
                        vu->u.mem.size = va_arg(ap, size_t);
                        break;
                case RD_KAFKA_VTYPE_OPAQUE:
                        vu->u.ptr = va_arg(ap, void *);
                        break;
                case RD_KAFKA_VTYPE_MSGFLAGS:
                        vu->u.i = va_arg(ap, int);
                        break;
                case RD_KAFKA_VTYPE_TIMESTAMP:
                        vu->u.i64 = va_arg(ap, int64_t);
                        break;
                case RD_KAFKA_VTYPE_HEADER:
                        vu->u.header.name = va_arg(ap, const char *);
                        vu->u.header.val  = va_arg(ap, const void *);
                        vu->u.header.size = va_arg(ap, ssize_t);
                        break;
                case RD_KAFKA_VTYPE_HEADERS:
                        vu->u.headers = va_arg(ap, rd_kafka_headers_t *);
                        break;
                default:
                        /* An unknown vtype: its arguments cannot be skipped safely. */
                        err = RD_KAFKA_RESP_ERR__INVALID_ARG;
                        break;
                }
                if (err)
                        break;
        }
        va_end(ap);

        if (!err) {
                error = rd_kafka_produceva(rk, vus, cnt);
                if (error) {
                        err = rd_kafka_error_code(error);
                        rd_kafka_error_destroy(error);
                }
        }
        if (vus != inline_vus)
                free(vus);
        return err;
}

/* rd_kafka_error_new is variadic too (a printf format): format here, build the object in Rust. */
rd_kafka_error_t *kprod_error_new(rd_kafka_resp_err_t code, const char *msg);

rd_kafka_error_t *rd_kafka_error_new(rd_kafka_resp_err_t code, const char *fmt, ...) {
        char buf[512];
        va_list ap;
        buf[0] = '\0';
        if (fmt) {
                va_start(ap, fmt);
                vsnprintf(buf, sizeof(buf), fmt, ap);
                va_end(ap);
        }
        return kprod_error_new(code, buf);
}
