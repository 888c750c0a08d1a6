package comment

import (
	"testing"

	"github.com/imgsize/imgsize/internal/testmain"
)

// TestMain ends the binary without the race detector's pause at exit.
func TestMain(m *testing.M) { testmain.Run(m) }
