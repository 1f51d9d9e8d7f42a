//! Authentication and transport security for broker connections.

pub(crate) mod sasl;
