package work_test

import "github.com/coditect/hyperscale/shared/page"

// testCursors signs the cursors of the lists these tests parse, with a fixed key.
var testCursors = page.NewCursors([]byte("work tests' cursor key, 32 bytes and more"))
