//! fengqiao-store
