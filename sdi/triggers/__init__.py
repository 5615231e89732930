"""Trigger engine: rules file, set-based detection, evidence, opportunities, priority and routing."""
