// Command etcd is the etcd server, built from go.etcd.io/etcd/server/v3 at a published
// version. etcd's own main module (go.etcd.io/etcd/v3) replaces its sibling modules with
// relative paths, which go install refuses; its main.go is exactly this call.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
