// Prints how Kafka's own Java client classifies every error code, for tests/error_codes_java.rs.
//
// Run as a single-file program with kafka-clients (and slf4j-api) on the class path:
//   java -cp kafka-clients-4.4.0.jar:slf4j-api-1.7.36.jar tests/java/ErrorClasses.java
//
// Output, tab-separated: one `version <kafka version>` line, one `columns ...` line naming the fields,
// then one row per entry of org.apache.kafka.common.protocol.Errors. The booleans are the exception
// class hierarchy (KIP-1050's categories) and what the producer's TransactionManager does when a record
// or request fails with the exception (its fatal / abortable states).

import java.io.InputStream;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.List;
import java.util.Properties;

import org.apache.kafka.clients.ApiVersions;
import org.apache.kafka.clients.producer.internals.TransactionManager;
import org.apache.kafka.common.errors.ApplicationRecoverableException;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.InvalidMetadataException;
import org.apache.kafka.common.errors.RefreshRetriableException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.TransactionAbortableException;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.utils.internals.LogContext;

public class ErrorClasses {
    static final List<String> COLUMNS = List.of(
        "code", "name", "exception", "retriable", "refresh_retriable", "invalid_metadata",
        "transaction_abortable", "application_recoverable", "invalid_configuration",
        "txn_fatal", "txn_abortable", "idempotent_fatal");

    public static void main(String[] args) throws Exception {
        System.out.println("version\t" + kafkaVersion());
        System.out.println("columns\t" + String.join("\t", COLUMNS));
        for (Errors error : Errors.values()) {
            RuntimeException e = error.exception();
            StringBuilder row = new StringBuilder();
            row.append(error.code()).append('\t').append(error.name()).append('\t')
                .append(e == null ? "-" : e.getClass().getName());
            flag(row, e instanceof RetriableException);
            flag(row, e instanceof RefreshRetriableException);
            flag(row, e instanceof InvalidMetadataException);
            flag(row, e instanceof TransactionAbortableException);
            flag(row, e instanceof ApplicationRecoverableException);
            flag(row, e instanceof InvalidConfigurationException);
            if (e == null) {
                row.append("\tfalse\tfalse\tfalse");
            } else {
                // A fresh manager per code, in the state a record failure meets: inside a transaction.
                TransactionManager txn = manager("error-classes");
                setState(txn, "IN_TRANSACTION");
                txn.maybeTransitionToErrorState(e);
                flag(row, call(txn, "hasFatalError"));
                flag(row, call(txn, "hasAbortableError"));
                // An idempotent producer (no transactional id) has no abortable state, only fatal.
                TransactionManager idempotent = manager(null);
                idempotent.maybeTransitionToErrorState(e);
                flag(row, call(idempotent, "hasFatalError"));
            }
            System.out.println(row);
        }
    }

    // The version the jar was built as, from the properties file Kafka's build puts in it.
    static String kafkaVersion() throws Exception {
        Properties p = new Properties();
        try (InputStream in = Errors.class.getResourceAsStream("/kafka/kafka-version.properties")) {
            if (in != null) {
                p.load(in);
            }
        }
        return p.getProperty("version", "unknown");
    }

    static void flag(StringBuilder row, boolean b) {
        row.append('\t').append(b);
    }

    static TransactionManager manager(String transactionalId) {
        // Transaction timeout, retry backoff, no metadata, no two-phase commit: none matter here.
        return new TransactionManager(
            new LogContext(), transactionalId, 60_000, 100L, new ApiVersions(), null, false);
    }

    // The manager's state and its has*Error queries are not public: reach them by reflection, so the
    // program reads Kafka's real decision instead of restating it.
    @SuppressWarnings({"unchecked", "rawtypes"})
    static void setState(TransactionManager tm, String state) throws Exception {
        Field f = TransactionManager.class.getDeclaredField("currentState");
        f.setAccessible(true);
        f.set(tm, Enum.valueOf((Class<Enum>) f.getType(), state));
    }

    static boolean call(TransactionManager tm, String method) throws Exception {
        Method m = TransactionManager.class.getDeclaredMethod(method);
        m.setAccessible(true);
        return (Boolean) m.invoke(tm);
    }
}
