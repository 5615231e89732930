"""The hash-chained audit log, its bundles, and backup/restore of the SDI home."""
