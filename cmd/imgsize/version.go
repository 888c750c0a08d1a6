package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/imgsize/imgsize/pkg/errdefs"
)

func newVersionCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print imgsize's version",
		Args:  argsNone,
		RunE: func(*cobra.Command, []string) error {
			if _, err := fmt.Fprintf(g.stdout, "imgsize %s %s %s/%s\n", moduleVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH); err != nil {
				return errdefs.Wrap(errOutput, fmt.Errorf("writing version: %w", err))
			}
			return nil
		},
	}
}
