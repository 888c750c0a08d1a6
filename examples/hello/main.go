// Command hello is the program packaged by the README's image-size demo.
// It is deliberately trivial: the demo is about what ships around the binary.
package main

import "fmt"

func main() {
	fmt.Println("hello from imgsize example")
}
