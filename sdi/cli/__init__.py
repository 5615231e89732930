"""The `sdi` command line: one thin module per command family."""
