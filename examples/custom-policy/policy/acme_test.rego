package keydrift.custom_test

import data.keydrift.custom

prod_key(tags) := {"uid": "k1", "kind": "key", "managedBy": "customer", "state": "enabled", "tags": object.union({"env": "prod"}, tags)}

leaf(issuer) := {"uid": "c1", "kind": "certificate", "certificate": {"issuer": issuer, "isCA": false}}

rule_ids(items) := ids if {
	ids := {f.rule | some f in custom.findings} with input as {"items": items}
}

test_prod_key_without_app_tag_fires if {
	some f in custom.findings with input as {"items": [prod_key({"owner": "team-a"})]}
	f.rule == "ACME-001"
	f.evidence.missing == "app"
}

test_prod_key_with_both_tags_passes if {
	count(rule_ids([prod_key({"owner": "team-a", "app": "orders"})])) == 0
}

test_non_prod_and_provider_keys_are_out_of_scope if {
	count(rule_ids([object.union(prod_key({}), {"tags": {"env": "dev"}})])) == 0
	count(rule_ids([object.union(prod_key({}), {"managedBy": "provider"})])) == 0
}

test_foreign_issuer_fires_corporate_issuer_passes if {
	rule_ids([leaf("CN=Other CA, O=Elsewhere")]) == {"ACME-002"}
	count(rule_ids([leaf("CN=Example Corp Issuing CA 1, O=Example Corp")])) == 0
}

test_every_finding_has_a_catalogue_entry if {
	ids := rule_ids([prod_key({}), leaf("CN=Other")])
	every id in ids {
		custom.rules[id].title
	}
}
