//! The in-process mock Kafka cluster (being written).
