package cache_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgsize/imgsize/pkg/cache"
)

// A CI job keeps its cache bounded: entries unused for 30 days go, then
// the least recently used ones until at most the size given remains.
func ExampleCache_Prune() {
	dir, err := os.MkdirTemp("", "imgsize-cache-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	c := cache.New(dir)
	h := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("ab", 32)}
	_ = c.Put(h, cache.Entry{Uncompressed: 4096, Provenance: "exact"})
	_ = c.PutBlob("files", h, []byte("a layer's file list"))

	info, err := c.Info(ctx)
	if err != nil {
		panic(err)
	}
	for _, u := range info.Kinds {
		fmt.Println(u.Kind, u.Entries)
	}
	res, err := c.Prune(ctx, 30*24*time.Hour, 0)
	if err != nil {
		panic(err)
	}
	fmt.Println("removed", res.Removed.Total.Entries, "kept", res.Kept.Total.Entries)
	// Output:
	// files 1
	// layers 1
	// removed 2 kept 0
}
