package testregistry

import (
	"errors"
	"syscall"
)

// sysProcAttr puts the registry into a process group of its own so that it
// can be signalled as a group, and asks the kernel to kill it if the thread
// that started it dies (for example when the test binary is killed on a
// timeout), which t.Cleanup cannot handle.
//
// Pdeathsig is tied to the starting OS thread, not the process; the Go
// runtime does not end threads of goroutines that are not locked to them, so
// in practice it fires when the test binary exits.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// signalGroup sends sig to the process group led by pid. A group that no
// longer exists is not an error.
func signalGroup(pid int, sig syscall.Signal) error {
	if err := syscall.Kill(-pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return nil
}
