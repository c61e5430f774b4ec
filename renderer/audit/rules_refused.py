"""(new rules, next commit)"""
RULE_FUNCTIONS = ()
