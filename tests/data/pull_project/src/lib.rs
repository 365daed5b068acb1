//! A fixture project for the pull-prod CLI tests.
