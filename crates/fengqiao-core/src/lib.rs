//! fengqiao-core
