import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigDef;
import java.util.*;
// Prints every key of the Java producer's ProducerConfig.configDef() as a Rust tuple (name, TYPE, default),
// sorted by name: the list JAVA_4_4_0 in src/config.rs's tests. The default is None when there is none,
// Some("null") for null, a list joined with ",", a class's name. Run as a single-file program:
//   L=~/.cache/kprod-kafka/4.4.0/libs
//   java -cp "$L/kafka-clients-4.4.0.jar:$L/slf4j-api-1.7.36.jar" tests/java/ProducerConfigDump.java
public class ProducerConfigDump {
  public static void main(String[] a) {
    for (ConfigDef.ConfigKey k : new TreeMap<>(ProducerConfig.configDef().configKeys()).values()) {
      Object d = k.defaultValue;
      String ds;
      if (d == ConfigDef.NO_DEFAULT_VALUE) ds = "None";
      else {
        String s;
        if (d == null) s = "null";
        else if (d instanceof Class) s = ((Class<?>) d).getName();
        else if (d instanceof List) { StringJoiner j = new StringJoiner(","); for (Object o : (List<?>) d) j.add(o.toString()); s = j.toString(); }
        else s = d.toString();
        ds = "Some(\"" + s + "\")";
      }
      System.out.println("        (\"" + k.name + "\", \"" + k.type + "\", " + ds + "),");
    }
  }
}
