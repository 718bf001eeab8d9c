# METADATA
# title: keydrift entrypoint
# description: Every built-in rule's findings, as one set; the engine evaluates only this.
# entrypoint: true
package keydrift.main

findings := (((((data.keydrift.certificates.findings | data.keydrift.governance.findings) | data.keydrift.rotation.findings) | data.keydrift.algorithms.findings) | data.keydrift.retirement.findings) | data.keydrift.hsm.findings) | data.keydrift.access.findings
