//! What a test expects of the identity model, and the verdict against a running inspector.
//!
//! - [`Expectations`] is a parsed expectations file ([`parse`], YAML or JSON): per project, the
//!   ids that must be one person, the ids that must stay apart, findings that must or must not
//!   fire, how many rejected requests are allowed, and events that must have arrived.
//! - [`Facts`] is what the verdict asks of the inspector: the "why are these ids together or
//!   apart" answer, persons, findings, rejected requests, event counts. The command line answers
//!   it from `/api` (the same queries the UI makes), so no identity rule is decided here: this
//!   crate only compares what the vendor's rules produced with what the test expected.
//! - [`evaluate`] turns the two into a [`Report`]: one [`Check`] per expectation, each failure
//!   with the lines that explain it (expected, actual, and the decisions behind the actual).
//! - [`junit`] writes a report as JUnit XML, the format CI systems show as test results.
//!
//! Nothing here does I/O, so every verdict is tested with a fake [`Facts`].

mod facts;
mod file;
mod junit;
mod verdict;

pub use facts::{
    EventQuery, FactError, Facts, Finding, Person, RejectedRequest, Why, WhyEvent, WhyFact, WhySide, WhyStep,
};
pub use file::{
    parse, EventExpectation, Expectations, FileError, FindingExpectations, FindingMatch, Format, PersonExpectation,
    ProjectExpectations,
};
pub use junit::junit;
pub use verdict::{evaluate, Check, CheckKind, ProjectReport, Report};
