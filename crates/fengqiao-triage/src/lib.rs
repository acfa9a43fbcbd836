//! fengqiao-triage
