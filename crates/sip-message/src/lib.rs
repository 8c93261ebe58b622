//! SIP message layer: parsing and serialization of RFC 3261 messages.
#![deny(missing_docs)]
