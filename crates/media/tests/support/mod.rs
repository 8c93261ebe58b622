//! Test support shared by the behaviour tests: a simulated link, a session pair on
//! virtual time, tone generation and frequency measurement.
#![allow(dead_code, unused_imports)]

pub mod call_pair;
pub mod session_pair;
pub mod sim_link;
pub mod tone;

pub use call_pair::CallPair;
pub use session_pair::SessionPair;
pub use sim_link::{Datagram, LinkProfile, SimLink};
pub use tone::{dominant_frequency, goertzel_power, rms, sine};
