//go:build !linux

package testengine

import (
	"errors"
	"syscall"
)

// Elsewhere than Linux, requirePodman skips every test before these run.
func sysProcAttr() *syscall.SysProcAttr { return nil }

func signalGroup(int, syscall.Signal) error { return errors.New("not supported") }
