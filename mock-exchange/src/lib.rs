//! Mock on-premises Exchange 2013/2016 for hma-lab.
pub mod model;
pub mod surfaces;
