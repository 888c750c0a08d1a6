package cache

// Test access to the entry encoding, so tests can forge entries whose
// checksum is valid and check that the field checks still refuse them.
var Checksum = checksum

const Version = version
