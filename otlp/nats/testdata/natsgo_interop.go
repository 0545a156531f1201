// natsgo_interop: the official Go client (nats.go 1.22, Debian's sources) on the other side of
// otlp::nats's KV and Object Store, for natsgo_interop_test. Built by the test, offline.
//
//	natsgo_interop <url> obj-put <bucket> <name> <size> <seed>  → "<size> <digest>"
//	natsgo_interop <url> obj-get <bucket> <name>                → "<size> <digest>" (verified)
//	natsgo_interop <url> obj-meta <bucket> <name>               → the stored info, raw
//	natsgo_interop <url> kv-put <bucket> <key> <value>          → "<revision>"
//	natsgo_interop <url> kv-get <bucket> <key>                  → "<revision> <value>"
//
// Errors go to stderr with exit status 1 ("not found" as exit status 2).
package main

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"strconv"

	"github.com/nats-io/nats.go"
)

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	if errors.Is(err, nats.ErrKeyNotFound) || errors.Is(err, nats.ErrObjectNotFound) {
		os.Exit(2)
	}
	os.Exit(1)
}

func main() {
	nc, err := nats.Connect(os.Args[1])
	if err != nil {
		fail(err)
	}
	defer nc.Close()
	js, err := nc.JetStream()
	if err != nil {
		fail(err)
	}
	args := os.Args[3:]
	switch os.Args[2] {
	case "obj-put":
		obs, err := js.ObjectStore(args[0])
		if err != nil {
			fail(err)
		}
		n, _ := strconv.Atoi(args[2])
		seed, _ := strconv.Atoi(args[3])
		data := make([]byte, n)
		rand.New(rand.NewSource(int64(seed))).Read(data)
		info, err := obs.PutBytes(args[1], data)
		if err != nil {
			fail(err)
		}
		fmt.Printf("%d %s\n", info.Size, info.Digest)
	case "obj-get":
		obs, err := js.ObjectStore(args[0])
		if err != nil {
			fail(err)
		}
		data, err := obs.GetBytes(args[1]) // checks the digest
		if err != nil {
			fail(err)
		}
		sum := sha256.Sum256(data)
		fmt.Printf("%d SHA-256=%s\n", len(data), base64.URLEncoding.EncodeToString(sum[:]))
	case "obj-meta":
		m, err := js.GetLastMsg("OBJ_"+args[0], "$O."+args[0]+".M."+base64.URLEncoding.EncodeToString([]byte(args[1])))
		if err != nil {
			fail(err)
		}
		os.Stdout.Write(m.Data)
	case "kv-put":
		kv, err := js.KeyValue(args[0])
		if err != nil {
			fail(err)
		}
		rev, err := kv.Put(args[1], []byte(args[2]))
		if err != nil {
			fail(err)
		}
		fmt.Printf("%d\n", rev)
	case "kv-get":
		kv, err := js.KeyValue(args[0])
		if err != nil {
			fail(err)
		}
		e, err := kv.Get(args[1])
		if err != nil {
			fail(err)
		}
		fmt.Printf("%d %s\n", e.Revision(), e.Value())
	default:
		fail(fmt.Errorf("unknown command %q", os.Args[2]))
	}
}
