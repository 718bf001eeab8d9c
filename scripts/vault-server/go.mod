module keydrift.local/vault-server

go 1.20

require (
	github.com/hashicorp/vault v1.14.8
	github.com/hashicorp/vault/api v1.9.2
	github.com/hashicorp/vault/api/auth/approle v0.1.0
	github.com/hashicorp/vault/api/auth/kubernetes v0.4.1
	github.com/hashicorp/vault/api/auth/userpass v0.1.0
	github.com/hashicorp/vault/sdk v0.9.2
)
