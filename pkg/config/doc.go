// Package config reads imgsize.yaml, the CI gate's budgets, and the size,
// growth and fraction values that budgets are written in (on the command
// line too).
//
// It sits beside analysis in the flow: it turns text into analysis.Budgets
// and knows nothing of sources, reports or the command line.
//
// # The file
//
// Keys are the command-line flags without "--", so one vocabulary serves
// both:
//
//	version: 1                  # optional; 1 is the only version
//	defaults:                   # every image's budgets, unless it says otherwise
//	  max-compressed: 50MB      # a size: ParseSize
//	  max-uncompressed: 200MiB
//	  max-layers: 20            # a whole number, 0 or more
//	  max-growth: 5%            # ParseGrowth; measured against baseline
//	  growth-basis: compressed  # ParseBasis
//	  warn-at: 90%              # ParseFraction; off never warns
//	  baseline: baseline.json
//	images:
//	  - image: oci:examples/out:multistage
//	    baseline: report.json
//	    max-compressed: 5MB
//	  - image: docker://localhost:5000/app:latest
//	    max-growth: none        # removes the value defaults gave
//
// Images and baselines are image arguments exactly as on the command line
// (paths are relative to the working directory, not to the file). "none"
// removes an inherited value from any key but warn-at, where it is the
// value 0: never warn. An empty file is valid and sets nothing.
//
// Every error about the file starts "NAME:LINE: " and wraps
// errdefs.ErrUsage. Aliases are refused: expanding them is how a small
// YAML file becomes a huge one, and a few budgets need none.
package config
