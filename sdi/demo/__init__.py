"""The demo installed base: generator, realistic note texts, and the `sdi demo` run."""
