// Command vault is Vault's own CLI entry point (github.com/hashicorp/vault's main.go), built from
// a wrapper module so that `go build` can resolve Vault's dependencies without its `replace` lines.
package main

import (
	"os"

	"github.com/hashicorp/vault/command"
)

func main() {
	os.Exit(command.Run(os.Args[1:]))
}
