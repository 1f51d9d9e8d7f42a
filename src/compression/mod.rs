//! Kafka compression codecs (being written).
