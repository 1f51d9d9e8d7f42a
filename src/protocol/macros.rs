//! `kafka_struct!`: declares a protocol struct once, with each field's version range, and derives its
//! [`Wire`](crate::protocol::primitives::Wire) encoding from that declaration.
//!
//! ```text
//! kafka_struct! {
//!     /// Doc.
//!     pub struct FooRequest {
//!         /// Doc; v0+.
//!         pub name: String => 0..,
//!         /// Doc; v2 to v4.
//!         pub old: i32 => 2..=4,
//!         /// Doc; v1+, schema default -1 (what decoding an older version yields).
//!         pub epoch: i64 => 1..; default -1,
//!     }
//!     tagged {
//!         /// Doc; tag 0, v5+.
//!         pub extra: Option<String> => (0, 5..),
//!     }
//! }
//! ```
//!
//! Regular fields are written in declaration order when the version lies in their range and skipped
//! otherwise (decoding leaves them at their `Default`). In flexible versions a tagged-field section
//! follows; tagged fields equal to their default are omitted, and unknown tags are skipped on read.

/// Declares a Kafka protocol struct and its versioned wire encoding. See the module docs.
#[macro_export]
#[doc(hidden)]
macro_rules! kafka_struct {
    (@default) => { Default::default() };
    (@default $e:expr) => { $e };
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[$fmeta:meta])*
                pub $field:ident : $ty:ty => $range:expr $(; default $def:expr)?
            ),* $(,)?
        }
        $(
            tagged {
                $(
                    $(#[$tmeta:meta])*
                    pub $tfield:ident : $tty:ty => ($tag:literal, $trange:expr) $(; default $tdef:expr)?
                ),* $(,)?
            }
        )?
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        #[cfg_attr(test, derive(proptest_derive::Arbitrary))]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
            $($( $(#[$tmeta])* pub $tfield: $tty, )*)?
        }

        impl Default for $name {
            /// Every field at its schema default (zero, empty or null unless the schema says otherwise).
            fn default() -> Self {
                Self {
                    $( $field: $crate::kafka_struct!(@default $($def)?), )*
                    $($( $tfield: $crate::kafka_struct!(@default $($tdef)?), )*)?
                }
            }
        }

        impl $crate::protocol::primitives::Wire for $name {
            #[allow(unused_variables)]
            fn encode(
                &self,
                out: &mut Vec<u8>,
                cx: $crate::protocol::primitives::Ctx,
            ) -> Result<(), $crate::protocol::ProtocolError> {
                use $crate::protocol::primitives::in_range;
                $(
                    if in_range(&($range), cx.version) {
                        $crate::protocol::primitives::Wire::encode(&self.$field, out, cx)?;
                    }
                )*
                if cx.flexible {
                    #[allow(unused_mut)]
                    let mut tagged: Vec<(u32, Vec<u8>)> = Vec::new();
                    $($(
                        if in_range(&($trange), cx.version)
                            && self.$tfield != {
                                let d: $tty = $crate::kafka_struct!(@default $($tdef)?);
                                d
                            }
                        {
                            let mut buf = Vec::new();
                            $crate::protocol::primitives::Wire::encode(&self.$tfield, &mut buf, cx)?;
                            tagged.push(($tag, buf));
                        }
                    )*)?
                    $crate::protocol::primitives::put_tagged_fields(out, &tagged)?;
                }
                Ok(())
            }

            #[allow(unused_variables, unused_mut)]
            fn decode(
                r: &mut $crate::protocol::primitives::Reader<'_>,
                cx: $crate::protocol::primitives::Ctx,
            ) -> Result<Self, $crate::protocol::ProtocolError> {
                use $crate::protocol::primitives::in_range;
                let mut this = Self::default();
                $(
                    if in_range(&($range), cx.version) {
                        this.$field = $crate::protocol::primitives::Wire::decode(r, cx)?;
                    }
                )*
                if cx.flexible {
                    let n = r.uvarint()?;
                    for _ in 0..n {
                        let tag = r.uvarint()?;
                        let size = r.uvarint()? as usize;
                        // The field's bytes are read through a sub-reader that spends this reader's budget.
                        r.sub_reader(size, |sub| {
                            match tag {
                                $($(
                                    $tag if in_range(&($trange), cx.version) => {
                                        this.$tfield = $crate::protocol::primitives::Wire::decode(sub, cx)?;
                                    }
                                )*)?
                                _ => {} // unknown tags are skipped (KIP-482)
                            }
                            Ok(())
                        })?;
                    }
                }
                Ok(this)
            }

            /// The regular fields of this version at their minimum, plus the tagged-field count in
            /// flexible versions (tagged fields are optional, so they add nothing).
            #[allow(unused_variables, unused_mut)]
            fn min_encoded_size(cx: $crate::protocol::primitives::Ctx) -> usize {
                use $crate::protocol::primitives::in_range;
                let mut n = 0usize;
                $(
                    if in_range(&($range), cx.version) {
                        n += <$ty as $crate::protocol::primitives::Wire>::min_encoded_size(cx);
                    }
                )*
                if cx.flexible {
                    n += 1;
                }
                n
            }
        }
    };
}

/// Implements [`Message`](crate::protocol::Message) for a top-level request or response body; a trailing
/// `; budget N` overrides its decode budget factor.
#[macro_export]
#[doc(hidden)]
macro_rules! kafka_message {
    ($name:ident, $api:expr, $min:expr, $max:expr, $flex:expr $(; budget $factor:expr)?) => {
        impl $crate::protocol::Message for $name {
            const API_KEY: $crate::protocol::ApiKey = $api;
            const MIN_VERSION: i16 = $min;
            const MAX_VERSION: i16 = $max;
            const FLEXIBLE_FROM: i16 = $flex;
            $(const DECODE_BUDGET_FACTOR: usize = $factor;)?
        }
    };
}
