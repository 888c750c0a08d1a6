//go:build !linux

package testregistry

import (
	"errors"
	"syscall"
)

// The registry is only run on Linux (requireTools skips elsewhere); these
// stubs keep the package compiling on other systems.

func sysProcAttr() *syscall.SysProcAttr { return nil }

func signalGroup(pid int, sig syscall.Signal) error {
	return errors.New("testregistry: process groups are only handled on Linux")
}
