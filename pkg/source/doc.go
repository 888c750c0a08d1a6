// Package source turns one command-line argument into a v1.Image.
//
// It is the first step of imgsize's one-way flow (source → layers →
// analysis → report): it knows the transports (registry, docker-archive,
// oci, oci-archive, dir), platform selection inside an index, and how to read
// local archives without extracting them. It knows nothing of sizes,
// comparisons or output.
package source
