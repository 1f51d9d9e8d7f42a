// The broker side of a benchmark run (scripts/bench-compare): one line of counters read over JMX from a
// broker started with scripts/kafka up --jmx, taken before and after each client's run.
//
//   java BrokerStats.java 127.0.0.1:PORT
//   -> produce_requests=N messages_in=N bytes_in=N produce_time_ms_sum=X
//
// Kafka 4.x ships no JmxTool any more, hence this. Counts are Yammer meters' totals since the broker
// started; the script takes differences.
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

public class BrokerStats {
    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: BrokerStats HOST:PORT");
            System.exit(2);
        }
        JMXServiceURL url = new JMXServiceURL("service:jmx:rmi:///jndi/rmi://" + args[0] + "/jmxrmi");
        try (JMXConnector c = JMXConnectorFactory.connect(url)) {
            MBeanServerConnection s = c.getMBeanServerConnection();
            long requests = count(s, "kafka.network:type=RequestMetrics,name=RequestsPerSec,request=Produce,*");
            long messages = count(s, "kafka.server:type=BrokerTopicMetrics,name=MessagesInPerSec");
            long bytes = count(s, "kafka.server:type=BrokerTopicMetrics,name=BytesInPerSec");
            System.out.printf("produce_requests=%d messages_in=%d bytes_in=%d%n", requests, messages, bytes);
        }
    }

    /** The sum of the Count attribute over every MBean the pattern matches (0 when none does yet). */
    static long count(MBeanServerConnection s, String pattern) throws Exception {
        long sum = 0;
        for (ObjectName n : s.queryNames(new ObjectName(pattern), null)) {
            sum += ((Number) s.getAttribute(n, "Count")).longValue();
        }
        return sum;
    }
}
