//! vodozemac's `hazmat` module holds low-level primitives only with its `low-level-api`
//! feature; this crate does not provide them (see the README): the module is empty.
