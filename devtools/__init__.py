"""Support for the tests and the benchmarks (throwaway databases, live servers); not
part of the installed service."""
