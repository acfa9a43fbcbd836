//! Standard addresses (标准地址): China's administrative divisions, province to
//! township, embedded in the binary, and a fast resolver from the free text
//! people type to a structured address with division codes.
//!
//! Pure: no I/O and no async. The village/community file (too large to embed)
//! is parsed by [`parse_villages`] from text the caller reads.
//!
//! ```
//! let resolver = fengqiao_address::Resolver::new();
//! let address = resolver.resolve("浙江省嘉兴市秀洲区嘉州美都194栋2064商铺");
//! assert_eq!(address.county_code.as_deref(), Some("330411"));
//! assert_eq!(address.building.as_deref(), Some("194"));
//! ```

mod detail;
mod division;
pub mod eval;
mod name_index;
mod names;
pub mod registry;
mod resolver;

pub use detail::identifier;
pub use division::{parse_villages, DataError, Division, DivisionTable, Level, Status, Village};
pub use names::{core_name, normalize};
pub use resolver::{Alternative, DivisionMention, ResolvedAddress, Resolver};
