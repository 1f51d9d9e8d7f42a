// Probes what a Kafka broker accepts of two-phase commit (KIP-939), with Kafka's own Java client.
//
// Run as a single-file program with the kafka-clients jar and its dependencies on the class path:
//   L=~/.cache/kprod-kafka/4.4.0/libs
//   java -cp "$L/kafka-clients-4.4.0.jar:$L/slf4j-api-1.7.36.jar:$L/lz4-java-1.11.2.jar:$L/snappy-java-1.1.10.7.jar:$L/zstd-jni-1.5.7-17.jar" \
//     tests/java/TwoPhaseCommit.java MODE BOOTSTRAP TOPIC TRANSACTIONAL_ID [ARG]
//
// kafka-clients 4.4.0 has the producer property `transaction.two.phase.commit.enable` and the public
// class PreparedTxnState, but KafkaProducer has no public initTransactions(boolean), prepareTransaction()
// or completeTransaction(PreparedTxnState) yet: this program reaches the producer's TransactionManager by
// reflection (initializeTransactions(boolean keepPreparedTxn), prepareTransaction(),
// preparedTransactionState()), which is what those methods call in Kafka's trunk.
//
// Modes (every producer has transaction.two.phase.commit.enable=true):
//   commit   VALUE   initTransactions, beginTransaction, send VALUE, commitTransaction (no prepare).
//   prepare  VALUE   initTransactions, beginTransaction, send VALUE, flush, prepareTransaction; prints
//                    `prepared <producerId>:<epoch>` and halts the JVM (a crash: nothing aborts it).
//   inproc   VALUE   as prepare, then commits in the same producer (completeTransaction with the
//                    state prepare returned: it matches, so commit); prints `committed`.
//   keep     STATE   a new producer's initializeTransactions(keepPreparedTxn=true); on success commits
//                    if the ongoing prepared transaction is STATE, else aborts; prints what it did,
//                    `nothing kept: ...` when no prepared transaction survived the initialization,
//                    or `init failed <exception class>: <message>`.
//   fresh            a new producer's initTransactions() (keepPreparedTxn=false): aborts any prepared
//                    transaction of the id; prints `initialized`.
// Every outcome line is printed on stdout; the exit code is 0 when the mode's last step succeeded.
//
// What it shows against Kafka 4.4.0 (docs/protocol.md, "Two-phase commit"): commit, inproc and prepare
// work, but keep prints `nothing kept`: kafka-clients 4.4.0 builds InitProducerId without Enable2Pc or
// KeepPreparedTxn (it only logs them), so the broker sees a plain InitProducerId and aborts the
// prepared transaction. Nor does it send Enable2Pc: `kafka-transactions.sh describe` shows a
// prepared transaction's TransactionTimeoutMs as 60000 (the default), and the coordinator aborts it
// after that. Sent on the wire (tests/transactions_2pc_kafka.rs), KeepPreparedTxn is refused by the
// 4.4.0 broker with UNSUPPORTED_VERSION.

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.PreparedTxnState;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.internals.TransactionManager;
import org.apache.kafka.clients.producer.internals.TransactionalRequestResult;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.internals.ProducerIdAndEpoch;

public class TwoPhaseCommit {
    public static void main(String[] args) throws Exception {
        if (args.length < 4) {
            System.err.println("usage: MODE BOOTSTRAP TOPIC TRANSACTIONAL_ID [ARG]");
            System.exit(2);
        }
        String mode = args[0], bootstrap = args[1], topic = args[2], txId = args[3];
        String arg = args.length > 4 ? args[4] : null;
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("transactional.id", txId);
        p.put("transaction.two.phase.commit.enable", "true");
        p.put("max.block.ms", "20000");
        p.put("key.serializer", StringSerializer.class.getName());
        p.put("value.serializer", StringSerializer.class.getName());
        KafkaProducer<String, String> producer = new KafkaProducer<>(p);
        TransactionManager tm = transactionManager(producer);
        try {
            switch (mode) {
                case "commit":
                    producer.initTransactions();
                    producer.beginTransaction();
                    producer.send(new ProducerRecord<>(topic, txId, arg)).get(20, TimeUnit.SECONDS);
                    producer.commitTransaction();
                    System.out.println("committed");
                    break;
                case "prepare":
                case "inproc": {
                    producer.initTransactions();
                    producer.beginTransaction();
                    producer.send(new ProducerRecord<>(topic, txId, arg)).get(20, TimeUnit.SECONDS);
                    producer.flush();
                    tm.prepareTransaction();
                    ProducerIdAndEpoch s = tm.preparedTransactionState();
                    PreparedTxnState state = new PreparedTxnState(s.producerId + ":" + s.epoch);
                    System.out.println("prepared " + state);
                    System.out.flush();
                    if (mode.equals("prepare")) {
                        Runtime.getRuntime().halt(0);
                    }
                    producer.commitTransaction();
                    System.out.println("committed");
                    break;
                }
                case "keep": {
                    PreparedTxnState want = new PreparedTxnState(arg);
                    TransactionalRequestResult r = tm.initializeTransactions(true);
                    wakeSender(producer);
                    try {
                        r.await(20, TimeUnit.SECONDS, "initTransactions(keepPreparedTxn=true)");
                    } catch (RuntimeException e) {
                        System.out.println("init failed " + e.getClass().getName() + ": " + e.getMessage());
                        System.exit(1);
                    }
                    System.out.println("init ok (successful " + r.isSuccessful() + ", error " + r.error()
                        + ", prepared " + tm.isPrepared() + ")");
                    ProducerIdAndEpoch s = tm.preparedTransactionState();
                    String ongoing = s.producerId + ":" + s.epoch;
                    System.out.println("ongoing " + ongoing);
                    if (!tm.isPrepared()) {
                        // Kafka 4.4.0: the client never puts KeepPreparedTxn on the wire, so this
                        // InitProducerId was a plain one and aborted the prepared transaction.
                        System.out.println("nothing kept: the prepared transaction was aborted");
                        producer.close();
                        System.exit(1);
                    } else if (ongoing.equals(want.toString())) {
                        producer.commitTransaction();
                        System.out.println("committed");
                    } else {
                        producer.abortTransaction();
                        System.out.println("aborted");
                    }
                    break;
                }
                case "fresh":
                    producer.initTransactions();
                    System.out.println("initialized");
                    break;
                default:
                    System.err.println("unknown mode " + mode);
                    System.exit(2);
            }
        } catch (Exception e) {
            System.out.println("failed " + e.getClass().getName() + ": " + e.getMessage());
            producer.close(java.time.Duration.ZERO);
            System.exit(1);
        }
        producer.close();
    }

    static TransactionManager transactionManager(KafkaProducer<?, ?> producer) throws Exception {
        Field f = KafkaProducer.class.getDeclaredField("transactionManager");
        f.setAccessible(true);
        return (TransactionManager) f.get(producer);
    }

    static void wakeSender(KafkaProducer<?, ?> producer) throws Exception {
        Field f = KafkaProducer.class.getDeclaredField("sender");
        f.setAccessible(true);
        Object sender = f.get(producer);
        Method m = sender.getClass().getMethod("wakeup");
        m.invoke(sender);
    }
}
