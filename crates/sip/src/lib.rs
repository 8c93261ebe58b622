//! Sans-IO SIP protocol machines.
#![deny(missing_docs)]
