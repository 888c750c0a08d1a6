package memo

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

// TestDo: concurrent callers of one key share one computation; a kept
// value is not computed again; an error and a value not kept are
// computed again by the next caller; keys do not share.
func TestDo(t *testing.T) {
	var m Map[int]
	var calls atomic.Int64
	release, started := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	results := make([]int, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := m.Do("a", func() (int, bool, error) {
				if calls.Add(1) == 1 {
					close(started)
				}
				<-release
				return 42, true, nil
			})
			if err != nil {
				t.Error(err)
			}
			results[i] = v
		}()
	}
	// The callers pile up on the one computation; then it finishes (a
	// caller arriving after that gets the kept value).
	<-started
	close(release)
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Errorf("%d computations for 8 concurrent callers, want 1", n)
	}
	for i, v := range results {
		if v != 42 {
			t.Errorf("caller %d got %d, want 42", i, v)
		}
	}
	if v, _ := m.Do("a", func() (int, bool, error) { calls.Add(1); return 0, true, nil }); v != 42 || calls.Load() != 1 {
		t.Errorf("kept value: got %d after %d computations, want 42 after 1", v, calls.Load())
	}

	fail := errors.New("registry busy")
	if _, err := m.Do("b", func() (int, bool, error) { return 0, true, fail }); !errors.Is(err, fail) {
		t.Errorf("err = %v, want the computation's", err)
	}
	if v, err := m.Do("b", func() (int, bool, error) { return 7, false, nil }); v != 7 || err != nil {
		t.Errorf("after an error: %d, %v; want 7 computed again", v, err)
	}
	if v, _ := m.Do("b", func() (int, bool, error) { return 8, true, nil }); v != 8 {
		t.Errorf("after a value not kept: %d, want 8 computed again", v)
	}
	if v, _ := m.Do("b", func() (int, bool, error) { return 9, true, nil }); v != 8 {
		t.Errorf("after a kept value: %d, want 8 kept", v)
	}
}

// TestNilInterface: a nil value of an interface type is a value like any
// other, not a panic.
func TestNilInterface(t *testing.T) {
	var m Map[error]
	for range 2 {
		v, err := m.Do("k", func() (error, bool, error) { return nil, true, nil })
		if v != nil || err != nil {
			t.Errorf("got %v, %v; want nil, nil", v, err)
		}
	}
}
