package main

import (
	"io"
	"os"
)

func writerOrNil(f *os.File) io.Writer {
	if f == nil {
		return nil
	}
	return f
}
