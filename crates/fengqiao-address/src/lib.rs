//! fengqiao-address
