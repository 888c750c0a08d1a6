package comment_test

import (
	"errors"
	"fmt"

	"github.com/imgsize/imgsize/pkg/comment"
)

func ExampleMarker() {
	untagged, _ := comment.Marker("")
	perImage, _ := comment.Marker("api-image")
	fmt.Println(untagged)
	fmt.Println(perImage)
	// Output:
	// <!-- imgsize-comment -->
	// <!-- imgsize-comment tag=api-image -->
}

func ExampleDetect() {
	// A GitLab CI branch pipeline: no merge request, nothing to comment on.
	env := map[string]string{"GITLAB_CI": "true", "CI_PROJECT_ID": "42", "CI_PIPELINE_SOURCE": "push"}
	_, err := comment.Detect(func(k string) string { return env[k] }, nil)
	fmt.Println(errors.Is(err, comment.ErrNoPullRequest))
	// Output:
	// true
}
