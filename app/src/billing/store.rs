//! The billing tables' SQL (migration 0009).
