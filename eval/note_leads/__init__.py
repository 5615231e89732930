"""The labelled note-leads set and the script that builds it (see LABELLING.md)."""
