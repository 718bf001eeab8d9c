package keydrift.access_test

import data.keydrift.testing

test_public_key_is_critical if {
	item := testing.key({"access": {"public": true, "adminAndUse": []}, "evidence": {"publicPrincipals": ["*"], "publicActions": ["kms:Decrypt"], "publicGrantSource": "key policy statement Public"}})
	f := testing.finding(item, "KD-ACC-001")
	f.severity == "critical"
	f.evidence.actions == ["kms:Decrypt"]
}

test_public_unknown_or_false_does_not_fire if {
	not "KD-ACC-001" in testing.rules(testing.key({"access": {"public": null, "adminAndUse": []}}))
	not "KD-ACC-001" in testing.rules(testing.key({"access": null}))
}

test_public_key_pending_deletion_is_not_judged if {
	not "KD-ACC-001" in testing.rules(testing.key({"state": "pending-deletion", "access": {"public": true, "adminAndUse": []}}))
}

test_admin_and_use_overlap_fires if {
	item := testing.key({"access": {"public": false, "adminAndUse": ["arn:aws:iam::111122223333:role/b", "arn:aws:iam::111122223333:role/a"]}})
	f := testing.finding(item, "KD-ACC-002")
	f.severity == "medium"
	f.evidence.principalCount == 2
	f.evidence.principals == ["arn:aws:iam::111122223333:role/a", "arn:aws:iam::111122223333:role/b"]
}

test_no_overlap_does_not_fire if {
	not "KD-ACC-002" in testing.rules(testing.key({}))
}
