"""Trigger rules: one module per rule in this package, the registry that collects them (plus plug-ins from
SDI_HOME/rules/), and the rules file that configures them (sdi/rules.yaml or SDI_HOME/rules.yaml).

Adding a rule = one module exporting `RULE = Rule(...)` + an entry in the rules file (README "Adding a rule").
"""

from sdi.triggers.rules.base import Case, Rule, RuleParams, Trigger
from sdi.triggers.rules.registry import RULE_IDS, SHIPPED, lookup, plugin_folder, rules_for
from sdi.triggers.rules.file import Priority, Routing, RuleEntry, RulesFile, current_rules, load_rules, parse_rules

__all__ = [
    "Case", "Priority", "RULE_IDS", "Routing", "Rule", "RuleEntry", "RuleParams", "RulesFile", "SHIPPED", "Trigger",
    "current_rules", "load_rules", "lookup", "parse_rules", "plugin_folder", "rules_for",
]
