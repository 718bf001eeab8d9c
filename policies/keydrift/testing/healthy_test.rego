package keydrift.testing_test

import data.keydrift.testing

test_healthy_key_has_no_findings if {
	count(testing.findings(testing.key({}))) == 0
}

test_provider_managed_keys_are_judged_by_no_key_rule if {
	item := testing.key({
		"managedBy": "provider",
		"algorithm": "3DES",
		"keySize": 112,
		"rotation": {"supported": true, "automatic": false},
		"access": {"public": true, "adminAndUse": ["arn:aws:iam::1:root"]},
		"attributes": {"extractable": true, "sensitive": false, "exportable": true, "plaintextBackup": true},
	})
	count(testing.findings(item)) == 0
}
