//! The expectations file, the verdict against a fake inspector, and the JUnit report.

mod fake;
mod file;
mod junit;
mod verdict;
