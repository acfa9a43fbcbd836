//! fengqiao-server
