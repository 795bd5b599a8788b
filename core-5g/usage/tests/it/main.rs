//! Integration tests of hexcore-usage: one binary (see the house style).

mod kill;
