package config_test

import (
	"fmt"

	"github.com/imgsize/imgsize/pkg/config"
)

func ExampleParse() {
	data := []byte(`version: 1
defaults:
  max-compressed: 50MB
  max-growth: 5%
  baseline: baseline.json
images:
  - image: docker://localhost:5000/app:latest
    max-compressed: 80MB
    max-growth: none
`)
	f, err := config.Parse("imgsize.yaml", data)
	if err != nil {
		fmt.Println(err)
		return
	}
	e, _ := f.Lookup("docker://localhost:5000/app:latest")
	s := f.Settings(e)
	b := s.Budgets()
	fmt.Println("line:", e.Line)
	fmt.Println("max-compressed:", *b.MaxCompressed)
	fmt.Println("max-growth set:", b.MaxGrowth != nil)
	fmt.Println("baseline:", *s.Baseline)
	fmt.Println("warn-at:", b.WarnAt)

	_, err = config.Parse("imgsize.yaml", []byte("defaults:\n  max-growth: 5 percent\n"))
	fmt.Println(err)
	// Output:
	// line: 7
	// max-compressed: 80000000
	// max-growth set: false
	// baseline: baseline.json
	// warn-at: 0.9
	// imgsize.yaml:2: max-growth: "5 percent" is not a growth limit (write 5% or a size such as 10MB)
}
