//! All API tests in one binary (one link, fast builds). Each test runs on
//! SQLite and, when FENGQIAO_TEST_PG_URL is set, on PostgreSQL.

mod addresses;
mod audit;
mod authz;
mod closed_loop;
mod desk;
mod dispatch;
mod disputes;
mod errors;
mod field_reports;
mod figures;
mod group_commit;
mod helpers;
mod incidents;
mod layers;
mod live;
mod open311;
mod openapi;
mod overview;
mod personal;
mod prevention_figures;
mod report;
mod sessions;
mod tasks;
mod warning_delivery;
mod warnings;
