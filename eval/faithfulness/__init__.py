"""The faithfulness set: labelled model sentences over service records (see LABELLING.md)."""
