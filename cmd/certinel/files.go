package main

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// maxFileSize bounds what the offline commands read from one file: a PEM
// file, a store or a password file is a few KiB, so 8 MiB is plenty and
// /dev/zero or a stray disk image fails at once instead of filling memory.
const maxFileSize = 8 << 20

// readFile returns the content of path, or an error when it is larger than
// maxFileSize. It never reads more than one byte past the limit, whatever
// the file is: a regular file, a device or a pipe.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if info, err := f.Stat(); err == nil && info.Mode().IsRegular() && info.Size() > maxFileSize {
		return nil, tooLarge(path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFileSize {
		return nil, tooLarge(path)
	}
	return data, nil
}

func tooLarge(path string) error {
	return fmt.Errorf("%s is larger than 8 MiB; certinel reads at most 8 MiB per file (PEM files, stores and passwords are a few KiB)", path)
}

// readPasswordFile returns the password in path without one trailing
// newline (LF or CRLF). A password that is empty or only white space is
// refused: it is a mistake, not a password.
func readPasswordFile(path string) (string, error) {
	b, err := readFile(path)
	if err != nil {
		return "", err
	}
	pw := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if strings.TrimSpace(pw) == "" {
		return "", fmt.Errorf("%s: the password is empty or only white space", path)
	}
	return pw, nil
}
