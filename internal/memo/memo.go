// Package memo keeps the results of a run's work by key: the first
// caller of a key computes its value, concurrent callers of the same key
// wait for that one computation, and later callers get the kept value.
// What is kept is the computation's call: a failure, or a value that only
// says how things were at one moment, is handed to the callers that
// waited and computed again by the next.
package memo

import (
	"sync"

	"golang.org/x/sync/singleflight"
)

// Map is a memo of V by string key. The zero value is ready; it is safe
// for concurrent use.
type Map[V any] struct {
	mu  sync.Mutex
	got map[string]V
	sf  singleflight.Group
}

// Do returns key's kept value, or computes it: once for every concurrent
// caller of key. compute says whether its value is kept; an error is
// never kept.
func (m *Map[V]) Do(key string, compute func() (v V, keep bool, err error)) (V, error) {
	m.mu.Lock()
	v, ok := m.got[key]
	m.mu.Unlock()
	if ok {
		return v, nil
	}
	r, err, _ := m.sf.Do(key, func() (any, error) {
		// A caller that looked before the last flight kept its value,
		// and came after it ended, finds the value here.
		m.mu.Lock()
		v, ok := m.got[key]
		m.mu.Unlock()
		if ok {
			return v, nil
		}
		v, keep, err := compute()
		if err != nil {
			return nil, err
		}
		if keep {
			m.mu.Lock()
			if m.got == nil {
				m.got = map[string]V{}
			}
			m.got[key] = v
			m.mu.Unlock()
		}
		return v, nil
	})
	if err != nil {
		var zero V
		return zero, err
	}
	// A nil interface value comes back as a nil any.
	v, _ = r.(V)
	return v, nil
}
