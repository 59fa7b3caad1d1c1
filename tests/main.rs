//! The one integration-test binary: shared helpers and one module per area.

mod sim;
mod util;
